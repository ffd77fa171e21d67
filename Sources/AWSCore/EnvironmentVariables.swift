import Foundation

/// A snapshot of environment variables, read once at the edge and passed down.
///
/// Nothing below the edge calls `getenv`: tests hand the credential chain and the endpoint resolver
/// the variables they want, and never touch the process environment.
public struct EnvironmentVariables: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    public var values: [String: String]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.values = Dictionary(elements, uniquingKeysWith: { _, last in last })
    }

    /// The environment of this process.
    public static var process: EnvironmentVariables {
        EnvironmentVariables(ProcessInfo.processInfo.environment)
    }

    /// The value of `name`, treating an empty or all-blank value as unset, as the AWS SDKs do.
    public subscript(name: String) -> String? {
        get {
            guard let value = values[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        set { values[name] = newValue }
    }

    /// Whether `name` is set to `true` (any case).
    public func isTrue(_ name: String) -> Bool {
        self[name]?.lowercased() == "true"
    }
}
