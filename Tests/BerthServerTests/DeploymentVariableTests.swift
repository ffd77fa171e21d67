import AWSCore
import BerthDev
import BerthDomain
import BerthServer
import BerthStore
import BerthTestSupport
import Foundation
import HTTPTypes
import Testing

/// AWS-account variables and substitution limits, through the API and a real deployment.
@Suite("Deployment variables")
struct DeploymentVariableTests {
    typealias API = DeploymentAPITests

    /// A deploy-ecs-service step (no wait) whose container gets `environment`.
    static func step(_ name: String, family: String, environment: [String: String]) -> [String: Any] {
        [
            "name": name, "type": "deploy-ecs-service", "targetRoles": ["web"],
            "properties": [
                "serviceName": family, "wait": false,
                "taskDefinition": [
                    "family": family,
                    "containerDefinitions": [
                        [
                            "name": "app", "image": "shop/app:1",
                            "environment": environment.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] },
                        ]
                    ],
                ],
            ],
        ]
    }

    /// The claims of a JWT, read without checking its signature.
    static func claims(_ token: String) throws -> [String: Any] {
        var encoded = String(token.split(separator: ".")[1]).replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        encoded += String(repeating: "=", count: (4 - encoded.count % 4) % 4)
        let payload = try #require(Data(base64Encoded: encoded))
        return try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
    }

    @Test(
        "An AWS-account variable whose account is restricted to other environments fails the deployment before any step, naming the variable, the account and the environment"
    )
    func accountVariableRespectsEnvironments() async throws {
        let ecs = FakeECS()
        try await API.withProductionTarget(ecs: ecs) { server in
            try await API.createStagingOnlyAccount(server)
            let steps = [Self.step("Deploy", family: "web", environment: ["KEY": "#{Keys.AccessKey}"])]
            var applied = try await server.request(
                .put, "/api/spaces/default/projects/Shop",
                json: ["steps": steps, "variables": [["name": "Keys", "type": "aws-account", "value": "staging-keys"]]])
            #expect(applied.status == .ok, "\(applied.text)")
            try await API.release(server, project: "Shop", version: "1")
            let (task, log) = try await API.deploy(server, project: "shop", release: "1")
            #expect(task.state == .failed)
            #expect(
                task.errorMessage
                    == "The variable 'Keys' names the AWS account 'staging-keys', which may not be used in Production (the account is restricted to other environments). Scope the variable to the account's environments, or allow Production on the account."
            )
            #expect(!log.contains { $0.hasPrefix("Step 1") }, "\(log)")
            #expect(ecs.calls["RegisterTaskDefinition"] == nil)
            #expect(!log.contains { $0.contains("AKIASTAGING") || $0.contains("staging-secret-key-value") })

            // Scoped to Staging, the restricted value does not apply in Production; the unscoped one does.
            applied = try await server.request(
                .put, "/api/spaces/default/projects/Shop",
                json: [
                    "steps": steps,
                    "variables": [
                        ["name": "Keys", "type": "aws-account", "value": "staging-keys", "scope": ["environments": ["Staging"]]],
                        ["name": "Keys", "type": "aws-account", "value": "keyless"],
                    ],
                ])
            #expect(applied.status == .ok, "\(applied.text)")
            try await API.release(server, project: "Shop", version: "2")
            let (allowed, allowedLog) = try await API.deploy(server, project: "shop", release: "2")
            #expect(allowed.state == .succeeded, "\(allowed) \(allowedLog)")
        }
    }

    @Test(
        "#{Acct.OpenIdConnect.Jwt} is minted when each step that uses it starts, fresh per step and target, with the deployment subject, and the log says when"
    )
    func oidcTokenMintedPerStepAndTarget() async throws {
        let ecs = FakeECS()
        try await API.withProductionTarget(ecs: ecs) { server in
            let secondTarget = try await server.request(
                .post, "/api/spaces/default/targets",
                json: [
                    "name": "prod-2", "environments": ["Production"], "roles": ["web"], "region": "eu-west-1",
                    "clusterName": "prod-2", "account": "keyless",
                ])
            #expect(secondTarget.status == .created, "\(secondTarget.text)")
            let applied = try await server.request(
                .put, "/api/spaces/default/projects/Shop",
                json: [
                    "steps": [
                        Self.step("First", family: "first", environment: ["TOKEN": "#{Cloud.OpenIdConnect.Jwt}"]),
                        Self.step("Second", family: "second", environment: ["TOKEN": "#{Token}"]),
                        Self.step("Untouched", family: "third", environment: ["ROLE": "#{Cloud.RoleArn}"]),
                    ],
                    "variables": [
                        ["name": "Cloud", "type": "aws-account", "value": "keyless"],
                        ["name": "Token", "value": "#{Cloud.OpenIdConnect.Jwt}"],
                    ],
                ])
            #expect(applied.status == .ok, "\(applied.text)")
            try await API.release(server, project: "Shop", version: "1")
            let (task, log) = try await API.deploy(server, project: "shop", release: "1")
            #expect(task.state == .succeeded, "\(task) \(log)")

            var tokens: [String] = []
            for family in ["first", "second"] {
                let registered = ecs.taskDefinitions(family: family)
                #expect(registered.count == 2, "one revision per target: \(registered)")
                for definition in registered {
                    let token = try #require(definition.firstMatch(of: /"name":"TOKEN","value":"([^"]+)"/)?.output.1)
                    tokens.append(String(token))
                }
            }
            #expect(Set(tokens).count == 4, "a fresh token per step and target")
            let claims = try tokens.map(Self.claims)
            #expect(Set(claims.compactMap { $0["jti"] as? String }).count == 4)
            for claim in claims {
                #expect(claim["sub"] as? String == "space:default:project:shop:environment:production")
            }
            let minted = log.filter { $0.hasPrefix("Minted #{Cloud.OpenIdConnect.Jwt} at ") }
            #expect(minted.count == 4, "\(log)")
            #expect(minted.allSatisfy { $0.contains(#"for the subject "space:default:project:shop:environment:production""#) })
            // Each step's tokens are minted as that step starts on each target, not when the deployment
            // was planned: two between the start of step 1 and step 2, two after the start of step 2.
            let first = try #require(log.firstIndex { $0.hasPrefix("Step 1: First") })
            let second = try #require(log.firstIndex { $0.hasPrefix("Step 2: Second") })
            let third = try #require(log.firstIndex { $0.hasPrefix("Step 3: Untouched") })
            let mintedAt = log.indices.filter { log[$0].hasPrefix("Minted") }
            #expect(mintedAt.filter { $0 > first && $0 < second }.count == 2, "\(log)")
            #expect(mintedAt.filter { $0 > second && $0 < third }.count == 2, "\(log)")
            // A step that does not use the token gets none; nothing logs a token in clear.
            #expect(!log[third...].contains { $0.hasPrefix("Minted") })
            for token in tokens { #expect(!log.contains { $0.contains(token) }) }
        }
    }

    @Test("A value that doubles at each level fails the step with an error naming the variable, instead of growing exponentially")
    func doublingVariablesFailTheStep() async throws {
        let ecs = FakeECS()
        try await API.withProductionTarget(ecs: ecs) { server in
            // L0 = #{L1}#{L1}, … L24 = x: 16 Mi copies of "x" without the cap.
            var variables: [[String: Any]] = (0..<24).map { ["name": "L\($0)", "value": "#{L\($0 + 1)}#{L\($0 + 1)}"] }
            variables.append(["name": "L24", "value": "x"])
            let applied = try await server.request(
                .put, "/api/spaces/default/projects/Shop",
                json: ["steps": [Self.step("Deploy", family: "web", environment: ["BIG": "#{L0}"])], "variables": variables])
            #expect(applied.status == .ok, "\(applied.text)")
            try await API.release(server, project: "Shop", version: "1")
            let (task, _) = try await API.deploy(server, project: "shop", release: "1")
            #expect(task.state == .failed)
            #expect(
                task.errorMessage?.hasPrefix(
                    "Step 'Deploy' on prod: The variable 'L0' expands to more than 1 MiB (1048576 bytes, through #{L0} → #{L1} → "
                ) == true, "\(task.errorMessage ?? "")")
            #expect(ecs.calls["RegisterTaskDefinition"] == nil)
        }
    }
}
