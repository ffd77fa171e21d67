import BerthDomain
import Foundation
import Testing

@Suite("Variables: scopes and #{} substitution")
struct VariableDictionaryTests {
    let production = VariableContext(environmentID: "env-prod", targetID: "tgt-a", targetRoles: ["web"])

    @Test("The most specific matching value wins: target, then role, then environment, then unscoped")
    func mostSpecificValueWins() {
        let candidates = [
            ScopedValue(name: "Replicas", value: "1", isSensitive: false),
            ScopedValue(name: "Replicas", value: "2", isSensitive: false, scope: VariableScope(environmentIDs: ["env-prod"])),
            ScopedValue(name: "Replicas", value: "3", isSensitive: false, scope: VariableScope(roles: ["web"])),
            ScopedValue(name: "Replicas", value: "4", isSensitive: false, scope: VariableScope(environmentIDs: ["env-dev"])),
            ScopedValue(
                name: "Host", value: "dev.example", isSensitive: false, scope: VariableScope(environmentIDs: ["env-dev"])),
            ScopedValue(name: "Host", value: "a.example", isSensitive: false, scope: VariableScope(targetIDs: ["tgt-a"])),
        ]
        let variables = VariableDictionary.resolving(candidates, in: production)
        #expect(variables["replicas"]?.value == "3")
        #expect(variables["Host"]?.value == "a.example")
        let development = VariableDictionary.resolving(candidates, in: VariableContext(environmentID: "env-dev"))
        #expect(development["Replicas"]?.value == "4")
        #expect(development["Host"]?.value == "dev.example")
        let onWorker = VariableDictionary.resolving(candidates, in: VariableContext(environmentID: "env-staging"))
        #expect(onWorker["Replicas"]?.value == "1")
        #expect(onWorker["Host"] == nil)
    }

    @Test("References nest, unknown ones stay as written and are reported, cycles stop")
    func substitution() {
        var variables = VariableDictionary()
        variables.set("Host", "api.#{Domain}")
        variables.set("Domain", "example.com")
        variables.set("Url", "https://#{Host}/#{Berth.Environment.Name}")
        variables.set("Berth.Environment.Name", "Production")
        variables.set("Loop", "a#{Loop}")
        #expect(variables.evaluate("#{Url}?x=#{Missing}") == "https://api.example.com/Production?x=#{Missing}")
        #expect(variables.unresolvedReferences(in: "#{Url} #{Missing} #{Missing}") == ["Missing"])
        #expect(variables.evaluated("Loop") == "a#{Loop}")
        #expect(variables.evaluate("unterminated #{Host") == "unterminated #{Host")
        let json = JSONValue.object([
            ("serviceName", .string("web-#{ berth.environment.name }")), ("desiredCount", .number(2)),
            ("tags", .array([.string("#{Domain}")])),
        ])
        #expect(
            variables.substitute(json)
                == .object([
                    ("serviceName", .string("web-Production")), ("desiredCount", .number(2)),
                    ("tags", .array([.string("example.com")])),
                ]))
    }

    @Test("Values that double at each level stop at 1 MiB with an error naming the variable, not exponentially")
    func doublingIsCapped() throws {
        var variables = VariableDictionary()
        // A = #{B}#{B}, B = #{C}#{C}, … 24 levels: 16 Mi copies of "x" without the cap.
        let names = (0...24).map { "Level\($0)" }
        for (name, next) in zip(names, names.dropFirst()) { variables.set(name, "#{\(next)}#{\(next)}") }
        variables.set(names[24], "x")
        variables.set("Small", "#{Level2}")
        let error = #expect(throws: BerthError.self) { try variables.evaluating("prefix-#{Level0}") }
        #expect(error?.code == .validationFailed)
        #expect(
            error?.message.hasPrefix(
                "The variable 'Level0' expands to more than 1 MiB (1048576 bytes, through #{Level0} → #{Level1} → "
            )
                == true, "\(error?.message ?? "")")
        #expect(throws: BerthError.self) { try variables.checkLimits() }
        #expect(throws: BerthError.self) { try variables.substituting(.array([.string("#{Small}")])) }
        // The non-throwing forms leave the value as written instead of growing it.
        #expect(variables.evaluate("#{Level0}") == "#{Level0}")
        #expect(variables.evaluated("Level1") == "#{Level2}#{Level2}")
        // 2^10 copies fit: the cap is on size, not on references.
        #expect(try variables.evaluating("#{Level14}") == String(repeating: "x", count: 1024))
    }

    @Test("References nest at most 32 levels deep; deeper chains fail naming the variable")
    func nestingDepthIsCapped() throws {
        var variables = VariableDictionary()
        for level in 0..<40 { variables.set("Hop\(level)", "#{Hop\(level + 1)}") }
        variables.set("Hop40", "end")
        let error = #expect(throws: BerthError.self) { try variables.evaluating("#{Hop0}") }
        #expect(
            error?.message
                == "The variable 'Hop0' nests references more than 32 levels deep (#{Hop0} → #{Hop1} → #{Hop2} → … → #{Hop31} → #{Hop32}); Berth stops there. Reference the value you need more directly."
        )
        #expect(try variables.evaluating("#{Hop10}") == "end")
        let fromVariable = #expect(throws: BerthError.self) { try variables.checkLimits() }
        #expect(fromVariable?.message.hasPrefix("The variable 'Hop0' nests references") == true)
    }

    @Test("Printed variables show sensitive values as ********, raw or evaluated")
    func listing() {
        var variables = VariableDictionary()
        variables.set("Password", "hunter2-secret", sensitive: true)
        variables.set("Dsn", "postgres://app:#{Password}@db")
        #expect(variables.listing(evaluated: false).map(\.value) == ["postgres://app:#{Password}@db", "********"])
        #expect(variables.listing(evaluated: true).first?.value == "postgres://app:hunter2-secret@db")
        #expect(variables.sensitiveValues.contains("hunter2-secret"))
    }
}

@Suite("Releases freeze images")
struct ReleaseSnapshotTests {
    func project(image: String?) -> Project {
        var container: [(String, JSONValue)] = [("name", .string("web"))]
        if let image { container.append(("image", .string(image))) }
        let deploy = DeploymentStep(
            name: "Deploy web", kind: .deployService, targetRoles: ["web"],
            properties: .object([("taskDefinition", .object([("containerDefinitions", .array([.object(container)]))]))]))
        return Project(spaceID: "spc", name: "Shop", steps: [deploy], createdAt: Date())
    }

    @Test("A chosen image wins over the step's; the step's pinned image is frozen otherwise")
    func chosenImagesWin() throws {
        let chosen = try ReleaseSnapshot.freeze(
            project: project(image: "nginx:1.26"), variables: [], chosen: ["web": "nginx:1.27"])
        #expect(chosen.images == ["web": "nginx:1.27"])
        let fromStep = try ReleaseSnapshot.freeze(project: project(image: "nginx@sha256:abc"), variables: [], chosen: [:])
        #expect(fromStep.images == ["web": "nginx@sha256:abc"])
    }

    @Test("Unpinned, missing, variable and unknown images are refused with the container named")
    func refusals() {
        #expect(throws: BerthError.self) { try ReleaseSnapshot.freeze(project: project(image: nil), variables: [], chosen: [:]) }
        for (image, fragment) in [("nginx", "has no tag"), ("#{Image}", "comes from a variable")] {
            do {
                _ = try ReleaseSnapshot.freeze(project: project(image: image), variables: [], chosen: [:])
                Issue.record("\(image) was accepted")
            } catch {
                #expect(error.message.contains(fragment), "\(error.message)")
                #expect(error.message.contains("container 'web'"))
            }
        }
        do {
            _ = try ReleaseSnapshot.freeze(project: project(image: "nginx:1"), variables: [], chosen: ["api": "x:1"])
            Issue.record("an unknown container was accepted")
        } catch {
            #expect(error.message.contains("no step has a container named 'api' (containers: web)"))
        }
    }
}
