import ArgumentParser
import BerthAPI
import Foundation

/// `berth audit …`: the audit log (AuditView).
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Read the audit log and check its chain (AuditView).",
        subcommands: [List.self, Verify.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List audit events, newest first.")
        @OptionGroup var options: ClientOptions
        @Option(help: "Events at or after this time (ISO 8601, e.g. 2026-11-30T09:00:00Z).") var since: String?
        @Option(help: "Events of this username.") var user: String?
        @Option(help: "Events of this operation, e.g. createDeployment.") var action: String?
        @Option(
            help:
                "Events on this record: its name (e.g. web), or its kind and id or part of them (e.g. projects/, accounts/acc-k3q9)."
        ) var record: String?
        @Option(help: "At most this many events (1-1000).") var limit = 100

        func validate() throws {
            if let since, ISO8601DateFormatter().date(from: since) == nil {
                throw ValidationError("--since '\(since)' is not an ISO 8601 time such as 2026-11-30T09:00:00Z.")
            }
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1 to 1000.") }
        }

        func run() async throws {
            let client = try options.connect()
            let query = Operations.ListAuditEvents.Input.Query(
                since: since.flatMap { ISO8601DateFormatter().date(from: $0) }, actor: user, action: action, record: record,
                limit: limit)
            switch try await client.call({ try await $0.listAuditEvents(query: query) }) {
            case .ok(let ok):
                let events = try ok.body.json.items
                if options.output == .json { return print(try Output.json(events)) }
                print(
                    Output.table(
                        ["#", "TIME", "WHO", "ACTION", "RECORD", "DETAILS"],
                        try events.map {
                            [
                                String($0.sequence), Output.time($0.occurredAt),
                                ($0.actor ?? "-") + ($0.keyName.map { " (\($0))" } ?? ""), $0.action, $0.record,
                                String(decoding: try JSONEncoder().encode($0.details), as: UTF8.self),
                            ]
                        }))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that no audit event was changed: each must follow from the one before (exit 1 if not).")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.verifyAudit() }) {
            case .ok(let ok):
                let result = try ok.body.json
                if options.output == .json { print(try Output.json(result)) } else { print(result.message) }
                if !result.intact { throw ExitCode(1) }
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}
