import AWSCore
import AWSCredentials
import BerthDomain
import Foundation
import Logging

/// What a worker needs from the outside to run step jobs, read once at its edge: never anything of
/// the server's (no store, no master key).
public struct WorkerConfiguration: Sendable {
    /// The worker's environment: its ambient credentials and `AWS_ENDPOINT_URL*`.
    public var environment: EnvironmentVariables
    /// How often a job asks ECS how its services and tasks are doing (one DescribeServices per
    /// cluster and identity for all of the worker's jobs).
    public var deploymentPollInterval: Duration
    /// The shell for Run AWS CLI script steps.
    public var bash: String
    /// Whom Run AWS CLI script steps run as.
    public var scriptUser: ScriptUser
    /// util-linux's `setpriv`, which starts a script as ``scriptUser``.
    public var setpriv: String
    public var clock: any AWSClock
    public var transport: any HTTPTransport
    public var logger: Logger

    public init(
        environment: EnvironmentVariables = .process, deploymentPollInterval: Duration = .seconds(5),
        bash: String = "/bin/bash", scriptUser: ScriptUser = ScriptUser(), setpriv: String = "/usr/bin/setpriv",
        clock: any AWSClock = SystemClock(), transport: any HTTPTransport = AsyncHTTPTransport.shared,
        logger: Logger = Logger(label: "berth.worker")
    ) {
        self.environment = environment
        self.deploymentPollInterval = deploymentPollInterval
        self.bash = bash
        self.scriptUser = scriptUser
        self.setpriv = setpriv
        self.clock = clock
        self.transport = transport
        self.logger = logger
    }

    /// What the credential sources see: this environment, transport, clock and logger.
    public func credentialContext(region: String) -> CredentialContext {
        CredentialContext(environment: environment, region: region, transport: transport, clock: clock, logger: logger)
    }

    /// A client of `service` in `region` that honours `AWS_ENDPOINT_URL*` of this environment.
    public func client(
        for service: AWSServiceDescriptor, region: String, credentials: any CredentialProvider
    ) throws(AWSClientError) -> AWSClient {
        try AWSClient(
            service: service, region: region, credentialProvider: credentials, environment: environment, transport: transport,
            clock: clock, logger: logger)
    }
}

/// A readable message for anything an AWS call or a step throws.
func describe(_ error: any Error) -> String {
    if let error = error as? BerthError { return error.message }
    return String(describing: error)
}
