import BerthDomain
import Foundation
import Testing

@testable import BerthWorker

/// The uids scripts run under: one per running script, machine-wide.
@Suite("Script uid pool")
struct ScriptUIDPoolTests {
    /// A range of its own per test run, so that parallel test processes do not meet in it.
    static func freshRange(width: UInt32) -> ClosedRange<UInt32> {
        let start = 1_950_000_000 + UInt32.random(in: 0..<10_000_000)
        return start...(start + width - 1)
    }

    /// The script user's group as a server leases with it: the claims' folder may belong to the
    /// script user (a built-in worker process, which runs as that user, made or was given it).
    static let group = ScriptUser.Account(
        name: "berth-worker", uid: ScriptUser().account?.uid ?? 0, gid: 65_534)

    @Test(
        "Uids are leased round-robin, one per script; a full range is refused naming the flag; two servers never share a uid",
        .enabled(if: geteuid() == 0, "claims live in a folder only root may write (/run)"))
    func leasing() throws {
        let range = Self.freshRange(width: 2)
        let pool = ScriptUIDPool(range: range)
        let first = try pool.lease(group: Self.group)
        let second = try pool.lease(group: Self.group)
        #expect([first.uid, second.uid] == [range.lowerBound, range.upperBound])
        #expect(first.account.gid == 65_534 && first.account.name == "berth-worker")
        // Another server on this machine with the same range finds every uid claimed.
        let otherServer = ScriptUIDPool(range: range)
        for candidate in [pool, otherServer] {
            do {
                _ = try candidate.lease(group: Self.group)
                Issue.record("a third script got a uid of a range of two")
            } catch {
                #expect(error.code == .conflict)
                #expect(error.message.contains("--script-uid-range \(range.lowerBound)-\(range.upperBound)"), "\(error.message)")
            }
        }
        // A uid comes back once every process under it is gone; the next lease goes on round the range.
        #expect(try first.killProcessesAndRelease(setpriv: "/usr/bin/setpriv", bash: "/bin/bash").isEmpty)
        let third = try otherServer.lease(group: Self.group)
        #expect(third.uid == range.lowerBound)
        third.releaseUnused()
        second.releaseUnused()
        #expect(try pool.lease(group: Self.group).uid == range.lowerBound)
    }

    @Test("--script-uid-range is START-END within 1000-2147483646")
    func parsing() throws {
        #expect(try ScriptUIDPool.parseRange("5000-5009") == 5000...5009)
        for text in ["5000", "5000-", "a-b", "6000-5000", "10-20", "2000-2147483647", "-1-5"] {
            #expect(throws: (any Error).self, "\(text)") { try ScriptUIDPool.parseRange(text) }
        }
    }
}
