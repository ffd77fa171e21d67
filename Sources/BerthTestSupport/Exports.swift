import BerthDev

/// A failure of the test harness itself (not of the code under test).
public typealias TestSupportError = LocalToolError
