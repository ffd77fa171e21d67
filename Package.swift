// swift-tools-version: 6.2
import PackageDescription

/// Berth: deployment automation for Amazon ECS.
///
/// The AWS client is a stack of small libraries that can be used without the rest of Berth:
/// `AWSRules` (regions, partitions, ARN and STS input rules; pure) and `AWSSigV4` (pure signing) →
/// `AWSCore` (transport, protocols, errors, retries, endpoints) → `AWSSTS`, `AWSECS`,
/// `AWSCloudWatchLogs` (typed clients) and `AWSCredentials` (providers, chain, cache). Berth itself
/// is a library per layer: `BerthDomain` (concepts and rules, no I/O; of AWS only its rules) →
/// `BerthStore` (SQLite or PostgreSQL through SQLKit, secrets sealed before they arrive) →
/// `BerthOIDC` (the OpenID Connect issuer: signing keys, JWKS, tokens) → `BerthWorker` (runs
/// step jobs: the ECS steps, the rollout watch, scripts; knows neither the store nor the issuer) →
/// `BerthEngine` (server tasks: plans deployments into step jobs, account tests, health checks) → `BerthServer` (Hummingbird: the REST API of
/// `BerthAPI`'s OpenAPI document, auth, metrics). `BerthCLI` holds the commands, client and server;
/// the `berth` executable only calls it. `BerthDev` is what `berth server --dev` adds (moto, the
/// simulated ECS control plane, the demo records); `BerthTestSupport` is for tests only.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "berth",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "berth", targets: ["berth"]),
        .library(name: "AWSRules", targets: ["AWSRules"]),
        .library(name: "AWSSigV4", targets: ["AWSSigV4"]),
        .library(name: "AWSCore", targets: ["AWSCore"]),
        .library(name: "AWSSTS", targets: ["AWSSTS"]),
        .library(name: "AWSECS", targets: ["AWSECS"]),
        .library(name: "AWSCloudWatchLogs", targets: ["AWSCloudWatchLogs"]),
        .library(name: "AWSCredentials", targets: ["AWSCredentials"]),
        .library(name: "BerthTestSupport", targets: ["BerthTestSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-openapi-generator.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client.git", from: "1.5.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        // MARK: AWS client
        .target(
            name: "AWSSigV4",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(name: "AWSRules", swiftSettings: swiftSettings),
        .target(
            name: "AWSCore",
            dependencies: [
                "AWSRules", "AWSSigV4",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "AWSSTS", dependencies: ["AWSCore"], swiftSettings: swiftSettings),
        .target(name: "AWSECS", dependencies: ["AWSCore"], swiftSettings: swiftSettings),
        .target(name: "AWSCloudWatchLogs", dependencies: ["AWSCore"], swiftSettings: swiftSettings),
        .target(name: "AWSECR", dependencies: ["AWSCore"], swiftSettings: swiftSettings),
        .target(name: "AWSSecretsManager", dependencies: ["AWSCore"], swiftSettings: swiftSettings),
        .target(name: "AWSSSM", dependencies: ["AWSCore"], swiftSettings: swiftSettings),
        .target(name: "AWSIAM", dependencies: ["AWSCore", "AWSSigV4"], swiftSettings: swiftSettings),
        .target(name: "AWSELBv2", dependencies: ["AWSCore", "AWSSigV4"], swiftSettings: swiftSettings),
        .target(
            name: "AWSCredentials",
            dependencies: ["AWSCore", "AWSSTS"],
            swiftSettings: swiftSettings
        ),

        // MARK: Berth
        .target(
            name: "BerthDomain",
            dependencies: ["AWSRules"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BerthStore",
            dependencies: [
                "BerthDomain",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SQLKit", package: "sql-kit"),
                // BerthStore's hot reads also import VaporCSQLite, the copy of SQLite inside
                // sqlite-nio (SQLiteKit's driver), which is visible through this dependency but
                // is no product of its own: a sqlite-nio that renames it breaks the build.
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BerthAPI",
            dependencies: [.product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            resources: [.copy("openapi.yaml")],
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .target(
            name: "BerthOIDC",
            dependencies: [
                "BerthDomain", "BerthStore", "AWSCore",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The worker runs step jobs from the job alone: it cannot import the store or the issuer.
        .target(
            name: "BerthWorker",
            dependencies: [
                "BerthDomain", "AWSSigV4", "AWSCore", "AWSSTS", "AWSECS", "AWSCloudWatchLogs", "AWSCredentials", "AWSECR",
                "AWSSecretsManager", "AWSSSM", "AWSIAM", "AWSELBv2",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BerthEngine",
            dependencies: [
                "BerthDomain", "BerthStore", "BerthOIDC", "BerthWorker", "AWSSigV4", "AWSCore", "AWSSTS", "AWSECS",
                "AWSCloudWatchLogs",
                "AWSCredentials",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BerthUseCases",
            dependencies: [
                "BerthDomain", "BerthStore", "BerthEngine", "BerthOIDC", "BerthWorker", "AWSSigV4",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "CMallocTuning"),
        .target(name: "CBerthSandbox"),
        .target(
            name: "BerthServer",
            dependencies: [
                "BerthDomain", "BerthStore", "BerthEngine", "BerthWorker", "BerthOIDC", "BerthAPI", "BerthUseCases", "AWSCore",
                "AWSSigV4", "CMallocTuning", "CBerthSandbox",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("Web/Templates"), .copy("Web/Assets")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BerthCLI",
            dependencies: [
                "AWSSigV4", "AWSCore", "AWSSTS", "AWSECS", "AWSCredentials", "BerthAPI", "BerthServer", "BerthDomain",
                "BerthEngine", "BerthWorker",
                "BerthStore", "BerthUseCases", "BerthDev", "CBerthSandbox",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "berth", dependencies: ["BerthCLI"], swiftSettings: swiftSettings),

        // MARK: What `berth server --dev` runs beside the server: moto, the simulated ECS, the demo
        .target(
            name: "BerthDev",
            dependencies: [
                "AWSCore", "AWSSigV4", "BerthDomain", "BerthStore", "BerthEngine", "BerthServer", "BerthUseCases",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Test support and benchmarks
        .target(
            name: "BerthTestSupport",
            dependencies: [
                "AWSCore", "AWSSTS", "BerthDev", "BerthStore", .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "berth-benchmarks",
            dependencies: [
                "AWSSigV4", "AWSCore", "AWSSTS", "AWSECS", "AWSCredentials", "BerthDev", "BerthTestSupport", "BerthDomain",
                "AWSRules",
                "BerthStore", .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/berth-benchmarks",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "AWSSigV4Tests",
            dependencies: ["AWSSigV4"],
            resources: [.copy("Vectors")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AWSCoreTests",
            dependencies: [
                "AWSCore", "AWSSTS", "AWSECS", "AWSCloudWatchLogs", "BerthDev", "BerthTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AWSCredentialsTests",
            dependencies: [
                "AWSCredentials", "AWSSTS", "AWSECS", "BerthDev", "BerthTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AWSIntegrationTests",
            dependencies: ["AWSCredentials", "AWSSTS", "AWSECS", "AWSCloudWatchLogs", "BerthDev", "BerthTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BerthDomainTests",
            dependencies: ["BerthDomain"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BerthEngineTests",
            dependencies: [
                "BerthEngine", "BerthWorker", "BerthDomain", "BerthStore", "BerthTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BerthStoreTests",
            dependencies: [
                "BerthDomain", "BerthStore", "BerthTestSupport",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BerthServerTests",
            dependencies: [
                "BerthServer", "BerthEngine", "BerthWorker", "BerthOIDC", "BerthStore", "BerthDomain", "BerthAPI", "BerthDev",
                "BerthUseCases", "BerthTestSupport", "AWSCore", "AWSIAM",
                "AWSECS",
                "AWSSigV4",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BerthCLITests",
            dependencies: [
                "berth", "BerthCLI", "BerthDev", "BerthTestSupport", "AWSCore", "AWSSigV4", "AWSECS",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
