import ArgumentParser
import BerthAPI
import Foundation

/// `berth worker-pool …`: the pools that targets and steps name.
struct WorkerPoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker-pool", abstract: "Create, list, show and delete worker pools, and make their registration tokens.",
        subcommands: [Create.self, List.self, Show.self, Token.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a worker pool.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name, e.g. private-vpc.") var name: String

        func run() async throws {
            let client = try options.connect()
            let output = try await client.call {
                try await $0.createWorkerPool(path: .init(space: options.space), body: .json(.init(name: name)))
            }
            switch output {
            case .created(let created): print(try WorkerPoolPrinter.render([try created.body.json], options.output, single: true))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the worker pools, the default one first.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.connect()
            var pools: [Components.Schemas.WorkerPool] = []
            var cursor: String?
            repeat {
                let output = try await client.call {
                    try await $0.listWorkerPools(path: .init(space: options.space), query: .init(limit: 1000, after: cursor))
                }
                switch output {
                case .ok(let ok):
                    let page = try ok.body.json
                    pools += page.items
                    cursor = page.nextCursor
                case .default(let status, let error): throw BerthClient.failure(status, error)
                }
            } while cursor != nil
            print(try WorkerPoolPrinter.render(pools.sorted { $0.isDefault && !$1.isDefault }, options.output))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a worker pool, its workers and its registration token's prefix.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name or id.") var pool: String

        func run() async throws {
            let client = try options.connect()
            let output = try await client.call {
                try await $0.getWorkerPool(path: .init(space: options.space, pool: pool))
            }
            switch output {
            case .ok(let ok):
                let details = try ok.body.json
                switch options.output {
                case .json: print(try Output.json(details))
                case .table:
                    print("Pool: \(details.name)\(details.isDefault ? " (the default pool: the built-in worker serves it)" : "")")
                    print(
                        "Registration token: "
                            + (details.registrationTokenPrefix.map {
                                "\($0)… (make a new one with berth worker-pool token \(details.name))"
                            }
                                ?? "none (make one with berth worker-pool token \(details.name))"))
                    print(try WorkerPrinter.render(details.workers, .table))
                }
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Make a registration token for the pool (shown once; the pool's earlier token stops working), or revoke it.",
            discussion: "Workers register with it: berth worker register --server URL --pool POOL --name NAME --token TOKEN")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name or id.") var pool: String
        @Flag(help: "Revoke the pool's token instead; registered workers keep working.") var revoke = false

        func run() async throws {
            let client = try options.connect()
            if revoke {
                let output = try await client.call {
                    try await $0.revokeRegistrationToken(path: .init(space: options.space, pool: pool))
                }
                switch output {
                case .noContent: print(options.output == .json ? "{}" : "Revoked the registration token of '\(pool)'.")
                case .default(let status, let error): throw BerthClient.failure(status, error)
                }
                return
            }
            let output = try await client.call {
                try await $0.createRegistrationToken(path: .init(space: options.space, pool: pool))
            }
            switch output {
            case .created(let created):
                let token = try created.body.json
                switch options.output {
                case .json: print(try Output.json(token))
                case .table:
                    print("Registration token for the pool '\(token.pool)' (shown once):\n  \(token.token)")
                    print(
                        "Register a worker with: berth worker register --server URL --pool '\(token.pool)' --name NAME --token \(token.token)"
                    )
                }
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a worker pool that no target uses (the default pool stays).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name or id.") var pool: String

        func run() async throws {
            let client = try options.connect()
            let output = try await client.call {
                try await $0.deleteWorkerPool(path: .init(space: options.space, pool: pool))
            }
            switch output {
            case .noContent: print(options.output == .json ? "{}" : "Deleted the worker pool '\(pool)'.")
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}

enum WorkerPoolPrinter {
    static func render(_ pools: [Components.Schemas.WorkerPool], _ format: OutputFormat, single: Bool = false) throws -> String {
        switch format {
        case .json: return try single ? Output.json(pools[0]) : Output.json(pools)
        case .table:
            return Output.table(
                ["NAME", "SLUG", "DEFAULT", "ID"], pools.map { [$0.name, $0.slug, $0.isDefault ? "yes" : "", $0.id] })
        }
    }
}
