import BerthDomain
import Foundation
import Testing

@testable import BerthWorker

@Suite("What a script is given")
struct ScriptVariablesTests {
    @Test("A script's variables are capped in total (16 MiB), and the error names the largest")
    func totalCap() throws {
        var variables = VariableDictionary()
        let megabyte = String(repeating: "x", count: 1 << 20)
        for index in 0..<15 { variables.set("Chunk\(index)", megabyte) }
        let lines = try ScriptStep.variableLines(variables)
        #expect(lines.split(separator: "\n").count == 15)
        #expect(lines.hasPrefix(Data("chunk0".utf8).base64EncodedString() + " "))

        variables.set("Huge", megabyte + megabyte)
        variables.set("Chunk15", megabyte)
        do {
            _ = try ScriptStep.variableLines(variables)
            Issue.record("18 MiB of variables reached the script")
        } catch {
            #expect(error.message.contains("The script's 17 variables come to 18 MiB, more than the 16 MiB"), "\(error.message)")
            #expect(error.message.contains("the largest: Huge (2048 KiB)"), "\(error.message)")
        }
    }
}
