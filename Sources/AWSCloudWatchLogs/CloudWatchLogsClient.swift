import AWSCore
import Foundation

/// The shapes of the CloudWatch Logs API, generated from botocore's model.
public enum CloudWatchLogs {}

/// A typed client for Amazon CloudWatch Logs (AWS JSON 1.1).
public struct CloudWatchLogsClient: AWSServiceClient {
    public static let service = AWSServiceDescriptor.cloudWatchLogs
    public let client: AWSClient

    public init(client: AWSClient) {
        precondition(client.service == Self.service, "CloudWatchLogsClient needs an AWSClient for CloudWatch Logs")
        self.client = client
    }

    /// Every page of `GetLogEvents` reading forward. The service returns the same forward token
    /// once it reaches the end of the stream, which ends the sequence.
    public func getLogEventsPages(
        _ input: CloudWatchLogs.GetLogEventsRequest
    ) -> AWSPaginator<CloudWatchLogs.GetLogEventsRequest, CloudWatchLogs.GetLogEventsResponse> {
        var input = input
        if input.startFromHead == nil { input.startFromHead = true }
        return AWSPaginator(input: input, fetch: { try await self.getLogEvents($0) }, nextToken: \.nextForwardToken) {
            $0.nextToken = $1
        }
    }
}
