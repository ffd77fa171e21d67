import AWSCore
import AWSRules
import BerthAPI
import BerthDomain
import BerthEngine
import BerthStore
import BerthUseCases
import Foundation

extension APIService {
    func listNodes(_ input: Operations.ListNodes.Input) async throws -> Operations.ListNodes.Output {
        let nodes = try await useCases.listNodes(by: try requester())
        return .ok(.init(body: .json(.init(items: nodes.map { .init($0, engine.configuration) }))))
    }

    func drainNode(_ input: Operations.DrainNode.Input) async throws -> Operations.DrainNode.Output {
        let node = try await useCases.setDraining(node: input.path.node, true, by: try requester())
        return .ok(.init(body: .json(.init(node, engine.configuration))))
    }

    func undrainNode(_ input: Operations.UndrainNode.Input) async throws -> Operations.UndrainNode.Output {
        let node = try await useCases.setDraining(node: input.path.node, false, by: try requester())
        return .ok(.init(body: .json(.init(node, engine.configuration))))
    }
}

extension Components.Schemas.ClusterNode {
    /// A node is alive while its last heartbeat is younger than a task lease: until then, no other
    /// node takes its tasks over.
    init(_ node: ClusterNode, _ configuration: EngineConfiguration) {
        let age = configuration.clock.now().timeIntervalSince(node.lastSeenAt)
        self.init(
            name: node.name, host: node.host, version: node.version, startedAt: node.startedAt, lastSeenAt: node.lastSeenAt,
            running: node.running, taskCap: node.taskCap, draining: node.draining,
            alive: age < configuration.taskLease.timeInterval)
    }
}
