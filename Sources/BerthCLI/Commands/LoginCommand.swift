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
    var apiKey: String?

    @Option(help: "Log in with this username and its password instead (asked with echo off): saves a 12-hour session key.")
    var username: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input.")
    var passwordStdin = false

    func validate() throws {
        guard (apiKey == nil) != (username == nil) else {
            throw ValidationError("Give either --api-key or --username.")
        }
    }

    func run() async throws {
        var apiKey = self.apiKey ?? ""
        if let username {
            let password =
                passwordStdin
                ? try SecretPrompt.readFromStandardInput(name: "password")
                : try SecretPrompt.prompt("password for \(username)", flag: "--password-stdin")
            let anonymous = try BerthClient(server: server, apiKey: "")
            switch try await anonymous.call({
                try await $0.createSession(body: .json(.init(username: username, password: password)))
            }) {
            case .created(let created): apiKey = try created.body.json.key
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
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
