import Foundation

/// One step of a deployment on one target (or on the worker, for a script without target roles),
/// planned by the server into a value that a worker runs without anything else of the server: the
/// properties with every `#{}` already substituted, the variables the step may read, the target,
/// and the credential material of this job only. No master key, no database, no other account.
public struct StepJob: Sendable, Hashable, Codable {
    /// Where the job's ECS work happens (nil for a script step that runs on the worker alone).
    public struct Target: Sendable, Hashable, Codable {
        public var id: String
        public var name: String
        public var clusterName: String
        public var region: String
        public var roles: [String]

        public init(id: String, name: String, clusterName: String, region: String, roles: [String]) {
            self.id = id
            self.name = name
            self.clusterName = clusterName
            self.region = region
            self.roles = roles
        }
    }

    public var taskID: String
    public var stepIndex: Int
    public var stepName: String
    public var kind: DeploymentStep.Kind
    /// The step's properties with every `#{}` evaluated for this target.
    public var properties: JSONValue
    /// The variables the step may read: all of them for a script (`get_berthvariable`), none for the
    /// ECS steps, whose properties already carry what they use. Sensitive ones are marked.
    public var variables: VariableDictionary
    public var target: Target?
    /// The region of the job's AWS calls: the target's, or a script's own.
    public var region: String
    /// Images frozen by the release, by container name.
    public var images: [String: String]
    /// Berth's own tags on everything the step creates.
    public var defaultTags: [String: String]
    /// How the job gets AWS credentials; nil: it gets none (a script that names no account or role).
    public var credentials: StepJobCredentials?
    /// What an earlier run of this step on this target recorded before its node or worker stopped.
    public var earlier: StepProgress?
    /// Every sensitive value in the step's scope (variables, earlier steps' sensitive outputs,
    /// minted tokens), whether or not the step may read it: masked in every line the job writes.
    public var masked: [String] = []
    /// nil: the step does its work. A release preview runs the service steps in a mode that
    /// changes nothing: `verify` (the preflight) or `diff` (what would change).
    public var mode: Mode?

    public enum Mode: String, Sendable, Hashable, Codable {
        case verify, diff
    }

    public init(
        taskID: String, stepIndex: Int, stepName: String, kind: DeploymentStep.Kind, properties: JSONValue,
        variables: VariableDictionary, target: Target?, region: String, images: [String: String],
        defaultTags: [String: String], credentials: StepJobCredentials?, earlier: StepProgress?
    ) {
        self.taskID = taskID
        self.stepIndex = stepIndex
        self.stepName = stepName
        self.kind = kind
        self.properties = properties
        self.variables = variables
        self.target = target
        self.region = region
        self.images = images
        self.defaultTags = defaultTags
        self.credentials = credentials
        self.earlier = earlier
    }

    enum CodingKeys: String, CodingKey {
        case taskID, stepIndex, stepName, kind, previewKind, properties, variables, target, region, images, defaultTags
        case credentials, earlier, masked, mode
    }

    /// A preview job carries its step type under `previewKind`, not `kind`: a worker or node of a
    /// version that knows no previews then cannot read the job at all — it would otherwise run a
    /// verify or a diff as the real step, and change the service.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        taskID = try container.decode(String.self, forKey: .taskID)
        stepIndex = try container.decode(Int.self, forKey: .stepIndex)
        stepName = try container.decode(String.self, forKey: .stepName)
        mode = try container.decodeIfPresent(Mode.self, forKey: .mode)
        kind = try container.decode(DeploymentStep.Kind.self, forKey: mode == nil ? .kind : .previewKind)
        properties = try container.decode(JSONValue.self, forKey: .properties)
        variables = try container.decode(VariableDictionary.self, forKey: .variables)
        target = try container.decodeIfPresent(Target.self, forKey: .target)
        region = try container.decode(String.self, forKey: .region)
        images = try container.decode([String: String].self, forKey: .images)
        defaultTags = try container.decode([String: String].self, forKey: .defaultTags)
        credentials = try container.decodeIfPresent(StepJobCredentials.self, forKey: .credentials)
        earlier = try container.decodeIfPresent(StepProgress.self, forKey: .earlier)
        masked = try container.decodeIfPresent([String].self, forKey: .masked) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(taskID, forKey: .taskID)
        try container.encode(stepIndex, forKey: .stepIndex)
        try container.encode(stepName, forKey: .stepName)
        try container.encodeIfPresent(mode, forKey: .mode)
        try container.encode(kind, forKey: mode == nil ? .kind : .previewKind)
        try container.encode(properties, forKey: .properties)
        try container.encode(variables, forKey: .variables)
        try container.encodeIfPresent(target, forKey: .target)
        try container.encode(region, forKey: .region)
        try container.encode(images, forKey: .images)
        try container.encode(defaultTags, forKey: .defaultTags)
        try container.encodeIfPresent(credentials, forKey: .credentials)
        try container.encodeIfPresent(earlier, forKey: .earlier)
        try container.encode(masked, forKey: .masked)
    }

    /// The job's place in the deployment's record of progress.
    public var key: StepProgress.Key { StepProgress.Key(stepIndex: stepIndex, targetID: target?.id) }

    /// Berth's own tags on everything a deployment's steps create.
    public static func tags(project: String, environment: String, release: String, deployment: String) -> [String: String] {
        ["berth:project": project, "berth:environment": environment, "berth:release": release, "berth:deployment": deployment]
    }

    /// How many tags ``tags(project:environment:release:deployment:)`` adds.
    public static let defaultTagCount = tags(project: "", environment: "", release: "", deployment: "").count

    /// The job's part of the task's log: "2. Deploy web · production-eu".
    public var logSection: String { "\(stepIndex + 1). \(stepName) · \(target?.name ?? "worker")" }

    /// Every secret the job carries, for masking wherever it is logged.
    public var sensitiveValues: [String] {
        masked + variables.sensitiveValues + (credentials?.sensitiveValues ?? [])
    }
}

/// The AWS credentials of one job: the material itself, never a reference the worker would have to
/// look up on the server.
public struct StepJobCredentials: Sendable, Hashable, Codable {
    /// Where the base credentials come from.
    public enum Source: Sendable, Hashable, Codable {
        /// An access key account's keys.
        case accessKey(AccessKey)
        /// An OIDC account: a token Berth minted for this job, exchanged with
        /// AssumeRoleWithWebIdentity; a worker that needs another later asks the server for it.
        case webIdentity(WebIdentity)
        /// The worker's own chain: environment, profile, web identity token file, container
        /// credentials, IMDSv2.
        case worker
    }

    public struct AccessKey: Sendable, Hashable, Codable {
        public var accountName: String
        public var accessKeyID: String
        public var secretAccessKey: String

        public init(accountName: String, accessKeyID: String, secretAccessKey: String) {
            self.accountName = accountName
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
        }
    }

    public struct WebIdentity: Sendable, Hashable, Codable {
        public var accountName: String
        public var roleARN: String
        public var sessionName: String
        public var durationSeconds: Int
        /// The token minted for this job (valid minutes; never logged).
        public var token: String
        public var subject: String
        public var audience: String
        /// Berth's issuer URL, and its host as IAM names the provider.
        public var issuer: String
        public var providerHost: String
        /// The names of the account's custom claims (their values are in the token).
        public var customClaimNames: [String]

        public init(
            accountName: String, roleARN: String, sessionName: String, durationSeconds: Int, token: String, subject: String,
            audience: String, issuer: String, providerHost: String, customClaimNames: [String]
        ) {
            self.accountName = accountName
            self.roleARN = roleARN
            self.sessionName = sessionName
            self.durationSeconds = durationSeconds
            self.token = token
            self.subject = subject
            self.audience = audience
            self.issuer = issuer
            self.providerHost = providerHost
            self.customClaimNames = customClaimNames
        }

        /// The trust policy that accepts this job's tokens, for explaining a refusal.
        public var trustPolicy: TrustPolicy {
            TrustPolicy(providerHost: providerHost, roleARN: roleARN, audience: audience, subjects: [subject])
        }
    }

    public var source: Source
    /// Then, optionally, AssumeRole.
    public var assumeRole: AssumeRoleSettings?
    /// Jobs with the same identity share cached credentials and ECS pollers on a worker. It names
    /// the account, its version and the role settings (an external ID only by digest): no secret.
    public var identity: String

    public init(source: Source, assumeRole: AssumeRoleSettings?, identity: String) {
        self.source = source
        self.assumeRole = assumeRole
        self.identity = identity
    }

    public var sensitiveValues: [String] {
        switch source {
        case .accessKey(let key): [key.secretAccessKey]
        case .webIdentity(let identity): [identity.token]
        case .worker: []
        }
    }

    /// The opening line of the job's credentials in the log (no secret in it).
    public var summary: String {
        switch source {
        case .accessKey(let key):
            "the access key account '\(key.accountName)' (\(key.accessKeyID))."
        case .webIdentity(let web):
            "the OIDC account '\(web.accountName)': a token from \(web.issuer) with sub \"\(web.subject)\" and aud \"\(web.audience)\""
                + (web.customClaimNames.isEmpty ? "" : "; custom claims \(web.customClaimNames.joined(separator: ", "))")
                + ", exchanged with AssumeRoleWithWebIdentity for \(web.roleARN) (\(web.durationSeconds) s; the token itself is never logged)."
        case .worker:
            "the worker's own (environment, profile, web identity, container, IMDSv2)."
        }
    }
}

extension StepJobCredentials: CustomStringConvertible, CustomDebugStringConvertible {
    /// The summary, never the material: a job printed by mistake leaks nothing.
    public var description: String { "StepJobCredentials(\(summary))" }
    public var debugDescription: String { description }
}

extension StepJob: CustomStringConvertible, CustomDebugStringConvertible {
    /// What the job is, without its variables or credentials.
    public var description: String {
        "StepJob(task \(taskID), step \(stepIndex + 1) '\(stepName)' (\(kind.rawValue)) on \(target?.name ?? "the worker"))"
    }
    public var debugDescription: String { description }
}
