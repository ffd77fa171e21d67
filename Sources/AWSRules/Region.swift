import Foundation

/// A validated AWS region name, such as `eu-west-1`.
public struct Region: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let partition: Partition

    /// Accepts the regions of the aws, aws-cn and aws-us-gov partitions.
    ///
    /// - Parameter allowUnlisted: accept a region that has the shape of a partition's regions but
    ///   is not in Berth's list, as when an endpoint URL is configured explicitly.
    public init(_ name: String, allowUnlisted: Bool = false) throws(AWSClientError) {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw AWSClientError(
                .invalidRegion,
                "No AWS region is set. Pass --region, set AWS_REGION (or AWS_DEFAULT_REGION), or put `region` in the profile.")
        }
        guard let partition = Partition.of(region: trimmed) else {
            throw AWSClientError(
                .invalidRegion,
                "'\(trimmed)' is not an AWS region. Regions look like 'us-east-1' or 'eu-west-2'\(Self.suggestion(for: trimmed))."
            )
        }
        guard partition.regions.contains(trimmed) || allowUnlisted else {
            throw AWSClientError(
                .invalidRegion,
                "'\(trimmed)' is not a known region of the \(partition.id) partition\(Self.suggestion(for: trimmed)). "
                    + "For a region newer than Berth, set AWS_ENDPOINT_URL to its endpoint.")
        }
        self.name = trimmed
        self.partition = partition
    }

    public var description: String { name }

    static func hasRegionShape(_ name: String) -> Bool {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let last = parts.last, !last.isEmpty, last.allSatisfy(\.isNumber) else { return false }
        return parts.dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isLowercase && $0.isLetter } }
    }

    /// ", did you mean 'eu-west-1'?" for a near miss among the known regions.
    static func suggestion(for name: String) -> String {
        let known = Partition.all.flatMap(\.regions)
        let lowered = name.lowercased()
        if known.contains(lowered) { return " (region names are lower case: '\(lowered)')" }
        var best: (region: String, distance: Int)?
        for region in known.sorted() {
            let distance = editDistance(region, lowered)
            if distance < (best?.distance ?? Int.max) { best = (region, distance) }
        }
        guard let best, best.distance <= 2 else { return "" }
        return "; did you mean '\(best.region)'?"
    }

    static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let a = Array(lhs.utf8), b = Array(rhs.utf8)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                let deletion = previous[j] + 1
                let insertion = current[j - 1] + 1
                current[j] = Swift.min(substitution, deletion, insertion)
            }
            previous = current
        }
        return previous[b.count]
    }
}
