// Berth's benchmarks: they print numbers and never fail on them. Run with `make bench`
// (release build). Targets from the foundation issue are printed beside each number.
import AWSCore
import AWSCredentials
import AWSSTS
import AWSSigV4
import BerthDev
import BerthTestSupport
import Foundation

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

/// Signatures of a typical ECS call per second, on the one thread that runs this loop.
func signingRate(iterations: Int = 300_000) -> Double {
    let signer = SigV4Signer(
        credentials: Credentials(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "secret", sessionToken: "token"),
        region: "eu-west-1", service: "ecs")
    let body = Array(#"{"cluster":"prod","services":["web","worker"]}"#.utf8)
    let request = SigningRequest(
        method: "POST", host: "ecs.eu-west-1.amazonaws.com", path: "/",
        headers: [
            .init("Content-Type", "application/x-amz-json-1.1"),
            .init("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DescribeServices"),
        ],
        payloadHash: SigV4Signer.payloadHash(body))
    let date = Date(timeIntervalSince1970: 1_795_000_000)
    var checksum = 0
    let started = ContinuousClock.now
    for index in 0..<iterations {
        let headers = signer.signedHeaders(for: request, date: date.addingTimeInterval(Double(index % 60)))
        checksum &+= headers.count
    }
    let elapsed = (ContinuousClock.now - started).timeInterval
    precondition(checksum == iterations * 3)
    return Double(iterations) / elapsed
}

/// How many STS calls 1,000 concurrent callers of one cached assume-role identity cause.
func stsCallsUnderLoad() async throws -> Int {
    let sts = FakeSTS(expiration: Date().addingTimeInterval(3600))
    return try await withLocalServer(sts.router) { url in
        let context = CredentialContext(environment: ["AWS_ENDPOINT_URL_STS": url], region: "us-east-1")
        let base = CredentialChain(
            sources: [StaticCredentialSource(Credentials(accessKeyID: "AKIABENCH", secretAccessKey: "bench"))], context: context)
        let resolver = try AssumeRoleResolver(
            base: base, options: .init(roleARN: "arn:aws:iam::123456789012:role/Bench", sessionName: "bench"), context: context)
        let cache = CredentialCache(resolver: resolver)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<1000 { group.addTask { _ = try await cache.credentials() } }
            try await group.waitForAll()
        }
        return sts.calls.count
    }
}

/// Wall times, in milliseconds, of `berth aws whoami` (and the AWS CLI's equivalent) against moto.
func whoamiTimes(berth: String) async throws -> (berth: [Double], awsCLI: [Double]?) {
    try await withMoto { moto, administrator in
        var environment = moto.environment.values
        environment["HOME"] = NSTemporaryDirectory()
        environment["AWS_ACCESS_KEY_ID"] = administrator.accessKeyID
        environment["AWS_SECRET_ACCESS_KEY"] = administrator.secretAccessKey
        var berthTimes: [Double] = []
        for _ in 0..<21 {
            let result = try await BerthProcess.run(["aws", "whoami"], environment: environment, binary: berth)
            guard result.status == 0 else { throw TestSupportError("berth aws whoami failed: \(result.standardError)") }
            berthTimes.append(result.duration.timeInterval * 1000)
        }
        var cliTimes: [Double]?
        let aws = URL(fileURLWithPath: try MotoServer.locateExecutable()).deletingLastPathComponent().appendingPathComponent(
            "aws"
        ).path
        if FileManager.default.isExecutableFile(atPath: aws) {
            var times: [Double] = []
            for _ in 0..<5 {
                let result = try await BerthProcess.run(["sts", "get-caller-identity"], environment: environment, binary: aws)
                if result.status == 0 { times.append(result.duration.timeInterval * 1000) }
            }
            cliTimes = times.isEmpty ? nil : times
        }
        return (berthTimes, cliTimes)
    }
}

let arguments = CommandLine.arguments
let berthBinary = arguments.firstIndex(of: "--berth").map { arguments[$0 + 1] } ?? BerthProcess.binaryPath

if arguments.contains("--workers-only") {
    printWorkerResults(try await WorkerBenchmark(berth: berthBinary).run())
    exit(0)
}

if arguments.contains("--web-only") {
    printWebUIResults(try await WebUIBenchmark(berth: berthBinary).run())
    exit(0)
}

if arguments.contains("--deployments-only") {
    printYoungRolloutResults(try await YoungRolloutBenchmark(berth: berthBinary).run())
    printDeploymentResults(try await DeploymentBenchmark(berth: berthBinary).run())
    exit(0)
}

func printYoungRolloutResults(_ results: YoungRolloutBenchmark.Results) {
    print("One young rollout at a time, default settings (adaptive polling, --deployment-poll-interval 5 s):")
    print(
        String(
            format: "  deployment wall time, median:           %10.2f s for a %.1f s rollout (%.2f× the rollout; worst %.2f s)",
            median(results.wallSeconds), results.rolloutSeconds, median(results.wallSeconds) / results.rolloutSeconds,
            results.wallSeconds.max() ?? 0))
    print(
        String(
            format: "  ended after ECS completed, median:       %10.2f s (worst %.2f s of %d; target within 1 s)",
            median(results.lateSeconds), results.lateSeconds.max() ?? 0, results.lateSeconds.count))
    print("  succeeded:                               \(results.succeeded) of \(results.wallSeconds.count)")
    print(
        "  DescribeServices, one watched rollout:   \(results.callsFirstMinute) calls in its first minute (target ≤ 60), \(results.callsSecondMinute) in its second"
    )
}

func printDeploymentResults(_ results: DeploymentBenchmark.Results) {
    print(
        String(
            format:
                "50 concurrent deployments, one cluster:   %10.2f s wall (slowest rollout itself %.2f s), default settings",
            results.wallSeconds, results.slowestRolloutSeconds))
    print("  succeeded:                               \(results.succeeded) of \(results.deployments)")
    print(
        String(
            format:
                "  DescribeServices while waiting:          %10d calls (%.0f per minute for the cluster; ECS takes 10 services per call)",
            results.describeServicesWhileWaiting, Double(results.describeServicesWhileWaiting) / results.wallSeconds * 60))
    print("  largest DescribeServices batch:          \(results.largestBatch) services")
    print(String(format: "  server CPU time for the 50 deployments:  %10.2f s", results.cpuSeconds ?? -1))
}

func printServerResults(_ server: ServerBenchmarks.Results) {
    print(
        String(
            format: "server memory at idle (fresh start):      %10.1f MiB resident, %.1f MiB of it heap (target < 60 MiB)",
            server.idleMemoryMiB ?? -1, server.idleAnonymousMemoryMiB ?? -1))
    print(
        String(
            format: "server memory at idle (12 s after the load): %8.1f MiB resident, %.1f MiB of it heap (target < 60 MiB)",
            server.idleMemoryAfterLoadMiB ?? -1, server.idleAnonymousMemoryAfterLoadMiB ?? -1))
    for limit in [100, 1000] {
        guard let listing = server.listing[limit] else { continue }
        let goals = limit == 100 ? (" (target ≥ 5,000 on 2 cores)", " (target ≥ 2,000 on 2 cores)") : ("", "")
        for (name, measurement, goal) in [
            ("cached (one URL)      ", listing.cached, goals.0), ("cold (a new page each)", listing.cold, goals.1),
        ] {
            let numbers = String(
                format: "%7.0f req/s, p50 %.1f ms, p99 %.1f ms", measurement.requestsPerSecond, measurement.p50Milliseconds,
                measurement.p99Milliseconds)
            print("list targets, 1,000 stored, page of \(limit), \(name): \(numbers)\(goal)")
        }
    }
    print(String(format: "health checks of 200 targets against moto: %9.2f s (target < 2 s)", server.healthCheck200Seconds))
}

func printClusterResults() async throws {
    guard let url = ProcessInfo.processInfo.environment["BERTH_TEST_POSTGRES_URL"] else {
        print("several nodes: skipped (no PostgreSQL; `make bench` starts a throwaway one)")
        return
    }
    progress("several nodes on one PostgreSQL")
    let results = try await ClusterBenchmark(berth: berthBinary, adminURL: url).run()
    for (nodes, rate) in results.claimsPerSecond {
        print(
            String(
                format:
                    "tasks claimed and finished, %d node%@:     %10.0f /s (store only, no task work; target ≥ 500/s on 3 nodes)",
                nodes, nodes == 1 ? " " : "s", rate))
    }
    for (nodes, rate) in results.idleTransactionsPerNode {
        print(
            String(
                format: "idle database load, %d node%@:             %10.1f transactions/s per node (target ≤ 5)", nodes,
                nodes == 1 ? " " : "s", rate))
    }
    print(
        String(
            format:
                "kill -9 to adoption of its deployment:     %10.1f s (lease %.0f s, renewed every %.0f s; target ≤ lease + 1 s)",
            results.takeoverSeconds, results.lease, results.lease / 3))
}

if arguments.contains("--cluster-only") {
    try await printClusterResults()
    exit(0)
}

if arguments.contains("--server-only") {
    printServerResults(try await ServerBenchmarks(berth: berthBinary).run())
    exit(0)
}

if arguments.contains("--signing-only") {
    print(String(format: "signatures per second (one core): %.0f", signingRate(iterations: 20_000)))
    exit(0)
}

print("Berth benchmarks")
progress("signing, STS and whoami")
print(String(format: "signatures per second (one core):          %10.0f   (target ≥ 200,000)", signingRate()))
print(String(format: "STS calls for 1,000 concurrent requests:   %10d   (target exactly 1)", try await stsCallsUnderLoad()))
let times = try await whoamiTimes(berth: berthBinary)
print(
    String(
        format: "berth aws whoami against moto, median:    %10.1f ms (p90 %.1f ms; target < 50 ms)", median(times.berth),
        percentile(times.berth, 0.9)))
if let cli = times.awsCLI {
    print(String(format: "aws sts get-caller-identity, median:      %10.1f ms (for comparison)", median(cli)))
}

printServerResults(try await ServerBenchmarks(berth: berthBinary).run())

printWebUIResults(try await WebUIBenchmark(berth: berthBinary).run())

try await printClusterResults()

progress("young rollouts and fifty concurrent deployments against the fake ECS")
printYoungRolloutResults(try await YoungRolloutBenchmark(berth: berthBinary).run())
printDeploymentResults(try await DeploymentBenchmark(berth: berthBinary).run())

progress("external workers: dispatch and fifty concurrent deployments")
printWorkerResults(try await WorkerBenchmark(berth: berthBinary).run())
