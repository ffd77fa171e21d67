import AWSCore
import AWSCredentials
import BerthDev
import BerthTestSupport
import Foundation

/// A temporary directory that is removed when the value is released; tests write their config
/// files and token files here.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "berth-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ contents: String) throws -> String {
        let file = "\(path)/\(name)"
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// An environment with nothing from the real machine: HOME is the temporary directory, IMDS is off.
func isolatedEnvironment(_ directory: TemporaryDirectory, _ extra: [String: String] = [:]) -> EnvironmentVariables {
    var values = ["HOME": directory.path, "AWS_EC2_METADATA_DISABLED": "true"]
    values.merge(extra) { _, new in new }
    return EnvironmentVariables(values)
}

extension CredentialResolution {
    var outcomes: [String] { trace.entries.map { "\($0.source): \($0.outcome.rawValue)" } }
}
