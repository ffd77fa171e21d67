import AWSCore
import AWSCredentials
import AWSSTS
import Foundation

/// What `berth aws whoami` does, apart from parsing and printing: resolve, then GetCallerIdentity.
struct WhoAmI {
    struct Report: Encodable {
        var account: String
        var arn: String
        var userId: String
        var source: String
        var region: String
        var trace: CredentialTrace
    }

    struct Failure: Error {
        var message: String
        var trace: CredentialTrace?
        var exitCode: Int32
    }

    let environment: EnvironmentVariables
    let region: String?
    let profile: String?
    let assumeRole: AssumeRoleResolver.Options?

    func run() async -> Result<Report, Failure> {
        do {
            let regionName = try resolveRegion()
            let context = CredentialContext(environment: environment, region: regionName, profile: profile)
            var resolver: any CredentialResolver = CredentialChain.standard(context: context)
            if let assumeRole {
                resolver = try AssumeRoleResolver(base: resolver, options: assumeRole, context: context)
            }
            let resolution: CredentialResolution
            do {
                resolution = try await resolver.resolve()
            } catch let error as CredentialResolutionError {
                let code = error.awsErrorCode.map { " [\($0.rawValue)]" } ?? ""
                return .failure(Failure(message: error.message + code, trace: error.trace, exitCode: BerthExitCode.failure))
            }
            let sts = STSClient(
                client: try AWSClient(
                    service: .sts, region: regionName, credentialProvider: StaticCredentialProvider(resolution.credentials),
                    environment: environment))
            do {
                let identity = try await sts.getCallerIdentity()
                return .success(
                    Report(
                        account: identity.account, arn: identity.arn, userId: identity.userID, source: resolution.source,
                        region: regionName, trace: resolution.trace))
            } catch let error as AWSError {
                return .failure(Failure(message: "\(error)", trace: resolution.trace, exitCode: BerthExitCode.failure))
            } catch let error as AWSClientError {
                return .failure(Failure(message: error.message, trace: resolution.trace, exitCode: Self.exitCode(error)))
            }
        } catch let error as AWSClientError {
            return .failure(Failure(message: error.message, trace: nil, exitCode: Self.exitCode(error)))
        } catch let error as CredentialSourceError {
            return .failure(Failure(message: error.message, trace: nil, exitCode: BerthExitCode.failure))
        } catch {
            return .failure(Failure(message: "\(error)", trace: nil, exitCode: BerthExitCode.failure))
        }
    }

    /// --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region, us-east-1.
    func resolveRegion() throws -> String {
        if let region { return region }
        if let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] { return region }
        let files = try SharedConfigFiles.load(environment)
        let profileName = profile ?? environment["AWS_PROFILE"] ?? "default"
        return files.region(profile: profileName) ?? "us-east-1"
    }

    static func exitCode(_ error: AWSClientError) -> Int32 {
        switch error.code {
        case .connectionFailed, .timedOut: BerthExitCode.unreachable
        case .invalidRegion, .invalidEndpoint, .invalidRequest: BerthExitCode.usage
        default: BerthExitCode.failure
        }
    }
}

/// Renders the report as a table or JSON.
struct WhoAmIPrinter {
    let format: OutputFormat
    let explain: Bool

    func render(_ report: WhoAmI.Report) -> String {
        switch format {
        case .json:
            var object: [String: Any] = [
                "account": report.account, "arn": report.arn, "userId": report.userId, "source": report.source,
                "region": report.region,
            ]
            if explain { object["trace"] = traceObjects(report.trace) }
            return json(object)
        case .table:
            var lines = [
                "Account  \(report.account)",
                "ARN      \(report.arn)",
                "User ID  \(report.userId)",
                "Source   \(report.source)",
                "Region   \(report.region)",
            ]
            if explain {
                lines += ["", "Credential sources:", renderTrace(report.trace)]
            }
            return lines.joined(separator: "\n")
        }
    }

    func renderFailure(_ failure: WhoAmI.Failure) -> String {
        var object: [String: Any] = ["error": failure.message]
        if let trace = failure.trace { object["trace"] = traceObjects(trace) }
        return json(object)
    }

    func renderTrace(_ trace: CredentialTrace) -> String {
        trace.description.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
    }

    private func traceObjects(_ trace: CredentialTrace) -> [[String: String]] {
        trace.entries.map { ["source": $0.source, "outcome": $0.outcome.rawValue, "detail": $0.detail] }
    }

    private func json(_ object: [String: Any]) -> String {
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
