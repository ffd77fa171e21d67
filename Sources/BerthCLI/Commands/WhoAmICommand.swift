import AWSCore
import AWSCredentials
import AWSSTS
import ArgumentParser
import Foundation

/// `berth aws whoami`: resolves credentials the way a deployment on this machine would, and asks
/// STS whose they are.
struct WhoAmICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Show the AWS identity that Berth's credential chain resolves on this machine.",
        discussion: """
            Credentials are looked for in order: environment variables, the shared config and \
            credentials files (AWS_PROFILE or --profile), a web identity token file \
            (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN), container credentials \
            (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI) and IMDSv2. With --assume-role-arn, \
            that role is assumed on top. --explain shows what every source did.
            """)

    @Option(help: "The region of the STS call (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, then us-east-1).")
    var region: String?

    @Option(help: "Use this profile of the shared config and credentials files, and only it.")
    var profile: String?

    @Option(name: .customLong("assume-role-arn"), help: "Assume this role on top of the resolved credentials.")
    var assumeRoleARN: String?

    @Option(name: .customLong("external-id"), help: "The external ID the role's trust policy requires.")
    var externalID: String?

    @Option(name: .customLong("session-name"), help: "The role session name (generated when omitted).")
    var sessionName: String?

    @Option(name: .customLong("session-duration"), help: "The role session duration in seconds, 900 to 43200.")
    var sessionDuration: Int?

    @Flag(help: "Show which credential sources were used, skipped or failed, and why.")
    var explain = false

    @Option(help: "Output format: table or json.")
    var output: OutputFormat = .table

    func validate() throws {
        if assumeRoleARN == nil {
            for (flag, value) in [
                ("--external-id", externalID), ("--session-name", sessionName),
                ("--session-duration", sessionDuration.map(String.init)),
            ]
            where value != nil {
                throw ValidationError("\(flag) only applies with --assume-role-arn.")
            }
        }
    }

    func run() async throws {
        let environment = EnvironmentVariables.process
        let result = await WhoAmI(
            environment: environment, region: region, profile: profile,
            assumeRole: assumeRoleARN.map {
                AssumeRoleResolver.Options(
                    roleARN: $0, sessionName: sessionName, durationSeconds: sessionDuration, externalID: externalID)
            }
        ).run()
        let printer = WhoAmIPrinter(format: output, explain: explain)
        switch result {
        case .success(let report):
            print(printer.render(report))
        case .failure(let failure):
            if let trace = failure.trace, explain || output == .json {
                if output == .json {
                    print(printer.renderFailure(failure))
                } else {
                    FileHandle.standardError.write(Data((printer.renderTrace(trace) + "\n").utf8))
                }
            }
            FileHandle.standardError.write(Data("error: \(failure.message)\n".utf8))
            throw ExitCode(failure.exitCode)
        }
    }
}
