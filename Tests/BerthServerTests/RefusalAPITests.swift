import AWSCore
import BerthDev
import BerthDomain
import BerthServer
import BerthStore
import BerthTestSupport
import Foundation
import HTTPTypes
import Testing

/// What the API refuses instead of doing harm: a typo in a step, a rotation that would pile keys up
/// in the JWKS, the revocation of the last key, the deletion of an environment with history.
@Suite("Refusals through the API")
struct RefusalAPITests {
    static var taskDefinition: [String: Any] {
        [
            "family": "web",
            "containerDefinitions": [["name": "web", "image": "shop/web:1", "portMappings": [["containerPort": 80]]]],
        ]
    }

    static func apply(_ server: TestServer, _ steps: [[String: Any]]) async throws -> TestServer.Reply {
        try await server.request(.put, "/api/spaces/default/projects/Shop", json: ["steps": steps])
    }

    @Test(
        "An unknown property is refused for every step type, naming the property, the step and the closest known name",
        arguments: [
            ("deploy-ecs-service", "desiredCont", "did you mean desiredCount?"),
            ("deploy-ecs-service", "colour", nil),
            ("update-ecs-service", "serviceNme", "did you mean serviceName?"),
            ("run-ecs-task", "cout", "did you mean count?"),
            ("run-aws-cli-script", "scirpt", "did you mean script?"),
        ] as [(String, String, String?)])
    func unknownStepProperties(type: String, property: String, hint: String?) async throws {
        try await TestServer.with { server in
            var properties: [String: Any] =
                switch type {
                case "deploy-ecs-service": ["serviceName": "web", "taskDefinition": Self.taskDefinition]
                case "update-ecs-service": ["serviceName": "web"]
                case "run-ecs-task": ["taskDefinition": "migrate"]
                default: ["script": "aws sts get-caller-identity"]
                }
            #expect(
                try await Self.apply(
                    server, [["name": "Step A", "type": type, "targetRoles": ["web"], "properties": properties]]
                ).status == .ok)
            properties[property] = "3"
            let refused = try await Self.apply(
                server, [["name": "Step A", "type": type, "targetRoles": ["web"], "properties": properties]])
            #expect(refused.status == .badRequest)
            #expect(refused.errorFields == ["steps[0].properties.\(property)"], "\(refused.text)")
            #expect(refused.errorMessage.contains("step 'Step A' (\(type)) has no property \(property)"), "\(refused.text)")
            if let hint {
                #expect(refused.errorMessage.contains(hint), "\(refused.text)")
            } else {
                #expect(!refused.errorMessage.contains("did you mean"), "\(refused.text)")
            }
            let stored = try await server.request(.get, "/api/spaces/default/projects/Shop")
            #expect(!stored.text.contains(property), "the refused process was not saved")
        }
    }

    @Test("Unknown members sent straight to the API are refused, at the top, in a step, in a variable's scope, in any request")
    func unknownMembers() async throws {
        try await TestServer.with { server in
            let step: [String: Any] = ["name": "Run", "type": "run-aws-cli-script", "properties": ["script": "true"]]
            let refused = try await server.request(
                .put, "/api/spaces/default/projects/Shop",
                json: [
                    "steps": [step.merging(["targetRole": ["web"]]) { $1 }],
                    "variables": [["name": "Region", "value": "eu-west-1", "scope": ["enviroments": ["Production"]]]],
                    "descripton": "typo",
                ])
            #expect(refused.status == .badRequest)
            #expect(
                refused.errorFields == ["descripton", "steps[0].targetRole", "variables[0].scope.enviroments"], "\(refused.text)")
            for hint in ["did you mean description?", "did you mean targetRoles?", "did you mean environments?"] {
                #expect(refused.errorMessage.contains(hint), "\(hint): \(refused.text)")
            }
            #expect(refused.errorMessage.contains("known members: description, lifecycle, steps, variables"), "\(refused.text)")
            #expect(try await server.request(.get, "/api/spaces/default/projects/Shop").status == .notFound)

            let environment = try await server.request(
                .post, "/api/spaces/default/environments", json: ["name": "Production", "sortOrdr": 1])
            #expect(environment.status == .badRequest)
            #expect(environment.errorFields == ["sortOrdr"], "\(environment.text)")
            #expect(environment.errorMessage.contains("did you mean sortOrder?"), "\(environment.text)")
            // Without the typos the same requests pass.
            #expect(
                try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Production"]).status
                    == .created)
            #expect(try await Self.apply(server, [step]).status == .ok)
        }
    }

    @Test("Inside AWS shapes only what ECS accepts is taken: an unknown member is named with its path")
    func unknownShapeMembers() async throws {
        try await TestServer.with { server in
            let typo: [String: Any] = [
                "family": "web",
                "containerDefinitions": [["name": "web", "image": "shop/web:1", "portMapping": [["containerPort": 80]]]],
            ]
            let refused = try await Self.apply(
                server,
                [
                    [
                        "name": "Deploy", "type": "deploy-ecs-service", "targetRoles": ["web"],
                        "properties": ["serviceName": "web", "taskDefinition": typo],
                    ]
                ])
            #expect(refused.status == .badRequest)
            #expect(
                refused.errorMessage.contains(
                    "taskDefinition has an unknown member containerDefinitions[0].portMapping (did you mean portMappings?)"),
                "\(refused.text)")

            let network: [String: Any] = ["awsvpcConfiguration": ["subnet": ["subnet-1"]]]
            let badNetwork = try await Self.apply(
                server,
                [
                    [
                        "name": "Migrate", "type": "run-ecs-task", "targetRoles": ["web"],
                        "properties": ["taskDefinition": "m", "networkConfiguration": network],
                    ]
                ])
            #expect(
                badNetwork.errorMessage.contains(
                    "networkConfiguration has an unknown member awsvpcConfiguration.subnet (did you mean subnets?)"),
                "\(badNetwork.text)")

            let containers: [[String: Any]] = [["name": "web", "imag": "shop/web:2", "environment": ["ANY_NAME": "x"]]]
            let badContainer = try await Self.apply(
                server,
                [
                    [
                        "name": "Update", "type": "update-ecs-service", "targetRoles": ["web"],
                        "properties": ["serviceName": "web", "containers": containers],
                    ]
                ])
            #expect(
                badContainer.errorMessage.contains("containers has an unknown member [0].imag (did you mean image?)"),
                "\(badContainer.text)")

            // Every member ECS takes is accepted, and free-form maps keep any key.
            let full: [String: Any] = [
                "family": "web", "cpu": "256", "memory": "512", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
                "runtimePlatform": ["operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"],
                "containerDefinitions": [
                    [
                        "name": "web", "image": "shop/web:1", "essential": true,
                        "portMappings": [["containerPort": 80, "protocol": "tcp"]],
                        "dockerLabels": ["any.label": "x"], "healthCheck": ["command": ["CMD", "true"], "interval": 30],
                        "logConfiguration": ["logDriver": "awslogs", "options": ["awslogs-group": "/ecs/web"]],
                    ]
                ],
            ]
            let containersFine: [[String: Any]] = [["name": "web", "image": "shop/web:2", "environment": ["ANY_NAME": "x"]]]
            let accepted = try await Self.apply(
                server,
                [
                    [
                        "name": "Deploy", "type": "deploy-ecs-service", "targetRoles": ["web"],
                        "properties": ["serviceName": "web", "taskDefinition": full],
                    ],
                    [
                        "name": "Update", "type": "update-ecs-service", "targetRoles": ["web"],
                        "properties": ["serviceName": "web", "containers": containersFine],
                    ],
                ])
            #expect(accepted.status == .ok, "\(accepted.text)")
        }
    }

    @Test("A rotation while a newer key waits to sign is refused with 409 naming it; the JWKS stays at two keys")
    func rotationWhileAKeyWaits() async throws {
        let clock = ManualClock()
        try await TestServer.with(clock: clock) { server in
            let first = try await server.request(.post, "/api/oidc/keys/rotate", json: [String: Any]())
            #expect(first.status == .created, "\(first.text)")
            let waiting = try #require(first.json["kid"] as? String)
            for _ in 0..<3 {
                let again = try await server.request(.post, "/api/oidc/keys/rotate", json: ["activateAfterSeconds": 0])
                #expect(again.status == .conflict, "\(again.text)")
                #expect(again.errorMessage.contains("The signing key \(waiting) is already waiting to sign"), "\(again.text)")
            }
            let jwks = try await server.request(.get, "/.well-known/jwks", key: .some(nil))
            #expect((jwks.json["keys"] as? [Any])?.count == 2, "\(jwks.text)")
            clock.advance(by: 601)
            #expect(
                try await server.request(.post, "/api/oidc/keys/rotate", json: [String: Any]()).status == .created,
                "the waiting key signs now")
        }
    }

    @Test("The last active API key cannot be revoked (409); another key can")
    func lastKeyStays() async throws {
        try await TestServer.with { server in
            let ci = try await server.request(.post, "/api/api-keys", json: ["name": "ci"])
            let ciKey = try #require(ci.json["key"] as? String)
            #expect(try await server.request(.delete, "/api/api-keys/administrator", key: ciKey).status == .noContent)
            let refused = try await server.request(.delete, "/api/api-keys/ci", key: ciKey)
            #expect(refused.status == .conflict, "\(refused.text)")
            #expect(refused.errorMessage.contains("'ci' is the last active administrator key"))
            #expect(try await server.request(.get, "/api/spaces", key: ciKey).status == .ok)
        }
    }

    @Test("An environment with deployment history is refused with 409 naming the project, never a 500")
    func environmentWithHistory() async throws {
        try await TestServer.with { server in
            #expect(
                try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Staging"]).status == .created)
            let script: [String: Any] = ["name": "Hello", "type": "run-aws-cli-script", "properties": ["script": "true"]]
            #expect(try await Self.apply(server, [script]).status == .ok)
            #expect(
                try await server.request(.post, "/api/spaces/default/projects/Shop/releases", json: ["version": "1"]).status
                    == .created)
            let deployment = try await server.request(
                .post, "/api/spaces/default/deployments", json: ["project": "Shop", "release": "1", "environment": "Staging"])
            #expect(deployment.status == .accepted, "\(deployment.text)")
            _ = try await server.finishedTask(try #require(deployment.json["taskId"] as? String))
            let refused = try await server.request(.delete, "/api/spaces/default/environments/staging")
            #expect(refused.status == .conflict, "\(refused.text)")
            #expect(refused.errorMessage.contains("deployments of the project 'Shop' (1)"), "\(refused.text)")
            let history = try await server.request(.get, "/api/spaces/default/deployments")
            #expect(history.items.count == 1, "\(history.text)")
        }
    }
}
