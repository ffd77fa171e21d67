import Foundation

/// An AWS partition: a group of regions that share a DNS suffix and an ARN prefix.
public struct Partition: Sendable, Hashable {
    /// `aws`, `aws-cn` or `aws-us-gov`: the second field of every ARN in the partition.
    public let id: String
    public let dnsSuffix: String
    public let regions: Set<String>
    /// The pattern of the partition's region names, used to say where an unknown region belongs.
    let prefixes: [String]

    public static let aws = Partition(
        id: "aws", dnsSuffix: "amazonaws.com",
        regions: [
            "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
            "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
            "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
            "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
            "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2",
            "us-west-1", "us-west-2",
        ],
        prefixes: ["us-", "eu-", "ap-", "sa-", "ca-", "me-", "af-", "il-", "mx-"])

    public static let china = Partition(
        id: "aws-cn", dnsSuffix: "amazonaws.com.cn", regions: ["cn-north-1", "cn-northwest-1"], prefixes: ["cn-"])

    public static let govCloud = Partition(
        id: "aws-us-gov", dnsSuffix: "amazonaws.com", regions: ["us-gov-east-1", "us-gov-west-1"],
        prefixes: ["us-gov-"])

    public static let all: [Partition] = [.aws, .china, .govCloud]

    /// The partition of a region name, by its known regions first and then by its shape.
    public static func of(region: String) -> Partition? {
        if let known = all.first(where: { $0.regions.contains(region) }) { return known }
        guard Region.hasRegionShape(region) else { return nil }
        // The longest matching prefix wins, so `us-gov-…` is GovCloud and not the commercial `us-`.
        return all.compactMap { partition in
            partition.prefixes.filter { region.hasPrefix($0) }.map { (partition, $0.count) }.max { $0.1 < $1.1 }
        }.max { $0.1 < $1.1 }?.0
    }
}
