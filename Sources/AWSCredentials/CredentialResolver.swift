import AWSCore
import AWSSTS
import AWSSigV4
import Foundation

/// Resolves credentials and says how: the chain, a single source, an assume-role on top of either.
public protocol CredentialResolver: Sendable {
    /// Throws `CredentialResolutionError`, whose trace says what every source did.
    func resolve() async throws -> CredentialResolution
}

/// Sources tried in order: the first that finds credentials wins, a skipped source passes to the
/// next, and a source that is configured but fails stops the chain — falling through to another
/// identity would hide the mistake.
public struct CredentialChain: CredentialResolver {
    public let sources: [any CredentialSource]
    public let context: CredentialContext

    public init(sources: [any CredentialSource], context: CredentialContext) {
        self.sources = sources
        self.context = context
    }

    /// The worker's ambient chain: environment variables → shared config and credentials files →
    /// web identity token file → container credentials → IMDSv2.
    public static func standard(context: CredentialContext) -> CredentialChain {
        CredentialChain(
            sources: [
                EnvironmentCredentialSource(), ProfileCredentialSource(), WebIdentityCredentialSource(),
                ContainerCredentialSource(), InstanceMetadataCredentialSource(),
            ],
            context: context)
    }

    public func resolve() async throws -> CredentialResolution {
        var trace = CredentialTrace()
        for (index, source) in sources.enumerated() {
            do {
                switch try await source.load(context) {
                case .skipped(let reason):
                    trace.record(source.name, .skipped, reason)
                case .found(let credentials, let detail, let nested):
                    trace.append(contentsOf: nested)
                    trace.record(source.name, .used, detail)
                    for later in sources[(index + 1)...] {
                        trace.record(later.name, .skipped, "an earlier source gave credentials")
                    }
                    return CredentialResolution(credentials: credentials, trace: trace, source: "\(source.name): \(detail)")
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                let failure = CredentialSourceError.wrapping(error, while: "\(source.name) failed")
                trace.append(contentsOf: failure.nested)
                trace.record(source.name, .failed, failure.message)
                throw CredentialResolutionError(
                    message: "No AWS credentials: \(source.name) failed: \(failure.message)", trace: trace,
                    awsErrorCode: failure.awsErrorCode)
            }
        }
        throw CredentialResolutionError(
            message:
                "No AWS credentials found: every source was skipped. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, choose a profile, or run where a role is available (web identity, container, EC2).",
            trace: trace)
    }
}

/// `AssumeRole` on top of any other resolver, as an ECS target's "assume role" option does.
public struct AssumeRoleResolver: CredentialResolver {
    public struct Options: Sendable, Hashable {
        public var roleARN: String
        /// Generated (`berth-<milliseconds>`) when `nil` or blank.
        public var sessionName: String?
        /// 900–43200 seconds; `nil` uses the role's default.
        public var durationSeconds: Int?
        public var externalID: String?
        public var tags: [SessionTag]

        public init(
            roleARN: String, sessionName: String? = nil, durationSeconds: Int? = nil, externalID: String? = nil,
            tags: [SessionTag] = []
        ) {
            self.roleARN = roleARN
            self.sessionName = sessionName
            self.durationSeconds = durationSeconds
            self.externalID = externalID
            self.tags = tags
        }
    }

    public let base: any CredentialResolver
    public let options: Options
    public let context: CredentialContext

    /// Checks the options at once, so a bad ARN, session name, duration or external ID is reported
    /// before any credentials are looked up.
    public init(base: any CredentialResolver, options: Options, context: CredentialContext) throws(AWSClientError) {
        try STSValidation.roleARN(options.roleARN)
        if let name = options.sessionName, !name.trimmingCharacters(in: .whitespaces).isEmpty {
            try STSValidation.sessionName(name)
        }
        if let duration = options.durationSeconds { try STSValidation.duration(duration) }
        if let externalID = options.externalID { try STSValidation.externalID(externalID) }
        self.base = base
        self.options = options
        self.context = context
    }

    public func resolve() async throws -> CredentialResolution {
        let source = try await base.resolve()
        var trace = source.trace
        let blank = options.sessionName?.trimmingCharacters(in: .whitespaces).isEmpty ?? true
        let request = AssumeRoleRequest(
            roleARN: options.roleARN, roleSessionName: blank ? generatedSessionName(context) : options.sessionName!,
            durationSeconds: options.durationSeconds, externalID: options.externalID, tags: options.tags)
        let step = "assume role \(options.roleARN)"
        do {
            let role = try await context.sts(credentials: source.credentials).assumeRole(request)
            var detail = "session \(request.roleSessionName)"
            if request.externalID != nil { detail += ", external ID given" }
            if let duration = request.durationSeconds { detail += ", \(duration) s" }
            trace.record(step, .used, detail)
            return CredentialResolution(credentials: role.credentials, trace: trace, source: "\(source.source), then \(step)")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let failure = CredentialSourceError.wrapping(error, while: "AssumeRole \(options.roleARN) failed")
            trace.record(step, .failed, failure.message)
            throw CredentialResolutionError(message: failure.message, trace: trace, awsErrorCode: failure.awsErrorCode)
        }
    }
}
