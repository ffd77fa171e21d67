import Foundation

/// The phases a release passes, in order (Development → Staging → Production): a release may go to
/// an environment of a phase once every earlier phase that is required has enough successful
/// deployments of it. A project without a lifecycle goes anywhere (every environment in order,
/// each optional).
public struct Lifecycle: Sendable, Hashable {
    public struct Phase: Sendable, Hashable, Codable {
        public var name: String
        public var environmentIDs: [String]
        /// An optional phase never holds a release back.
        public var isOptional: Bool
        /// How many of its environments must have a successful deployment of a release before the
        /// next phase opens to it; nil: all of them.
        public var minimumEnvironments: Int?

        public init(name: String, environmentIDs: [String], isOptional: Bool = false, minimumEnvironments: Int? = nil) {
            self.name = name
            self.environmentIDs = environmentIDs
            self.isOptional = isOptional
            self.minimumEnvironments = minimumEnvironments
        }

        /// How many successes it takes.
        public var required: Int { min(minimumEnvironments ?? environmentIDs.count, environmentIDs.count) }
    }

    /// Why a release may not go to an environment yet.
    public enum Refusal: Sendable, Hashable {
        /// The environment is in no phase of the lifecycle.
        case notInLifecycle
        /// `phase` still needs `needed` more successful deployments, among `missing`.
        case phaseNotPassed(phase: String, needed: Int, missing: [String])
    }

    public var id: String
    public var spaceID: String
    public var name: String
    public var slug: String { Slug.make(name) }
    public var description: String
    public var phases: [Phase]
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String = RecordID.make("lfc"), spaceID: String, name: String, description: String = "", phases: [Phase],
        createdAt: Date, updatedAt: Date? = nil
    ) {
        self.id = id
        self.spaceID = spaceID
        self.name = name
        self.description = description
        self.phases = phases
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }

    /// Whether a release that has succeeded in `succeeded` (environment ids) may go to
    /// `environmentID`; nil when it may.
    public func refusal(toDeployTo environmentID: String, succeeded: Set<String>) -> Refusal? {
        guard let index = phases.firstIndex(where: { $0.environmentIDs.contains(environmentID) }) else {
            return .notInLifecycle
        }
        for phase in phases[..<index] where !phase.isOptional {
            let done = phase.environmentIDs.filter(succeeded.contains).count
            if done < phase.required {
                return .phaseNotPassed(
                    phase: phase.name, needed: phase.required - done,
                    missing: phase.environmentIDs.filter { !succeeded.contains($0) })
            }
        }
        return nil
    }

    /// The environments a release that has succeeded in `succeeded` may go to now, in order.
    public func openEnvironments(succeeded: Set<String>) -> [String] {
        phases.flatMap(\.environmentIDs).filter { refusal(toDeployTo: $0, succeeded: succeeded) == nil }
    }

    /// Names, phases and their environments: `environmentNames` are the space's, by id.
    public func validate(environmentNames: [String: String]) throws(BerthError) {
        var errors = ValidationErrors()
        NameRules.validate(name, into: &errors)
        if phases.isEmpty { errors.add("phases", "needs at least one phase") }
        var seenPhases: Set<String> = []
        var seenEnvironments: [String: String] = [:]
        for (index, phase) in phases.enumerated() {
            let field = "phases[\(index)]"
            NameRules.validate(phase.name, field: "\(field).name", into: &errors)
            if !seenPhases.insert(Slug.make(phase.name)).inserted {
                errors.add("\(field).name", "'\(phase.name)' names two phases")
            }
            if phase.environmentIDs.isEmpty { errors.add("\(field).environments", "needs at least one environment") }
            for id in phase.environmentIDs {
                let name = environmentNames[id] ?? id
                if let other = seenEnvironments[id] {
                    errors.add(
                        "\(field).environments", "\(name) is in the phase '\(other)' already: an environment is in one phase")
                }
                seenEnvironments[id] = phase.name
            }
            if let minimum = phase.minimumEnvironments, !(1...max(1, phase.environmentIDs.count)).contains(minimum) {
                errors.add(
                    "\(field).minimumEnvironments",
                    "must be 1 to \(phase.environmentIDs.count), its number of environments (got \(minimum))")
            }
        }
        try errors.throwIfAny("lifecycle")
    }
}

extension Lifecycle: AuditedRecord {
    public var auditReference: String { "lifecycles/\(id)" }
    public var auditName: String { name }
    public var auditFields: [(String, AuditField)] {
        [
            ("name", .text(name)), ("description", .text(description)),
            (
                "phases",
                .value(
                    .array(
                        phases.map { phase in
                            .object([
                                ("name", .string(phase.name)),
                                ("environments", .array(phase.environmentIDs.map(JSONValue.string))),
                                ("optional", .bool(phase.isOptional)),
                                ("minimumEnvironments", phase.minimumEnvironments.map { .number(Double($0)) } ?? .null),
                            ])
                        }))
            ),
        ]
    }
}
