import Foundation

/// A deployment process (ordered steps) and, stored beside it, its variables.
public struct Project: Sendable, Hashable {
    public var id: String
    public var spaceID: String
    public var name: String
    /// Derived from the name; appears in OIDC deployment subjects and default tags.
    public var slug: String { Slug.make(name) }
    public var description: String
    public var steps: [DeploymentStep]
    /// The lifecycle its releases pass (nil: any environment, in any order).
    public var lifecycleID: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String = RecordID.make("prj"), spaceID: String, name: String, description: String = "",
        steps: [DeploymentStep] = [], lifecycleID: String? = nil, createdAt: Date, updatedAt: Date? = nil
    ) {
        self.id = id
        self.lifecycleID = lifecycleID
        self.spaceID = spaceID
        self.name = name
        self.description = description
        self.steps = steps
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }

    /// The name and the process: names valid, step names unique, every step valid.
    public func validate() throws(BerthError) {
        var errors = ValidationErrors()
        NameRules.validate(name, into: &errors)
        DeploymentStep.validate(steps, into: &errors)
        try errors.throwIfAny("project")
    }
}

/// One step of a process: what it does (`kind`), where (every target with one of `targetRoles` in the
/// deployment's environment; a script step without roles runs once on the worker) and how
/// (`properties`, a JSON object whose strings may hold `#{Variable}` references).
public struct DeploymentStep: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case deployService = "deploy-ecs-service"
        case updateService = "update-ecs-service"
        case runTask = "run-ecs-task"
        case awsCLIScript = "run-aws-cli-script"
        /// A person approves or rejects before the deployment goes on (on the server, no worker).
        case manualIntervention = "manual-intervention"

        /// Steps that call ECS on a cluster target (a script may also run once on the worker).
        public var needsTargets: Bool { self != .awsCLIScript && self != .manualIntervention }
    }

    public var name: String
    public var kind: Kind
    public var targetRoles: [String]
    public var properties: JSONValue
    /// The step runs only in these environments (ids, as the use cases store them; names as sent);
    /// nil or empty: in every one.
    public var environments: [String]?
    /// The step is skipped in these environments (ids; names as sent).
    public var excludeEnvironments: [String]?

    public init(
        name: String, kind: Kind, targetRoles: [String], properties: JSONValue = .object([]), environments: [String]? = nil,
        excludeEnvironments: [String]? = nil
    ) {
        self.name = name
        self.kind = kind
        self.targetRoles = targetRoles
        self.properties = properties
        self.environments = environments?.isEmpty == true ? nil : environments
        self.excludeEnvironments = excludeEnvironments?.isEmpty == true ? nil : excludeEnvironments
    }

    /// Why the step does not run in `environment` (its conditions), or nil when it does;
    /// `names` turns the conditions' ids into names for the message.
    public func skipReason(in environment: Environment, names: [String: String] = [:]) -> String? {
        func matches(_ entry: String) -> Bool { entry == environment.id || Slug.make(entry) == environment.slug }
        if let only = environments, !only.contains(where: matches) {
            return "it runs only in \(only.map { names[$0] ?? $0 }.joined(separator: ", "))"
        }
        if let excluded = excludeEnvironments, excluded.contains(where: matches) {
            return "it is skipped in \(environment.name)"
        }
        return nil
    }

    /// The step with its conditions' environments given by `id(of:)` (names to ids, or back).
    public func mappingEnvironments(_ id: (String) -> String) -> DeploymentStep {
        var step = self
        step.environments = environments?.map(id)
        step.excludeEnvironments = excludeEnvironments?.map(id)
        return step
    }

    static func validate(_ steps: [DeploymentStep], into errors: inout ValidationErrors) {
        var seen = Set<String>()
        for (index, step) in steps.enumerated() {
            let field = "steps[\(index)]"
            NameRules.validate(step.name, field: "\(field).name", into: &errors)
            if !seen.insert(step.name.lowercased()).inserted {
                errors.add("\(field).name", "'\(step.name)' is used by an earlier step; step names must be unique")
            }
            if step.kind.needsTargets, step.targetRoles.isEmpty {
                errors.add("\(field).targetRoles", "a \(step.kind.rawValue) step needs at least one target role")
            }
            if step.kind == .manualIntervention, !step.targetRoles.isEmpty {
                errors.add("\(field).targetRoles", "a manual-intervention step is answered on the server: it has no target roles")
            }
            if step.environments != nil, step.excludeEnvironments != nil {
                errors.add("\(field).excludeEnvironments", "give environments or excludeEnvironments, not both")
            }
            for role in step.targetRoles where !TargetDraft.isValidRole(role) {
                errors.add("\(field).targetRoles", "'\(role)' is not a target role")
            }
            guard case .object = step.properties else {
                errors.add("\(field).properties", "must be an object")
                continue
            }
        }
    }
}
