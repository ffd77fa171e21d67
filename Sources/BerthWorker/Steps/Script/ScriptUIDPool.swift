import BerthDomain
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The user ids that scripts run under, one of its own for every running script
/// (`--script-uid-range`).
///
/// Scripts that shared one uid could reach each other: a running script may read another's
/// `/proc/PID/environ` (its AWS keys) or trace it, and a process that leaves its script's session
/// (`setsid`, a double fork) escapes the process-group kill and waits, under the same uid, for the
/// next script. With a uid per script, the kernel keeps running scripts apart, and when a script
/// ends every process left under its uid is killed (``ScriptUIDLease/killProcessesAndRelease()``)
/// before the uid is leased again. The uids have no passwd entry: a script runs with the group of
/// the script user (`berth-worker`) and `USER`/`LOGNAME` naming it.
///
/// Uids are leased round-robin, so a uid comes back as late as possible; a uid that has a passwd
/// entry (a real user), still has processes (left by a server that was killed) or is claimed by
/// another server on this machine (``ScriptUIDLocks``) is skipped.
public final class ScriptUIDPool: Sendable {
    /// 10,000 uids far above those of people and services, below 2³¹ (tools that read uids as
    /// signed integers stay correct).
    public static let defaultRange: ClosedRange<UInt32> = 1_900_000_000...1_900_009_999

    public let range: ClosedRange<UInt32>
    private let locks = ScriptUIDLocks.shared
    private struct State {
        var leased: Set<UInt32> = []
        var next: UInt32
    }
    private let state: Mutex<State>

    public init(range: ClosedRange<UInt32> = ScriptUIDPool.defaultRange) {
        self.range = range
        self.state = Mutex(State(next: range.lowerBound))
    }

    /// Parses `START-END` (`--script-uid-range`): both above 999 (system and people's uids), start ≤ end.
    public static func parseRange(_ text: String) throws(BerthError) -> ClosedRange<UInt32> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = UInt32(parts[0]), let end = UInt32(parts[1]), start <= end else {
            throw BerthError(
                .validationFailed, "--script-uid-range '\(text)' is not START-END (two user ids, the first not above the second)."
            )
        }
        guard start >= 1000, end < UInt32(Int32.max) else {
            throw BerthError(.validationFailed, "--script-uid-range '\(text)' must lie within 1000-\(Int32.max - 1).")
        }
        return start...end
    }

    /// A uid of its own for the next script, running with `group`'s gid.
    public func lease(group: ScriptUser.Account) throws(BerthError) -> ScriptUIDLease {
        let busy = try ProcessTable.liveUserIDs()
        let claimed: (uid: UInt32, lock: Int32)? = try state.withLock { state throws(BerthError) in
            let count = UInt64(range.upperBound - range.lowerBound) + 1
            var candidate = state.next
            for _ in 0..<count {
                defer { candidate = candidate == range.upperBound ? range.lowerBound : candidate + 1 }
                guard !state.leased.contains(candidate), !busy.contains(candidate), ScriptUser.lookUp(uid: candidate) == nil,
                    let lock = try locks.claim(candidate, scriptUser: group.uid)
                else { continue }
                state.leased.insert(candidate)
                state.next = candidate == range.upperBound ? range.lowerBound : candidate + 1
                return (candidate, lock)
            }
            return nil
        }
        guard let (uid, lock) = claimed else {
            throw BerthError(
                .conflict,
                "Every user id of --script-uid-range \(range.lowerBound)-\(range.upperBound) is taken by a running script (or by processes left under it); wait for scripts to end or give the server a wider range."
            )
        }
        return ScriptUIDLease(uid: uid, group: group, lock: lock, pool: self)
    }

    /// Kills what scripts of an earlier run of a server (killed before it could) left running
    /// under this range's uids, and their files: every uid with live processes that no running
    /// server has claimed. Call at start, before any script runs; returns the uids swept.
    public func sweepLeftovers(group: ScriptUser.Account, setpriv: String, bash: String) throws(BerthError) -> [UInt32] {
        var swept: [UInt32] = []
        for uid in try ProcessTable.liveUserIDs().sorted() where range.contains(uid) {
            guard let lock = try locks.claim(uid, scriptUser: group.uid) else { continue }
            defer { close(lock) }
            if try ProcessTable.killAll(uid: uid, gid: group.gid, setpriv: setpriv, bash: bash).isEmpty {
                ProcessTable.removeFiles(ownedBy: uid)
            }
            swept.append(uid)
        }
        return swept
    }

    fileprivate func release(_ uid: UInt32, lock: Int32) {
        state.withLock { state in
            close(lock)
            state.leased.remove(uid)
        }
    }
}

/// One script's uid, from ``ScriptUIDPool/lease(group:)`` until every process under it is gone.
public final class ScriptUIDLease: Sendable {
    public let uid: UInt32
    public let group: ScriptUser.Account
    /// The descriptor holding the machine-wide claim (``ScriptUIDLocks``).
    private let lock: Int32
    private let pool: ScriptUIDPool
    private let released = Mutex(false)

    fileprivate init(uid: UInt32, group: ScriptUser.Account, lock: Int32, pool: ScriptUIDPool) {
        self.uid = uid
        self.group = group
        self.lock = lock
        self.pool = pool
    }

    /// The account the script runs as: the leased uid, the script user's group and name.
    public var account: ScriptUser.Account { ScriptUser.Account(name: group.name, uid: uid, gid: group.gid) }

    /// Gives the uid back without looking for processes: for a script that never started.
    func releaseUnused() {
        let first = released.withLock { released in
            defer { released = true }
            return !released
        }
        if first { pool.release(uid, lock: lock) }
    }

    /// Kills every process running under the uid (blocking: call it off the concurrency pool), then
    /// gives the uid back. A uid whose processes cannot all be killed, or cannot be looked for,
    /// stays leased, so no later script shares it; the returned survivors say which processes
    /// those are.
    @discardableResult
    func killProcessesAndRelease(setpriv: String, bash: String) throws(BerthError) -> [pid_t] {
        let survivors = try ProcessTable.killAll(uid: uid, gid: group.gid, setpriv: setpriv, bash: bash)
        guard survivors.isEmpty else { return survivors }
        ProcessTable.removeFiles(ownedBy: uid)
        releaseUnused()
        return []
    }
}
