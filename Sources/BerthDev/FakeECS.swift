import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A local ECS control plane (and the CloudWatch Logs its tasks write) speaking the real AWS JSON 1.1
/// protocol, for what moto cannot do: rollouts that progress with time, the circuit breaker rolling
/// a service back, tasks stopping with reasons, one-off tasks that exit and log, and throttling.
///
/// What happens to a deployment is chosen by the image tag of the task definition's first
/// container: `…:stuck` never places a task (for timeouts), `…:unhealthy` fails health checks until
/// the circuit breaker trips, `…:crash` has its essential container exit 1, `…:badpull` cannot be
/// pulled; anything else rolls out in `rolloutDuration`. A one-off task runs for `taskDuration`,
/// logs its command, and exits with the number after `exit-` in its image tag (`job:exit-3`), else 0;
/// StopTask stops it at once (exit code 137, stop code UserInitiated, the reason given).
/// `failNext(_:times:with:status:)` answers the next calls of one operation with an error.
/// A service's deployment with strategy BLUE_GREEN, LINEAR or CANARY goes through ECS's lifecycle
/// stages as a service deployment (`ListServiceDeployments`, `DescribeServiceDeployments`,
/// `DescribeServiceRevisions`; see `FakeECS+ServiceDeployments.swift`): traffic weights, bake
/// times (a minute lasts `minute`), PAUSE hooks waiting for `ContinueServiceDeployment`,
/// `StopServiceDeployment`, and — for an image tagged `…:alarm` — the first of the configured
/// alarms firing in the bake time and rolling the deployment back.
/// CreateLogGroup and PutRetentionPolicy keep the groups and their tags and retention. Every
/// cluster is ACTIVE unless a test gives it another status or deletes it (`setCluster`).
public final class FakeECS: @unchecked Sendable {
    public struct Settings: Sendable {
        public var rolloutDuration: Duration = .milliseconds(600)
        public var taskDuration: Duration = .milliseconds(400)
        /// Every Nth call is answered with ThrottlingException (nil: never).
        public var throttleEvery: Int?
        public var account = "123456789012"
        public var region = "eu-west-1"
        /// How long each stage of a blue/green, linear or canary deployment lasts.
        public var stageDuration: Duration = .milliseconds(150)
        /// How long a minute of bake time (and of a hook's timeout) lasts here.
        public var minute: Duration = .milliseconds(200)

        public init(rolloutDuration: Duration = .milliseconds(600), throttleEvery: Int? = nil) {
            self.rolloutDuration = rolloutDuration
            self.throttleEvery = throttleEvery
        }
    }

    struct Rollout {
        var id: String
        var status: String
        var taskDefinition: String
        var scenario: String
        var createdAt: Date
        var desired: Int
        var rolloutState = "IN_PROGRESS"
        var reason: String?
        var failedTasks = 0
    }

    struct Service {
        var name: String
        var arn: String
        var cluster: String
        var desired: Int
        var circuitBreaker: (enable: Bool, rollback: Bool)
        var rollouts: [Rollout]
        var events: [String] = []
        var tags: [[String: String]] = []
        /// What CreateService or the last UpdateService that named it said.
        var managedTags: Bool?
        /// The deployment configuration as last sent (strategy, bake time, hooks, alarms, …).
        var deploymentConfiguration: [String: Any] = [:]
        var propagateTags: String?
    }

    struct StoppedTask {
        var arn: String
        var service: String
        var taskDefinition: String
        var stopCode: String
        var reason: String
        var container: String
        var exitCode: Int?
    }

    struct OneOffTask {
        var arn: String
        var taskDefinition: String
        var startedAt: Date
        var containers: [(name: String, essential: Bool, exitCode: Int)]
        /// Set by StopTask: when and why.
        var stopped: (at: Date, reason: String)?
    }

    struct State {
        var calls: [String: Int] = [:]
        var callCount = 0
        var taskDefinitions: [String: [[String: Any]]] = [:]
        var services: [String: Service] = [:]
        var stopped: [StoppedTask] = []
        var oneOff: [String: OneOffTask] = [:]
        /// RunTask's answers by client token: asked again with one, ECS answers with the same tasks.
        var runTaskTokens: [String: [String]] = [:]
        var logs: [String: [String]] = [:]
        var describeServicesBatches: [Int] = []
        var describeServicesTimes: [Date] = []
        var throttled = 0
        /// Errors to answer the next calls of an operation with: code, HTTP status, how many more.
        var injected: [String: (code: String, status: Int, remaining: Int)] = [:]
        /// Clusters a test changed: their status, or nil once deleted. Any other cluster is ACTIVE.
        var clusters: [String: String?] = [:]
        var logGroups: [String: LogGroup] = [:]
        var serviceDeployments: [ServiceDeployment] = []
    }

    /// A CloudWatch Logs group made with CreateLogGroup (and PutRetentionPolicy).
    public struct LogGroup: Sendable, Equatable {
        public var tags: [String: String]
        public var retentionDays: Int?
    }

    public let settings: Settings
    // The state holds JSON objects ([String: Any]); every access goes through `lock`.
    private let lock = NSLock()
    private var stateStorage = State()

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    func withLock<Value>(_ body: (inout State) throws -> Value) rethrows -> Value {
        lock.lock()
        defer { lock.unlock() }
        return try body(&stateStorage)
    }

    /// Makes DescribeClusters answer `name` with `status` (INACTIVE, PROVISIONING…), or as missing
    /// when `status` is nil; every other cluster is ACTIVE.
    public func setCluster(_ name: String, status: String?) {
        withLock { $0.clusters[name] = .some(status) }
    }

    /// The log groups created with CreateLogGroup, by name.
    public var logGroups: [String: LogGroup] { withLock { $0.logGroups } }

    /// How many times each operation was called (`DescribeServices`, `GetLogEvents`, …).
    public var calls: [String: Int] { withLock { $0.calls } }

    /// Ends every one-off task that is still running now (its essential containers exit as they
    /// would at the end of `taskDuration`): for tests that decide when a task ends.
    public func finishRunningTasks() {
        withLock { state in
            for arn in state.oneOff.keys where state.oneOff[arn]?.stopped == nil {
                state.oneOff[arn]?.startedAt = .distantPast
            }
        }
    }

    /// Lets every service rollout in progress reach its end at the next DescribeServices, as if
    /// `rolloutDuration` had passed: for tests that decide when a rollout ends.
    public func finishRollouts() {
        withLock { state in
            for key in state.services.keys {
                for index in state.services[key]?.rollouts.indices ?? 0..<0
                where state.services[key]?.rollouts[index].rolloutState == "IN_PROGRESS" {
                    state.services[key]?.rollouts[index].createdAt = .distantPast
                }
            }
        }
    }

    /// How many one-off tasks RunTask has started.
    public var startedTaskCount: Int { withLock { $0.oneOff.count } }

    /// When each rollout began (CreateService or UpdateService), in order.
    public var rolloutStarts: [Date] {
        withLock { state in state.services.values.flatMap { $0.rollouts.map(\.createdAt) }.sorted() }
    }

    /// How many calls were answered with ThrottlingException.
    public var throttledCalls: Int { withLock { $0.throttled } }

    /// The one-off tasks stopped with StopTask, and the reason each was given.
    public var stopTaskReasons: [String: String] {
        withLock { state in state.oneOff.compactMapValues { $0.stopped?.reason } }
    }

    /// Answers the next `times` calls of `operation` with the error `code` and HTTP `status`
    /// (ThrottlingException, ServerException with 500, AccessDeniedException…), before anything else.
    public func failNext(_ operation: String, times: Int, with code: String, status: Int = 400) {
        withLock { $0.injected[operation] = (code, status, times) }
    }

    /// When each DescribeServices call came, in order.
    public var describeServicesTimes: [Date] { withLock { $0.describeServicesTimes } }

    /// How many services each DescribeServices call asked for, in order.
    public var describeServicesBatches: [Int] { withLock { $0.describeServicesBatches } }

    /// A service's tags (CreateService, then TagResource).
    public func tags(ofService name: String) -> [String: String] {
        withLock { state in
            var tags: [String: String] = [:]
            for tag in state.services.values.first(where: { $0.name == name })?.tags ?? [] {
                if let key = tag["key"] { tags[key] = tag["value"] ?? "" }
            }
            return tags
        }
    }

    /// Whether a service's tasks get ECS managed tags (`enableECSManagedTags`), nil when never said.
    /// The deployment configuration the service was last given (as JSON objects).
    public func deploymentConfiguration(ofService name: String) -> [String: Any] {
        withLock { state in state.services.values.first { $0.name == name }?.deploymentConfiguration ?? [:] }
    }

    public func managedTags(ofService name: String) -> Bool? {
        withLock { state in state.services.values.first { $0.name == name }?.managedTags }
    }

    /// The task definition a service's PRIMARY deployment runs (`family:revision`).
    public func primaryTaskDefinition(ofService name: String) -> String? {
        withLock { state in
            state.services.values.first { $0.name == name }?.rollouts.first { $0.status == "PRIMARY" }
                .map { String($0.taskDefinition.split(separator: "/").last ?? "") }
        }
    }

    /// The registered revisions of a family, as JSON text (for assertions on what was registered).
    public func taskDefinitions(family: String) -> [String] {
        withLock { state in
            (state.taskDefinitions[family] ?? []).compactMap {
                (try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .withoutEscapingSlashes])).map {
                    String(decoding: $0, as: UTF8.self)
                }
            }
        }
    }

    public var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/") { request, _ -> Response in
            let target = request.headers[HTTPField.Name("X-Amz-Target")!] ?? ""
            let operation = String(target.split(separator: ".").last ?? "")
            let body = try await request.bodyText()
            let input = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
            let (throttled, injected) = self.withLock { state -> (Bool, (code: String, status: Int)?) in
                state.calls[operation, default: 0] += 1
                state.callCount += 1
                if let injected = state.injected[operation], injected.remaining > 0 {
                    state.injected[operation]?.remaining -= 1
                    if injected.code.contains("Throttl") { state.throttled += 1 }
                    return (false, (injected.code, injected.status))
                }
                let throttled = self.settings.throttleEvery.map { state.callCount % $0 == 0 } ?? false
                if throttled { state.throttled += 1 }
                return (throttled, nil)
            }
            if let injected {
                return Self.error(
                    injected.code, "Injected by the test", status: HTTPResponse.Status(code: injected.status))
            }
            if throttled { return Self.error("ThrottlingException", "Rate exceeded", status: .badRequest) }
            do {
                let data = try self.handle(operation, input, now: Date())
                return Response(
                    status: .ok, headers: [.contentType: "application/x-amz-json-1.1"],
                    body: .init(byteBuffer: ByteBuffer(bytes: data)))
            } catch let failure as Failure {
                return Self.error(failure.type, failure.message, status: .badRequest)
            }
        }
        return router
    }

    struct Failure: Error {
        var type: String
        var message: String
    }

    static func error(_ type: String, _ message: String, status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: ["__type": type, "message": message])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/x-amz-json-1.1"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func handle(_ operation: String, _ input: [String: Any], now: Date) throws -> Data {
        try JSONSerialization.data(withJSONObject: try withLock { state in try answer(operation, input, now: now, &state) })
    }

    func answer(_ operation: String, _ input: [String: Any], now: Date, _ state: inout State) throws -> [String: Any] {
        switch operation {
        case "RegisterTaskDefinition": return registerTaskDefinition(input, &state)
        case "DescribeTaskDefinition":
            return ["taskDefinition": try taskDefinition(input["taskDefinition"] as? String ?? "", state), "tags": []]
        case "CreateService": return ["service": try createService(input, now: now, &state)]
        case "UpdateService": return ["service": try updateService(input, now: now, &state)]
        case "DescribeServices": return describeServices(input, now: now, &state)
        case "ListServiceDeployments": return listServiceDeployments(input, now: now, &state)
        case "DescribeServiceDeployments": return describeServiceDeployments(input, now: now, &state)
        case "DescribeServiceRevisions": return describeServiceRevisions(input, state)
        case "StopServiceDeployment": return try stopServiceDeployment(input, now: now, &state)
        case "ContinueServiceDeployment": return try continueServiceDeployment(input, now: now, &state)
        case "TagResource":
            let arn = input["resourceArn"] as? String ?? ""
            if let key = state.services.first(where: { $0.value.arn == arn })?.key {
                // Like ECS: new keys are added, existing keys get the new value.
                let new = input["tags"] as? [[String: String]] ?? []
                let kept = (state.services[key]?.tags ?? []).filter { tag in !new.contains { $0["key"] == tag["key"] } }
                state.services[key]?.tags = kept + new
            }
            return [:]
        case "ListTasks":
            let service = input["serviceName"] as? String
            return ["taskArns": state.stopped.filter { $0.service == service }.map(\.arn)]
        case "DescribeTasks": return describeTasks(input, now: now, state)
        case "RunTask": return try runTask(input, now: now, &state)
        case "StopTask": return try stopTask(input, now: now, &state)
        case "DescribeClusters":
            var clusters: [[String: Any]] = []
            var failures: [[String: Any]] = []
            for name in input["clusters"] as? [String] ?? ["default"] {
                let arn = "arn:aws:ecs:\(settings.region):\(settings.account):cluster/\(name)"
                switch state.clusters[name] {
                case .some(.none): failures.append(["arn": arn, "reason": "MISSING"])
                case .some(.some(let status)): clusters.append(["clusterName": name, "clusterArn": arn, "status": status])
                case .none: clusters.append(["clusterName": name, "clusterArn": arn, "status": "ACTIVE"])
                }
            }
            return ["clusters": clusters, "failures": failures]
        case "GetLogEvents": return try logEvents(input, now: now, &state)
        case "CreateLogGroup":
            let name = input["logGroupName"] as? String ?? ""
            guard state.logGroups[name] == nil else {
                throw Failure(type: "ResourceAlreadyExistsException", message: "The specified log group already exists")
            }
            state.logGroups[name] = LogGroup(tags: input["tags"] as? [String: String] ?? [:])
            return [:]
        case "PutRetentionPolicy":
            let name = input["logGroupName"] as? String ?? ""
            guard state.logGroups[name] != nil else {
                throw Failure(type: "ResourceNotFoundException", message: "The specified log group does not exist.")
            }
            state.logGroups[name]?.retentionDays = input["retentionInDays"] as? Int
            return [:]
        default: throw Failure(type: "UnknownOperationException", message: "The fake does not implement \(operation).")
        }
    }

    // MARK: Task definitions

    func registerTaskDefinition(_ input: [String: Any], _ state: inout State) -> [String: Any] {
        let family = input["family"] as? String ?? "family"
        let revision = (state.taskDefinitions[family]?.count ?? 0) + 1
        var definition = input
        definition["tags"] = nil
        definition["revision"] = revision
        definition["status"] = "ACTIVE"
        definition["taskDefinitionArn"] =
            "arn:aws:ecs:\(settings.region):\(settings.account):task-definition/\(family):\(revision)"
        state.taskDefinitions[family, default: []].append(definition)
        return ["taskDefinition": definition, "tags": input["tags"] ?? []]
    }

    func taskDefinition(_ reference: String, _ state: State) throws -> [String: Any] {
        let name = String(reference.split(separator: "/").last ?? Substring(reference))
        let parts = name.split(separator: ":")
        let family = String(parts.first ?? "")
        let revisions = state.taskDefinitions[family] ?? []
        let found = parts.count > 1 ? revisions.first { ($0["revision"] as? Int) == Int(parts[1]) } : revisions.last
        guard let found else { throw Failure(type: "ClientException", message: "Unable to describe task definition.") }
        return found
    }

    func scenario(_ definition: [String: Any]) -> String {
        let containers = definition["containerDefinitions"] as? [[String: Any]] ?? []
        let image = containers.first?["image"] as? String ?? ""
        return String(image.split(separator: ":").last ?? "")
    }

    // MARK: Services

    func createService(_ input: [String: Any], now: Date, _ state: inout State) throws -> [String: Any] {
        let name = input["serviceName"] as? String ?? ""
        let cluster = input["cluster"] as? String ?? "default"
        let key = "\(cluster)/\(name)"
        if state.services[key] != nil {
            throw Failure(type: "InvalidParameterException", message: "Creation of service was not idempotent.")
        }
        let definition = try taskDefinition(input["taskDefinition"] as? String ?? "", state)
        let desired = input["desiredCount"] as? Int ?? 1
        var service = Service(
            name: name, arn: "arn:aws:ecs:\(settings.region):\(settings.account):service/\(cluster)/\(name)", cluster: cluster,
            desired: desired, circuitBreaker: Self.circuitBreaker(input), rollouts: [],
            tags: input["tags"] as? [[String: String]] ?? [])
        service.rollouts = [
            Rollout(
                id: "ecs-svc/\(UUID().uuidString.prefix(8))", status: "PRIMARY",
                taskDefinition: definition["taskDefinitionArn"] as? String ?? "", scenario: scenario(definition), createdAt: now,
                desired: desired)
        ]
        service.managedTags = input["enableECSManagedTags"] as? Bool
        service.deploymentConfiguration = input["deploymentConfiguration"] as? [String: Any] ?? [:]
        service.propagateTags = input["propagateTags"] as? String
        state.services[key] = service
        startServiceDeployment(of: key, now: now, &state)
        return render(service, now: now)
    }

    func updateService(_ input: [String: Any], now: Date, _ state: inout State) throws -> [String: Any] {
        let name = input["service"] as? String ?? ""
        let key = "\(input["cluster"] as? String ?? "default")/\(name)"
        guard var service = state.services[key] else {
            throw Failure(type: "ServiceNotFoundException", message: "Service not found.")
        }
        materialize(&service, now: now, &state)
        if let desired = input["desiredCount"] as? Int { service.desired = desired }
        if let managedTags = input["enableECSManagedTags"] as? Bool { service.managedTags = managedTags }
        if input["deploymentConfiguration"] != nil { service.circuitBreaker = Self.circuitBreaker(input) }
        let reference =
            input["taskDefinition"] as? String ?? service.rollouts.first { $0.status == "PRIMARY" }?.taskDefinition ?? ""
        let definition = try taskDefinition(reference, state)
        for index in service.rollouts.indices where service.rollouts[index].status == "PRIMARY" {
            service.rollouts[index].status = "ACTIVE"
        }
        service.rollouts.insert(
            Rollout(
                id: "ecs-svc/\(UUID().uuidString.prefix(8))", status: "PRIMARY",
                taskDefinition: definition["taskDefinitionArn"] as? String ?? "", scenario: scenario(definition), createdAt: now,
                desired: service.desired), at: 0)
        service.managedTags = input["enableECSManagedTags"] as? Bool
        if let configuration = input["deploymentConfiguration"] as? [String: Any] {
            service.deploymentConfiguration = configuration
        }
        if let propagateTags = input["propagateTags"] as? String { service.propagateTags = propagateTags }
        state.services[key] = service
        startServiceDeployment(of: key, now: now, &state)
        return render(service, now: now)
    }

    static func circuitBreaker(_ input: [String: Any]) -> (Bool, Bool) {
        let configuration = input["deploymentConfiguration"] as? [String: Any]
        let breaker = configuration?["deploymentCircuitBreaker"] as? [String: Any]
        return (breaker?["enable"] as? Bool ?? false, breaker?["rollback"] as? Bool ?? false)
    }

    func describeServices(_ input: [String: Any], now: Date, _ state: inout State) -> [String: Any] {
        let cluster = input["cluster"] as? String ?? "default"
        let names = input["services"] as? [String] ?? []
        state.describeServicesBatches.append(names.count)
        state.describeServicesTimes.append(now)
        var services: [[String: Any]] = []
        var failures: [[String: Any]] = []
        for name in names {
            let key = "\(cluster)/\(String(name.split(separator: "/").last ?? ""))"
            guard var service = state.services[key] else {
                failures.append([
                    "arn": "arn:aws:ecs:\(settings.region):\(settings.account):service/\(cluster)/\(name)", "reason": "MISSING",
                ])
                continue
            }
            materialize(&service, now: now, &state)
            state.services[key] = service
            advanceServiceDeployments(now: now, &state)
            services.append(render(state.services[key] ?? service, now: now))
        }
        return ["services": services, "failures": failures]
    }

    /// Moves the PRIMARY rollout along: progress with time, failed tasks, the circuit breaker.
    func materialize(_ service: inout Service, now: Date, _ state: inout State) {
        guard let index = service.rollouts.firstIndex(where: { $0.status == "PRIMARY" }) else { return }
        var rollout = service.rollouts[index]
        guard rollout.rolloutState == "IN_PROGRESS" else { return }
        let elapsed = now.timeIntervalSince(rollout.createdAt)
        let duration =
            Double(settings.rolloutDuration.components.seconds) + Double(settings.rolloutDuration.components.attoseconds) / 1e18
        switch rollout.scenario {
        case "stuck":
            if service.events.first
                != "(service \(service.name)) was unable to place a task because no container instance met all of its requirements."
            {
                service.events.insert(
                    "(service \(service.name)) was unable to place a task because no container instance met all of its requirements.",
                    at: 0)
            }
        case "unhealthy", "crash", "badpull":
            let failed = Int(elapsed / (duration / 4))
            while rollout.failedTasks < failed {
                rollout.failedTasks += 1
                let (code, reason, exitCode): (String, String, Int?) =
                    switch rollout.scenario {
                    case "crash": ("EssentialContainerExited", "Essential container in task exited", 1)
                    case "badpull":
                        (
                            "TaskFailedToStart",
                            "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found", nil
                        )
                    default: ("ServiceSchedulerInitiated", "Task failed ELB health checks in (target-group tg/web)", 137)
                    }
                state.stopped.append(
                    StoppedTask(
                        arn:
                            "arn:aws:ecs:\(settings.region):\(settings.account):task/\(service.cluster)/\(UUID().uuidString.prefix(12).lowercased())",
                        service: service.name, taskDefinition: rollout.taskDefinition, stopCode: code, reason: reason,
                        container: "app", exitCode: exitCode))
            }
            let threshold = min(200, max(3, rollout.desired / 2))
            if rollout.failedTasks >= threshold, service.circuitBreaker.enable {
                rollout.rolloutState = "FAILED"
                rollout.reason = "ECS deployment circuit breaker: tasks failed to start."
                let previous = service.rollouts.first { $0.status == "ACTIVE" && $0.rolloutState == "COMPLETED" }
                if service.circuitBreaker.rollback, let previous {
                    rollout.status = "ACTIVE"
                    service.rollouts[index] = rollout
                    service.rollouts.removeAll { $0.status == "ACTIVE" && $0.id != rollout.id }
                    var restored = Rollout(
                        id: "ecs-svc/\(UUID().uuidString.prefix(8))", status: "PRIMARY", taskDefinition: previous.taskDefinition,
                        scenario: previous.scenario, createdAt: now, desired: service.desired)
                    restored.rolloutState = "COMPLETED"
                    restored.reason = "ECS deployment circuit breaker: rolling back to deploymentId \(previous.id)."
                    service.rollouts.insert(restored, at: 0)
                    service.events.insert("(service \(service.name)) rolling back to deployment \(previous.id).", at: 0)
                    return
                }
            }
        default:
            if elapsed >= duration {
                rollout.rolloutState = "COMPLETED"
                rollout.reason = "ECS deployment \(rollout.id) completed."
                service.rollouts.removeAll { $0.id != rollout.id }
                service.rollouts = [rollout]
                service.events.insert("(service \(service.name)) has reached a steady state.", at: 0)
                return
            }
        }
        service.rollouts[index] = rollout
    }

    func render(_ service: Service, now: Date) -> [String: Any] {
        let duration =
            Double(settings.rolloutDuration.components.seconds) + Double(settings.rolloutDuration.components.attoseconds) / 1e18
        let rollouts = service.rollouts.map { rollout -> [String: Any] in
            let healthy = !["stuck", "unhealthy", "crash", "badpull"].contains(rollout.scenario)
            let running: Int
            if rollout.rolloutState == "COMPLETED" {
                running = rollout.desired
            } else if healthy {
                running = min(rollout.desired, Int(Double(rollout.desired) * now.timeIntervalSince(rollout.createdAt) / duration))
            } else {
                running = 0
            }
            var rendered: [String: Any] = [
                "id": rollout.id, "status": rollout.status, "taskDefinition": rollout.taskDefinition,
                "desiredCount": rollout.desired, "runningCount": running,
                "pendingCount": rollout.rolloutState == "IN_PROGRESS" ? rollout.desired - running : 0,
                "failedTasks": rollout.failedTasks, "rolloutState": rollout.rolloutState,
                "createdAt": rollout.createdAt.timeIntervalSince1970,
            ]
            rendered["rolloutStateReason"] = rollout.reason
            return rendered
        }
        let primary = rollouts.first { $0["status"] as? String == "PRIMARY" }
        var rendered: [String: Any] = [
            "serviceName": service.name, "serviceArn": service.arn,
            "clusterArn": "arn:aws:ecs:\(settings.region):\(settings.account):cluster/\(service.cluster)", "status": "ACTIVE",
            "desiredCount": service.desired, "runningCount": rollouts.reduce(0) { $0 + ($1["runningCount"] as? Int ?? 0) },
            "taskDefinition": primary?["taskDefinition"] ?? "", "deployments": rollouts,
            "events": service.events.prefix(20).enumerated().map {
                ["id": "\($0.offset)", "message": $0.element, "createdAt": now.timeIntervalSince1970]
            },
            "deploymentController": ["type": "ECS"], "deploymentConfiguration": service.deploymentConfiguration,
        ]
        rendered["propagateTags"] = service.propagateTags
        return rendered
    }

    // MARK: Tasks

    func runTask(_ input: [String: Any], now: Date, _ state: inout State) throws -> [String: Any] {
        let token = input["clientToken"] as? String
        if let token, let arns = state.runTaskTokens[token] {
            return ["tasks": arns.compactMap { state.oneOff[$0].map { renderTask($0, now: now) } }, "failures": []]
        }
        let definition = try taskDefinition(input["taskDefinition"] as? String ?? "", state)
        let cluster = input["cluster"] as? String ?? "default"
        let overrides = ((input["overrides"] as? [String: Any])?["containerOverrides"] as? [[String: Any]]) ?? []
        var tasks: [[String: Any]] = []
        for _ in 0..<(input["count"] as? Int ?? 1) {
            let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let arn = "arn:aws:ecs:\(settings.region):\(settings.account):task/\(cluster)/\(id)"
            var containers: [(String, Bool, Int)] = []
            for container in definition["containerDefinitions"] as? [[String: Any]] ?? [] {
                let name = container["name"] as? String ?? "app"
                let image = container["image"] as? String ?? ""
                let tag = String(image.split(separator: ":").last ?? "")
                let exitCode = tag.hasPrefix("exit-") ? Int(tag.dropFirst(5)) ?? 1 : 0
                containers.append((name, container["essential"] as? Bool ?? true, exitCode))
                let command =
                    (overrides.first { $0["name"] as? String == name }?["command"] as? [String])
                    ?? (container["command"] as? [String]) ?? []
                if let log = container["logConfiguration"] as? [String: Any], log["logDriver"] as? String == "awslogs",
                    let options = log["options"] as? [String: String], let group = options["awslogs-group"],
                    let prefix = options["awslogs-stream-prefix"]
                {
                    state.logs["\(group)|\(prefix)/\(name)/\(id)"] = [
                        "starting \(name) from \(image)", "command: \(command.joined(separator: " "))",
                        "exiting with code \(exitCode)",
                    ]
                }
            }
            state.oneOff[arn] = OneOffTask(
                arn: arn, taskDefinition: definition["taskDefinitionArn"] as? String ?? "", startedAt: now,
                containers: containers.map { (name: $0.0, essential: $0.1, exitCode: $0.2) })
            tasks.append(renderTask(state.oneOff[arn]!, now: now))
        }
        if let token { state.runTaskTokens[token] = tasks.compactMap { $0["taskArn"] as? String } }
        return ["tasks": tasks, "failures": []]
    }

    func stopTask(_ input: [String: Any], now: Date, _ state: inout State) throws -> [String: Any] {
        let arn = input["task"] as? String ?? ""
        guard var task = state.oneOff[arn] else {
            throw Failure(type: "InvalidParameterException", message: "The referenced task was not found.")
        }
        if task.stopped == nil, !isFinished(task, now: now) {
            task.stopped = (now, input["reason"] as? String ?? "Task stopped by user")
            state.oneOff[arn] = task
        }
        return ["task": renderTask(task, now: now)]
    }

    func isFinished(_ task: OneOffTask, now: Date) -> Bool {
        let duration =
            Double(settings.taskDuration.components.seconds) + Double(settings.taskDuration.components.attoseconds) / 1e18
        return task.stopped != nil || now.timeIntervalSince(task.startedAt) >= duration
    }

    func describeTasks(_ input: [String: Any], now: Date, _ state: State) -> [String: Any] {
        var tasks: [[String: Any]] = []
        for arn in input["tasks"] as? [String] ?? [] {
            if let task = state.oneOff[arn] {
                tasks.append(renderTask(task, now: now))
            } else if let stopped = state.stopped.first(where: { $0.arn == arn }) {
                var container: [String: Any] = ["name": stopped.container, "lastStatus": "STOPPED"]
                container["exitCode"] = stopped.exitCode
                if stopped.stopCode == "TaskFailedToStart" { container["reason"] = stopped.reason }
                tasks.append([
                    "taskArn": stopped.arn, "taskDefinitionArn": stopped.taskDefinition, "lastStatus": "STOPPED",
                    "desiredStatus": "STOPPED", "stopCode": stopped.stopCode, "stoppedReason": stopped.reason,
                    "containers": [container],
                ])
            }
        }
        return ["tasks": tasks, "failures": []]
    }

    func renderTask(_ task: OneOffTask, now: Date) -> [String: Any] {
        let stopped = isFinished(task, now: now)
        let exitCode = { (container: (name: String, essential: Bool, exitCode: Int)) in
            task.stopped == nil ? container.exitCode : 137
        }
        var rendered: [String: Any] = [
            "taskArn": task.arn, "taskDefinitionArn": task.taskDefinition, "lastStatus": stopped ? "STOPPED" : "RUNNING",
            "desiredStatus": stopped ? "STOPPED" : "RUNNING",
            "containers": task.containers.map { container -> [String: Any] in
                var rendered: [String: Any] = ["name": container.name, "lastStatus": stopped ? "STOPPED" : "RUNNING"]
                if stopped { rendered["exitCode"] = exitCode(container) }
                return rendered
            },
        ]
        if let userStop = task.stopped {
            rendered["stopCode"] = "UserInitiated"
            rendered["stoppedReason"] = userStop.reason
        } else if stopped {
            rendered["stopCode"] = "EssentialContainerExited"
            rendered["stoppedReason"] = "Essential container in task exited"
        }
        return rendered
    }

    func logEvents(_ input: [String: Any], now: Date, _ state: inout State) throws -> [String: Any] {
        let key = "\(input["logGroupName"] as? String ?? "")|\(input["logStreamName"] as? String ?? "")"
        guard let lines = state.logs[key] else {
            throw Failure(type: "ResourceNotFoundException", message: "The specified log stream does not exist.")
        }
        let start = Int((input["nextToken"] as? String)?.dropFirst(2) ?? "0") ?? 0
        let events = lines.dropFirst(start).map {
            ["timestamp": Int(now.timeIntervalSince1970 * 1000), "message": $0] as [String: Any]
        }
        return ["events": events, "nextForwardToken": "f/\(lines.count)", "nextBackwardToken": "b/0"]
    }
}
