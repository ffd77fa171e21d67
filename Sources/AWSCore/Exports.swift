// The pure rules (regions, partitions, ARNs, STS input limits) and the client-side error live in
// AWSRules, which Berth's domain uses without the transport. Every user of the AWS client sees them.
@_exported import AWSRules
