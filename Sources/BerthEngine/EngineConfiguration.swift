import AWSCore
import Foundation
import Logging

/// What the engine needs from the outside, read once at the edge.
public struct EngineConfiguration: Sendable {
    /// The server's environment: the worker's ambient credentials and `AWS_ENDPOINT_URL*`.
    public var environment: EnvironmentVariables
    /// How many tasks run at once on the built-in worker.
    public var maximumConcurrentTasks: Int
    /// How often every target is health-checked; nil turns the schedule off.
    public var healthCheckInterval: Duration?
    public var clock: any AWSClock
    public var transport: any HTTPTransport
    public var logger: Logger

    public init(
        environment: EnvironmentVariables = .process, maximumConcurrentTasks: Int = 32,
        healthCheckInterval: Duration? = .seconds(3600), clock: any AWSClock = SystemClock(),
        transport: any HTTPTransport = AsyncHTTPTransport.shared, logger: Logger = Logger(label: "berth.engine")
    ) {
        self.environment = environment
        self.maximumConcurrentTasks = maximumConcurrentTasks
        self.healthCheckInterval = healthCheckInterval
        self.clock = clock
        self.transport = transport
        self.logger = logger
    }
}
