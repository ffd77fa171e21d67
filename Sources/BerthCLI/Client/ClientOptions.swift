import ArgumentParser
import Foundation

/// Options every client command takes.
struct ClientOptions: ParsableArguments {
    @Option(help: "The Berth server's URL (default: BERTH_SERVER, then the `berth login` file).")
    var server: String?

    @Option(name: .customLong("api-key"), help: "The API key (default: BERTH_API_KEY, then the `berth login` file).")
    var apiKey: String?

    @Option(help: "The space to work in.")
    var space: String = "default"

    @Option(name: .shortAndLong, help: "Output format: table or json.")
    var output: OutputFormat = .table

    /// Connects with flags, then environment variables, then the login file.
    func connect(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BerthClient {
        let file = try ClientConfiguration.load(environment: environment)
        guard let server = server ?? environment["BERTH_SERVER"] ?? file?.server else {
            throw CLIFailure.usage(
                "No Berth server is configured: run `berth login --server URL --api-key KEY`, or set BERTH_SERVER and BERTH_API_KEY."
            )
        }
        guard let apiKey = apiKey ?? environment["BERTH_API_KEY"] ?? file?.apiKey else {
            throw CLIFailure.usage("No API key is configured: run `berth login`, pass --api-key, or set BERTH_API_KEY.")
        }
        return try BerthClient(server: server, apiKey: apiKey)
    }
}
