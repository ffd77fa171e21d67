import AWSCore
import ArgumentParser
import BerthDomain
import Foundation

/// `berth`: the root command.
public struct BerthCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "berth",
        abstract: "Deployment automation for Amazon ECS.",
        version: BerthVersion.current,
        subcommands: [
            ServerCommand.self, LoginCommand.self, EnvironmentCommand.self, AccountCommand.self, TargetCommand.self,
            ProjectCommand.self, VariableCommand.self, LifecycleCommand.self, ReleaseCommand.self, DeployCommand.self,
            DeploymentCommand.self,
            TaskCommand.self, NodeCommand.self, WorkerPoolCommand.self, WorkerCommand.self,
            APIKeyCommand.self, UserCommand.self, TeamCommand.self, RoleCommand.self, BerthWhoAmICommand.self,
            AuditCommand.self,
            OIDCCommand.self, AWSCommand.self,
        ])

    public init() {}
}

/// `berth aws`: AWS credentials and identity.
struct AWSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aws",
        abstract: "Inspect AWS credentials as Berth resolves them.",
        subcommands: [WhoAmICommand.self])
}

/// Exit codes shared by every command.
public enum BerthExitCode {
    /// The command did what was asked.
    public static let success: Int32 = 0
    /// The command ran but failed: AWS refused, credentials were not found, a check failed.
    public static let failure: Int32 = 1
    /// The command line is wrong.
    public static let usage: Int32 = 2
    /// A server (Berth's or AWS's) could not be reached.
    public static let unreachable: Int32 = 3
    /// A deployment's ECS circuit breaker rolled the service back to its previous revision.
    public static let rolledBack: Int32 = 4
    /// A task did not finish within its time limit.
    public static let timedOut: Int32 = 5
    /// A task was cancelled.
    public static let cancelled: Int32 = 6
}

/// Output formats of `--output`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// The entry point of the `berth` executable: parses, runs, and maps errors to Berth's exit codes
/// (ArgumentParser's usage errors become 2).
public enum BerthMain {
    public static func run(arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        do {
            var command = try BerthCommand.parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(BerthExitCode.success)
        } catch let failure as CLIFailure {
            FileHandle.standardError.write(Data(("Error: " + failure.message + "\n").utf8))
            exit(failure.exitCode)
        } catch let error as BerthError {
            FileHandle.standardError.write(Data(("Error: " + error.message + "\n").utf8))
            exit(error.code == .badRequest || error.code == .validationFailed ? BerthExitCode.usage : BerthExitCode.failure)
        } catch let exitCode as ExitCode {
            exit(exitCode.rawValue)
        } catch {
            let code = BerthCommand.exitCode(for: error)
            if code == .success {
                print(BerthCommand.fullMessage(for: error))
                exit(BerthExitCode.success)
            }
            FileHandle.standardError.write(Data((BerthCommand.fullMessage(for: error) + "\n").utf8))
            exit(code == .validationFailure ? BerthExitCode.usage : code.rawValue)
        }
    }
}
