import ArgumentParser
import BerthAPI
import Foundation

extension AccountCommand {
    /// `berth account trust-policy NAME`: the IAM trust policy for an OIDC account's role.
    struct TrustPolicy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "trust-policy",
            abstract: "Print the IAM trust policy that lets an OIDC account's tokens assume its role.",
            discussion: """
                The policy names Berth's OIDC provider as the federated principal and locks the role to the \
                audience and to the subjects of the tokens chosen with --for: one exact subject with \
                StringEquals, a family (any target, any project or environment) with StringLike and '*'.
                Only the policy goes to standard output, so it can be passed to AWS directly:
                  aws iam update-assume-role-policy --role-name NAME --policy-document "$(berth account trust-policy prod)"
                """)
        enum Scope: String, ExpressibleByArgument, CaseIterable {
            case test, health, deployments, all
        }

        @OptionGroup var options: ClientOptions
        @Argument(help: "The OIDC account's name or id.") var account: String
        @Option(name: .customLong("for"), help: "Which tokens to accept: test, health, deployments or all.")
        var scope: Scope = .all
        @Option(help: "Deployments of this project only (default: any project).") var project: String?
        @Option(help: "Deployments to this environment only (default: any environment).") var environment: String?

        func run() async throws {
            let client = try options.connect()
            let query = Operations.GetAccountTrustPolicy.Input.Query(
                _for: .init(rawValue: scope.rawValue), project: project, environment: environment)
            switch try await client.call({
                try await $0.getAccountTrustPolicy(path: .init(space: options.space, account: account), query: query)
            }) {
            case .ok(let ok):
                let body = try ok.body.json
                if options.output == .json {
                    print(try Output.json(body))
                } else {
                    FileHandle.standardError.write(
                        Data(
                            ("Trust policy for \(body.roleArn): \(body._operator) on sub "
                                + body.subjects.joined(separator: ", ") + "; aud \(body.audience).\n").utf8))
                    print(body.policy)
                }
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}
