// Tests use the local helpers that `berth server --dev` is built on (moto, the simulated ECS, a
// router on a loopback port) together with the test-only fakes of this module.
@_exported import BerthDev

/// A failure of the test harness itself (not of the code under test).
public typealias TestSupportError = LocalToolError
