import AWSCore
import AWSECS
import BerthDomain
import Crypto
import Foundation

/// `berth release diff`: what a service step would change, against what runs now — the unified
/// diff of the task definition (the running revision against the one the release would
/// register) and of the service settings the step sets. Without the noise of what ECS fills in:
/// the fields ECS adds to a revision (ARN, revision, status, registration), empty lists, and
/// defaults the release does not name (`cpu: 0`, `essential: true`, `protocol: tcp`, …);
/// environment variables and secrets are compared by name, not by position. An environment
/// variable's value is shown as a fingerprint (an HMAC under a key made for this diff), so that a
/// change shows without the value — the running revision may hold values Berth does not know are
/// secret, and a task log is readable with less than a diff needs; every sensitive value of the
/// step's scope is masked wherever else it appears, before the JSON escapes it.
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
        let fingerprints = SymmetricKey(size: .bits256)
        let secrets = run.job.masked.filter { $0.count >= 4 }
        var proposed = Self.redacted(
            Self.normalized(try Self.json(definition), dropping: Self.requestOnly), key: fingerprints, secrets: secrets)
        var running = JSONValue.object([])
        var runningName = "nothing (the service does not exist yet: it would be created)"
        if let service, let arn = service.taskDefinition,
            let current = try await ecs.describeTaskDefinition(ECS.DescribeTaskDefinitionRequest(taskDefinition: arn))
                .taskDefinition
        {
            runningName = RolloutTracker.revision(of: arn)
            running = Self.redacted(
                Self.normalized(try Self.json(current), dropping: Self.addedByECS), key: fingerprints, secrets: secrets)
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
            for line in lines.prefix(Self.maximumLines) { await run.log.info(line) }
            if lines.count > Self.maximumLines { await run.log.info("… and \(lines.count - Self.maximumLines) more lines.") }
        }
        let runningSettings = try service.map {
            Self.picked(Self.normalized(try Self.json($0), dropping: []), like: Self.normalized(settings, dropping: []))
        }
        let settingLines = UnifiedDiff.lines(
            from: (runningSettings ?? .object([])).rendered(pretty: true).components(separatedBy: "\n"),
            to: Self.normalized(settings, dropping: []).rendered(pretty: true).components(separatedBy: "\n"),
            fromName: "service \(serviceName) (now)", toName: "service \(serviceName) (this release)")
        if settingLines.isEmpty {
            await run.log.info("Service settings: no change.")
        } else {
            await run.log.info("Service settings:")
            for line in settingLines.prefix(Self.maximumLines) { await run.log.info(line) }
            if settingLines.count > Self.maximumLines {
                await run.log.info("… and \(settingLines.count - Self.maximumLines) more lines.")
            }
        }
        let changed = !lines.isEmpty || !settingLines.isEmpty
        return StepOutcome(
            state: .succeeded, message: changed ? "\(serviceName) would change" : "\(serviceName) would not change")
    }

    /// Environment values as fingerprints; every `secrets` value masked in any other text.
    static func redacted(_ value: JSONValue, key: SymmetricKey, secrets: [String]) -> JSONValue {
        func walk(_ value: JSONValue, inEnvironment: Bool) -> JSONValue {
            switch value {
            case .object(let members):
                return .object(
                    members.map { name, member in
                        if inEnvironment, name == "value", case .string(let text) = member {
                            let mac = HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key)
                            return (name, .string("(value \(mac.prefix(4).map { String(format: "%02x", $0) }.joined()))"))
                        }
                        return (name, walk(member, inEnvironment: name == "environment"))
                    })
            case .array(let items): return .array(items.map { walk($0, inEnvironment: inEnvironment) })
            case .string(var text):
                for secret in secrets where text.contains(secret) {
                    text = text.replacingOccurrences(of: secret, with: LogMasker.mask)
                }
                return .string(text)
            default: return value
            }
        }
        return walk(value, inEnvironment: false)
    }

    /// At most this many lines of each diff go into the log.
    static let maximumLines = 2000

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

    /// The members of `running` that `like` names, at every depth (the settings a step sets: what
    /// ECS fills in besides — disabled alarms, `assignPublicIp`, `LATEST` — is no change of the release's).
    static func picked(_ running: JSONValue, like: JSONValue) -> JSONValue {
        func pick(_ running: JSONValue, _ like: JSONValue) -> JSONValue {
            switch (running, like) {
            case (.object(let members), .object(let wanted)):
                return .object(
                    wanted.compactMap { name, wantedValue in
                        members.first { $0.0 == name }.map { (name, pick($0.1, wantedValue)) }
                    })
            case (.array(let items), .array(let wanted)):
                return .array(items.enumerated().map { index, item in index < wanted.count ? pick(item, wanted[index]) : item })
            default: return running
            }
        }
        return pick(running, like).sortedKeys
    }
}
