import BerthDomain
import Foundation
import Testing

@Suite("Step jobs on the wire")
struct StepJobCodingTests {
    static func job(mode: StepJob.Mode?) -> StepJob {
        var job = StepJob(
            taskID: "task-1", stepIndex: 0, stepName: "Deploy", kind: .deployService, properties: .object([]),
            variables: VariableDictionary(), target: nil, region: "eu-west-1", images: [:], defaultTags: [:], credentials: nil,
            earlier: nil)
        job.mode = mode
        return job
    }

    /// What a worker that knows no previews reads of a job: the step type under `kind`.
    struct OlderJob: Decodable {
        var kind: DeploymentStep.Kind
        var properties: JSONValue
    }

    @Test("A preview job round-trips, and a worker that knows no previews cannot read it (it would run it for real)")
    func previewUnreadableByOlderWorkers() throws {
        for mode in [StepJob.Mode.verify, .diff] {
            let data = try JSONEncoder().encode(Self.job(mode: mode))
            let decoded = try JSONDecoder().decode(StepJob.self, from: data)
            #expect(decoded.kind == .deployService && decoded.mode == mode)
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(OlderJob.self, from: data) }
        }
        let work = try JSONEncoder().encode(Self.job(mode: nil))
        #expect(try JSONDecoder().decode(OlderJob.self, from: work).kind == .deployService)
        #expect(try JSONDecoder().decode(StepJob.self, from: work) == Self.job(mode: nil))
    }
}
