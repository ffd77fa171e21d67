import Foundation
import Testing

@testable import BerthWorker

/// A script's output is split into log lines without holding more than one cut line in memory.
@Suite struct LineSplitterTests {
    @Test func splitsLinesAcrossReads() {
        let splitter = LineSplitter()
        #expect(splitter.append(Data("one\ntw".utf8)) == ["one"])
        #expect(splitter.append(Data("o\nthree".utf8)) == ["two"])
        #expect(splitter.finish() == ["three"])
    }

    @Test func outputWithoutNewlinesIsCutAndDroppedUntilTheNextLine() {
        let splitter = LineSplitter()
        var lines: [String] = []
        // 10 MiB of zeros in 64 KiB reads, as `cat /dev/zero` would send them, then a real line.
        let chunk = Data(repeating: 0x30, count: 64 * 1024)
        for _ in 0..<160 { lines += splitter.append(chunk) }
        lines += splitter.append(Data("\nafter\n".utf8))
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix(String(repeating: "0", count: LineSplitter.maximumLineBytes) + " … [line cut") == true)
        #expect(lines.first.map { $0.utf8.count < LineSplitter.maximumLineBytes + 200 } == true)
        #expect(lines.last == "after")
        #expect(splitter.finish().isEmpty)
    }
}
