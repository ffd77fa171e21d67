import AWSECS

/// What DescribeClusters says of a target's cluster — what a health check reports and what every
/// ECS step checks before it changes anything.
public enum ClusterLookup: Sendable {
    /// The cluster is ACTIVE: deployments to it can go ahead.
    case active(ECS.Cluster)
    /// The cluster exists in another state (INACTIVE, PROVISIONING, DEPROVISIONING, FAILED).
    case notActive(ECS.Cluster, status: String)
    /// ECS does not know the cluster; `reason` is the failure it gave (usually MISSING).
    case missing(reason: String)

    /// Asks ECS for `reference` (a cluster name or ARN). AWS and transport errors are thrown.
    public static func find(_ reference: String, with ecs: ECSClient) async throws -> ClusterLookup {
        let response = try await ecs.describeClusters(ECS.DescribeClustersRequest(clusters: [reference]))
        guard let cluster = response.clusters?.first(where: { $0.clusterName == reference || $0.clusterArn == reference }) else {
            return .missing(reason: response.failures?.first?.reason ?? "not returned")
        }
        let status = cluster.status ?? "UNKNOWN"
        return status == "ACTIVE" ? .active(cluster) : .notActive(cluster, status: status)
    }

    /// "3 services, 5 running tasks, 0 container instances".
    public static func counts(_ cluster: ECS.Cluster) -> String {
        "\(cluster.activeServicesCount ?? 0) services, \(cluster.runningTasksCount ?? 0) running tasks, "
            + "\(cluster.registeredContainerInstancesCount ?? 0) container instances"
    }
}
