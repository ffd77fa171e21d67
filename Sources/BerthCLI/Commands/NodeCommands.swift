import ArgumentParser
import BerthAPI
import Foundation

/// `berth node …`: the server nodes of a cluster on one PostgreSQL.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "The server nodes: list them, drain one before maintenance, undrain it after.",
        subcommands: [List.self, Drain.self, Undrain.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the nodes as their heartbeats last recorded them.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.listNodes() }) {
            case .ok(let ok):
                let nodes = try ok.body.json.items
                if options.output == .json { return print(try Output.json(nodes)) }
                print(
                    Output.table(
                        ["NAME", "HOST", "VERSION", "LAST SEEN", "RUNNING", "STATE"],
                        nodes.map {
                            [
                                $0.name, $0.host, $0.version, Output.time($0.lastSeenAt), "\($0.running)/\($0.taskCap)",
                                NodePrinter.state($0),
                            ]
                        }))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drain a node: it finishes its tasks, claims no new ones, and answers 503 on /readyz.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The node's name (--node-name).") var node: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.drainNode(path: .init(node: node)) }) {
            case .ok(let ok): print(try NodePrinter.one(try ok.body.json, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Undrain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a drained node claim tasks again.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The node's name (--node-name).") var node: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.undrainNode(path: .init(node: node)) }) {
            case .ok(let ok): print(try NodePrinter.one(try ok.body.json, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}

enum NodePrinter {
    static func state(_ node: Components.Schemas.ClusterNode) -> String {
        let life = node.alive ? "alive" : "not seen for a lease (its tasks are taken over)"
        return node.draining ? "draining, \(life)" : life
    }

    static func one(_ node: Components.Schemas.ClusterNode, _ format: OutputFormat) throws -> String {
        if format == .json { return try Output.json(node) }
        return Output.fields([
            ("Node", node.name), ("Host", node.host), ("Version", node.version), ("State", state(node)),
            ("Running", "\(node.running) of \(node.taskCap)"), ("Last seen", Output.time(node.lastSeenAt)),
        ])
    }
}
