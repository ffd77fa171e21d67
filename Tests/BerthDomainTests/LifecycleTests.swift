import BerthDomain
import Foundation
import Testing

@Suite("Lifecycles")
struct LifecycleTests {
    static let lifecycle = Lifecycle(
        spaceID: "space", name: "Standard",
        phases: [
            .init(name: "Development", environmentIDs: ["dev"]),
            .init(name: "Test", environmentIDs: ["staging", "qa"], minimumEnvironments: 1),
            .init(name: "Pre-production", environmentIDs: ["preprod"], isOptional: true),
            .init(name: "Production", environmentIDs: ["prod-eu", "prod-us"]),
        ], createdAt: Date())

    @Test(
        "A phase opens once every earlier required phase has enough successes; optional phases never hold a release back",
        arguments: [
            (Set<String>(), "dev", nil as Lifecycle.Refusal?),
            ([], "staging", .phaseNotPassed(phase: "Development", needed: 1, missing: ["dev"])),
            (["dev"], "staging", nil), (["dev"], "qa", nil),
            (["dev"], "prod-eu", .phaseNotPassed(phase: "Test", needed: 1, missing: ["staging", "qa"])),
            (["dev", "qa"], "prod-eu", nil),
            // Pre-production is optional: skipped, it holds nothing back; it opened with Test.
            (["dev", "qa"], "preprod", nil),
            (["dev", "staging", "qa"], "prod-us", nil),
            ([], "nowhere", .notInLifecycle),
        ] as [(Set<String>, String, Lifecycle.Refusal?)])
    func rules(succeeded: Set<String>, environment: String, expected: Lifecycle.Refusal?) {
        #expect(Self.lifecycle.refusal(toDeployTo: environment, succeeded: succeeded) == expected)
    }

    @Test("Where a release may go next, in order")
    func next() {
        #expect(Self.lifecycle.openEnvironments(succeeded: []) == ["dev"])
        #expect(Self.lifecycle.openEnvironments(succeeded: ["dev"]) == ["dev", "staging", "qa"])
        #expect(
            Self.lifecycle.openEnvironments(succeeded: ["dev", "staging"])
                == ["dev", "staging", "qa", "preprod", "prod-eu", "prod-us"])
    }

    @Test("Bad lifecycles are named: no phase, an environment twice, a minimum beyond the phase, duplicate phase names")
    func validation() {
        let names = ["dev": "Development", "prod": "Production"]
        func fields(_ lifecycle: Lifecycle) -> [String] {
            do {
                try lifecycle.validate(environmentNames: names)
                return []
            } catch {
                return error.details.map(\.field)
            }
        }
        #expect(fields(Lifecycle(spaceID: "s", name: "Empty", phases: [], createdAt: Date())) == ["phases"])
        let twice = Lifecycle(
            spaceID: "s", name: "Twice",
            phases: [
                .init(name: "A", environmentIDs: ["dev"]),
                .init(name: "B", environmentIDs: ["dev", "prod"], minimumEnvironments: 3),
                .init(name: "a", environmentIDs: ["prod"]),
            ], createdAt: Date())
        #expect(
            fields(twice).sorted()
                == ["phases[1].environments", "phases[1].minimumEnvironments", "phases[2].environments", "phases[2].name"]
                .sorted(),
            "\(fields(twice))")
    }
}
