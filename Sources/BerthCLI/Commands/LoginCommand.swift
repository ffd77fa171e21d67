import ArgumentParser
import BerthAPI
import Foundation

/// `berth login`: checks the server and key, then saves them for the next commands.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login", abstract: "Save the Berth server's URL and an API key for the other commands (file mode 0600).")

    @Option(help: "The Berth server's URL, e.g. http://127.0.0.1:8080.")
    var server: String

    @Option(name: .customLong("api-key"), help: "An API key (`berth apikey create`, or the one the server printed).")
    var apiKey: String

    func run() async throws {
        let client = try BerthClient(server: server, apiKey: apiKey)
        let spaces = try await client.call { try await $0.listSpaces() }
        guard case .ok = spaces else {
            if case .default(let status, let error) = spaces { throw BerthClient.failure(status, error) }
            return
        }
        let url = try ClientConfiguration(server: client.server, apiKey: apiKey).save(
            environment: ProcessInfo.processInfo.environment)
        print("Logged in to \(client.server); saved to \(url.path).")
    }
}
