import AWSCore
import AWSECS
import Foundation
import Testing

@Suite("Generated ECS shapes keep every field the AWS CLI accepts")
struct ModelRoundTripTests {
    /// Decodes `--generate-cli-skeleton input` output (every member botocore knows, nested all the
    /// way down) into Berth's type and encodes it again: nothing may be lost or changed.
    static func roundTrip<T: Codable>(_ type: T.Type, fixture: String) throws -> (original: String, roundTripped: String) {
        let url = try #require(Bundle.module.url(forResource: fixture, withExtension: "json", subdirectory: "Fixtures"))
        let original = try Data(contentsOf: url)
        let decoded = try AWSJSON.decode(type, from: Array(original))
        let encoded = try AWSJSON.encode(decoded)
        return (try canonical(original), try canonical(Data(encoded)))
    }

    static func canonical(_ data: Data) throws -> String {
        let object = try JSONSerialization.jsonObject(with: data)
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test("RegisterTaskDefinition input round-trips intact")
    func registerTaskDefinition() throws {
        let result = try Self.roundTrip(ECS.RegisterTaskDefinitionRequest.self, fixture: "register-task-definition-skeleton")
        #expect(result.roundTripped == result.original)
        #expect(result.original.contains("\"restartPolicy\""), "the fixture covers nested members")
    }

    @Test("CreateService input round-trips intact")
    func createService() throws {
        let result = try Self.roundTrip(ECS.CreateServiceRequest.self, fixture: "create-service-skeleton")
        #expect(result.roundTripped == result.original)
    }

    @Test("UpdateService input round-trips intact")
    func updateService() throws {
        let result = try Self.roundTrip(ECS.UpdateServiceRequest.self, fixture: "update-service-skeleton")
        #expect(result.roundTripped == result.original)
    }

    @Test("RunTask input round-trips intact")
    func runTask() throws {
        let result = try Self.roundTrip(ECS.RunTaskRequest.self, fixture: "run-task-skeleton")
        #expect(result.roundTripped == result.original)
    }

    @Test("an enumeration value Berth does not know is kept as it is")
    func unknownEnumValue() throws {
        let json = #"{"family":"web","containerDefinitions":[],"networkMode":"some-future-mode"}"#
        let decoded = try AWSJSON.decode(ECS.RegisterTaskDefinitionRequest.self, from: Array(json.utf8))
        #expect(decoded.networkMode?.rawValue == "some-future-mode")
        #expect(String(decoding: try AWSJSON.encode(decoded), as: UTF8.self).contains(#""networkMode":"some-future-mode""#))
    }

    @Test("a service deployment with a status, stage and hook state ECS adds later decodes, keeping them as they are")
    func unknownServiceDeploymentValues() throws {
        let json = #"""
            {"serviceDeployments":[{"serviceDeploymentArn":"arn:aws:ecs:eu-west-1:1:service-deployment/c/s/x","status":"QUANTUM_SHIFT",
            "lifecycleStage":"POST_BAKE_TIME_2","lifecycleHookDetails":[{"hookId":"h","targetType":"WEBHOOK","status":"DREAMING"}],
            "targetServiceRevision":{"arn":"r","requestedProductionTrafficWeight":12.5}}],"failures":[]}
            """#
        let decoded = try AWSJSON.decode(ECS.DescribeServiceDeploymentsResponse.self, from: Array(json.utf8))
        let deployment = try #require(decoded.serviceDeployments?.first)
        #expect(deployment.status?.rawValue == "QUANTUM_SHIFT")
        #expect(deployment.lifecycleStage?.rawValue == "POST_BAKE_TIME_2")
        #expect(deployment.lifecycleHookDetails?.first?.targetType?.rawValue == "WEBHOOK")
        #expect(deployment.lifecycleHookDetails?.first?.status?.rawValue == "DREAMING")
        #expect(deployment.targetServiceRevision?.requestedProductionTrafficWeight == 12.5)
    }

    @Test("a string member sent as a number is read as its text")
    func lenientStrings() throws {
        let container = try AWSJSON.decode(ECS.Container.self, from: Array(#"{"name":"app","cpu":256,"memory":"512"}"#.utf8))
        #expect(container.cpu == "256")
        #expect(container.memory == "512")
    }
}
