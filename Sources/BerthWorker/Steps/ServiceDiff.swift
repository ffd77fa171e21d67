import AWSCore
import AWSECS
import BerthDomain
import Foundation

/// `berth release diff`: what a service step would change, against what runs now — the unified
/// diff of the task definition (the running revision against the one the release would
/// register) and of the service settings the step sets. Without the noise of what ECS fills in:
/// the fields ECS adds to a revision (ARN, revision, status, registration), empty lists, and
/// defaults the release does not name (`cpu: 0`, `essential: true`, `protocol: tcp`, …);
/// environment variables and secrets are compared by name, not by position. Sensitive values are
/// masked in the log like every other line.
struct ServiceDiff {
    let run: StepRun
    let ecs: ECSClient
    let serviceName: String

    /// The service settings the step would send, by ECS's own names (only those the step sets).
    let settings: JSONValue

    func report(_ definition: ECS.RegisterTaskDefinitionRequest) async throws -> StepOutcome {
        let cluster = run.target?.clusterName ?? "?"
        let service = try await ecs.describeServices(ECS.DescribeServicesRequest(services: [serviceName], cluster: cluster))
            .services?.first { $0.serviceName == serviceName && $0.status == "ACTIVE" }
        var proposed = Self.normalized(try Self.json(definition), dropping: Self.requestOnly)
        var running = JSONValue.object([])
        var runningName = "nothing (the service does not exist yet: it would be created)"
        if let service, let arn = service.taskDefinition,
            let current = try await ecs.describeTaskDefinition(ECS.DescribeTaskDefinitionRequest(taskDefinition: arn))
                .taskDefinition
        {
            runningName = RolloutTracker.revision(of: arn)
            running = Self.normalized(try Self.json(current), dropping: Self.addedByECS)
            (running, proposed) = Self.withoutUnnamedDefaults(running, proposed)
        }
        let release = "\(definition.family) (this release)"
        let lines = UnifiedDiff.lines(
            from: running.rendered(pretty: true).components(separatedBy: "\n"),
            to: proposed.rendered(pretty: true).components(separatedBy: "\n"), fromName: runningName, toName: release)
        if lines.isEmpty {
            await run.log.info(
                "Task definition: no change against \(runningName) (a deployment registers an identical revision).")
        } else {
            await run.log.info("Task definition: \(runningName) → \(release):")
            for line in lines { await run.log.info(line) }
        }
        let runningSettings = try service.map { Self.picked(Self.normalized(try Self.json($0), dropping: []), like: settings) }
        let settingLines = UnifiedDiff.lines(
            from: (runningSettings ?? .object([])).rendered(pretty: true).components(separatedBy: "\n"),
            to: Self.normalized(settings, dropping: []).rendered(pretty: true).components(separatedBy: "\n"),
            fromName: "service \(serviceName) (now)", toName: "service \(serviceName) (this release)")
        if settingLines.isEmpty {
            await run.log.info("Service settings: no change.")
        } else {
            await run.log.info("Service settings:")
            for line in settingLines { await run.log.info(line) }
        }
        let changed = !lines.isEmpty || !settingLines.isEmpty
        return StepOutcome(
            state: .succeeded, message: changed ? "\(serviceName) would change" : "\(serviceName) would not change")
    }

    static func json(_ value: some Encodable) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }

    /// What only the request has (tags are the deployment's, not the definition's).
    static let requestOnly: Set<String> = ["tags"]
    /// What ECS adds to a registered revision.
    static let addedByECS: Set<String> = [
        "taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities", "registeredAt", "registeredBy",
        "deregisteredAt", "tags",
    ]
    /// Values ECS fills in when the definition does not name them.
    static let unnamedDefaults: [String: JSONValue] = [
        "cpu": .number(0), "essential": .bool(true), "protocol": .string("tcp"), "networkMode": .string("bridge"),
    ]

    /// Without nulls, empty lists and objects, and the top-level `dropping` keys; environment and
    /// secrets sorted by name.
    static func normalized(_ value: JSONValue, dropping: Set<String>) -> JSONValue {
        func clean(_ value: JSONValue, key: String?) -> JSONValue? {
            switch value {
            case .null: return nil
            case .array(let items):
                var cleaned = items.compactMap { clean($0, key: nil) }
                if key == "environment" || key == "secrets" {
                    cleaned.sort { ($0["name"]?.rendered() ?? "") < ($1["name"]?.rendered() ?? "") }
                }
                return cleaned.isEmpty ? nil : .array(cleaned)
            case .object(let members):
                let cleaned = members.compactMap { name, member in clean(member, key: name).map { (name, $0) } }
                return cleaned.isEmpty ? nil : .object(cleaned)
            default: return value
            }
        }
        guard case .object(let members) = value else { return clean(value, key: nil) ?? .object([]) }
        return (clean(.object(members.filter { !dropping.contains($0.0) }), key: nil) ?? .object([])).sortedKeys
    }

    /// Drops from `running` the defaults ECS filled in that `proposed` does not name (at any depth,
    /// containers matched by name, port mappings by position), and a host port equal to its
    /// container port.
    static func withoutUnnamedDefaults(_ running: JSONValue, _ proposed: JSONValue) -> (JSONValue, JSONValue) {
        func strip(_ running: JSONValue, like proposed: JSONValue?) -> JSONValue {
            switch running {
            case .object(let members):
                let proposedMembers: [(String, JSONValue)] = if case .object(let m)? = proposed { m } else { [] }
                func proposedValue(_ name: String) -> JSONValue? { proposedMembers.first { $0.0 == name }?.1 }
                var kept: [(String, JSONValue)] = []
                for (name, value) in members {
                    let other = proposedValue(name)
                    if other == nil, unnamedDefaults[name] == value { continue }
                    if name == "hostPort", other == nil, value == members.first(where: { $0.0 == "containerPort" })?.1 {
                        continue
                    }
                    kept.append((name, strip(value, like: other)))
                }
                return .object(kept)
            case .array(let items):
                let others: [JSONValue] = if case .array(let o)? = proposed { o } else { [] }
                return .array(
                    items.enumerated().map { index, item in
                        let byName = item["name"].flatMap { name in others.first { $0["name"] == name } }
                        return strip(item, like: byName ?? (index < others.count ? others[index] : nil))
                    })
            default: return running
            }
        }
        return (strip(running, like: proposed).sortedKeys, proposed)
    }

    /// The members of `running` that `like` names, at the top level (the settings a step sets).
    static func picked(_ running: JSONValue, like: JSONValue) -> JSONValue {
        guard case .object(let wanted) = like, case .object(let members) = running else { return .object([]) }
        let names = Set(wanted.map(\.0))
        return JSONValue.object(members.filter { names.contains($0.0) }).sortedKeys
    }
}

/// A unified diff of two lists of lines (`---`/`+++` headers, `@@` hunks with three lines of
/// context), from their longest common subsequence.
enum UnifiedDiff {
    static func lines(from old: [String], to new: [String], fromName: String, toName: String, context: Int = 3) -> [String] {
        guard old != new else { return [] }
        // The longest common subsequence, table from the end.
        var table = Array(repeating: Array(repeating: 0, count: new.count + 1), count: old.count + 1)
        for i in stride(from: old.count - 1, through: 0, by: -1) {
            for j in stride(from: new.count - 1, through: 0, by: -1) {
                table[i][j] = old[i] == new[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        enum Edit { case same(String), removed(String), added(String) }
        var edits: [Edit] = []
        var (i, j) = (0, 0)
        while i < old.count || j < new.count {
            if i < old.count, j < new.count, old[i] == new[j] {
                edits.append(.same(old[i]))
                (i, j) = (i + 1, j + 1)
            } else if j < new.count, i == old.count || table[i][j + 1] >= table[i + 1][j] {
                edits.append(.added(new[j]))
                j += 1
            } else {
                edits.append(.removed(old[i]))
                i += 1
            }
        }
        let changed = edits.indices.filter { if case .same = edits[$0] { false } else { true } }
        var output = ["--- \(fromName)", "+++ \(toName)"]
        var index = 0
        while index < changed.count {
            let start = max(0, changed[index] - context)
            var end = min(edits.count, changed[index] + context + 1)
            while index + 1 < changed.count, changed[index + 1] - context <= end {
                index += 1
                end = min(edits.count, changed[index] + context + 1)
            }
            // Line numbers of the hunk in the old and the new list.
            var oldLine = 1
            var newLine = 1
            for edit in edits[..<start] {
                switch edit {
                case .same: (oldLine, newLine) = (oldLine + 1, newLine + 1)
                case .removed: oldLine += 1
                case .added: newLine += 1
                }
            }
            var body: [String] = []
            var (oldCount, newCount) = (0, 0)
            for edit in edits[start..<end] {
                switch edit {
                case .same(let line): body.append(" " + line); (oldCount, newCount) = (oldCount + 1, newCount + 1)
                case .removed(let line): body.append("-" + line); oldCount += 1
                case .added(let line): body.append("+" + line); newCount += 1
                }
            }
            output.append("@@ -\(oldLine),\(oldCount) +\(newLine),\(newCount) @@")
            output += body
            index += 1
        }
        return output
    }
}
