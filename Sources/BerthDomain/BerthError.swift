import AWSRules

/// An error a caller of Berth can act on: a stable code, a message that names the input and what is
/// wrong with it, and one detail per field at fault. The server maps the code to an HTTP status once,
/// at the edge.
public struct BerthError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The input breaks a rule (400).
        public static let validationFailed = Code(rawValue: "validation_failed")
        /// The request cannot be read at all (400).
        public static let badRequest = Code(rawValue: "bad_request")
        /// No API key, or one that is unknown or revoked (401).
        public static let unauthorized = Code(rawValue: "unauthorized")
        /// The caller is known but lacks the permission the action needs (403).
        public static let forbidden = Code(rawValue: "forbidden")
        /// Too many attempts (failed logins) in too short a time (429).
        public static let tooManyRequests = Code(rawValue: "too_many_requests")
        /// The named record does not exist (404).
        public static let notFound = Code(rawValue: "not_found")
        /// The change clashes with what is stored: a duplicate name, a record still in use (409).
        public static let conflict = Code(rawValue: "conflict")
        /// Berth's own fault (500); the message says what to look at.
        public static let internalError = Code(rawValue: "internal_error")
        /// A dependency (the database) is not available (503).
        public static let unavailable = Code(rawValue: "unavailable")
    }

    /// What is wrong with one input field.
    public struct FieldError: Sendable, Hashable {
        public var field: String
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var code: Code
    public var message: String
    public var details: [FieldError]

    public init(_ code: Code, _ message: String, details: [FieldError] = []) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String { "\(code): \(message)" }

    public static func notFound(_ kind: String, _ reference: String) -> BerthError {
        BerthError(.notFound, "No \(kind) is named or has the id '\(reference)'.")
    }

    /// A validation failure of several fields: the message lists them all.
    public static func invalid(_ what: String, _ details: [FieldError]) -> BerthError {
        let summary = details.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        return BerthError(.validationFailed, "The \(what) is not valid. \(summary)", details: details)
    }
}

/// Collects field errors so that one answer names every problem, not just the first.
public struct ValidationErrors: Sendable {
    public private(set) var details: [BerthError.FieldError] = []

    public init() {}

    public mutating func add(_ field: String, _ message: String) {
        details.append(BerthError.FieldError(field: field, message: message))
    }

    /// Runs `check` and records what it throws under `field`.
    public mutating func check(_ field: String, _ check: () throws -> Void) {
        do {
            try check()
        } catch {
            add(field, "\(Self.message(of: error))")
        }
    }

    public var isEmpty: Bool { details.isEmpty }

    /// Throws a `validationFailed` error naming `what` when anything was recorded.
    public func throwIfAny(_ what: String) throws(BerthError) {
        guard details.isEmpty else { throw BerthError.invalid(what, details) }
    }

    static func message(of error: any Error) -> String {
        if let error = error as? BerthError { return error.message }
        if let error = error as? AWSClientError { return error.message }
        return String(describing: error)
    }
}
