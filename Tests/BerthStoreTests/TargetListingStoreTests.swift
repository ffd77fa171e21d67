import BerthDomain
import Foundation
import Testing

@testable import BerthStore

/// The listing page (`targetListing`, a hot read: rows read by position) holds exactly what the Codable
/// reading of `listTargets` holds, plus the right names, on SQLite and PostgreSQL.
@Suite struct TargetListingStoreTests {
    let now = Date(timeIntervalSince1970: 1_764_000_000.123)

    @Test(
        "A listing page reads the same targets as listTargets and names their environments, account and pool",
        arguments: TestDatabase.available)
    func listingMatchesCodableReading(database: TestDatabase) async throws {
        try await database.withStore { store in
            let fixture = try await Fixture.make(store, now: now)
            let other = try await store.createSpace(Space(name: "Elsewhere", createdAt: now))
            let foreign = try await store.createEnvironment(
                Environment(spaceID: other.id, name: "Foreign", sortOrder: 0, createdAt: now), position: nil)
            let pool = try await store.createWorkerPool(
                WorkerPool(spaceID: fixture.space.id, name: "Pool \"β\"", isDefault: false, createdAt: now))
            let tricky = [
                "quote \" backslash \\ slash /", "tab\tnew\nline\r\u{1}\u{1f}\u{7f}", "é 中文 🚀 \u{2028}\u{feff}", "plain",
            ]
            for (index, text) in tricky.enumerated() {
                _ = try await store.createTarget(
                    ECSClusterTarget(
                        spaceID: fixture.space.id, name: "t\(index) \(text)",
                        environmentIDs: index == 0
                            ? [fixture.staging.id, fixture.production.id, foreign.id] : [fixture.staging.id],
                        roles: index == 3 ? [] : ["web", text, "a\u{1}b"],
                        authentication: index.isMultiple(of: 2) ? .account(fixture.account.id) : .workerCredentials,
                        assumeRole: index == 1
                            ? AssumeRoleSettings(
                                roleARN: "arn:aws:iam::123456789012:role/\(text)", sessionName: text, sessionDuration: 900,
                                externalID: text) : nil,
                        region: "eu-west-1", clusterName: text, workerPoolID: index == 2 ? pool.id : fixture.target.workerPoolID,
                        health: index == 1
                            ? TargetHealth(
                                status: .unhealthy, message: text, checkedAt: now.addingTimeInterval(60.5), taskID: "task-\(text)"
                            )
                            : TargetHealth(),
                        createdAt: now.addingTimeInterval(Double(index)), updatedAt: now.addingTimeInterval(Double(index) + 0.001)
                    ))
            }
            let queries: [(environmentID: String?, role: String?, limit: Int, after: String?)] = [
                (nil, nil, 100, nil), (nil, nil, 2, nil), (nil, nil, 2, "t1"), (fixture.production.id, nil, 100, nil),
                (nil, "web", 100, nil), (nil, tricky[0], 100, nil), (fixture.staging.id, "web", 1, "t0"),
                (nil, nil, 100, "zzz"),
            ]
            for query in queries {
                let codable = try await store.listTargets(
                    spaceID: fixture.space.id, environmentID: query.environmentID, role: query.role, limit: query.limit,
                    after: query.after)
                let listing = try await store.targetListing(
                    spaceID: fixture.space.id, environmentID: query.environmentID, role: query.role, limit: query.limit,
                    after: query.after)
                #expect(listing.entries.map(\.target) == codable.targets, "\(query)")
                #expect(listing.nextCursor == codable.nextCursor, "\(query)")
            }

            let all = try await store.targetListing(spaceID: fixture.space.id)
            #expect(all.entries.count == 5)
            let byName = Dictionary(uniqueKeysWithValues: all.entries.map { ($0.target.name, $0) })
            let first = try #require(byName["t0 \(tricky[0])"])
            // The environment of another space is linked but not named.
            #expect(first.target.environmentIDs.count == 3)
            #expect(first.environmentNames.sorted() == ["Production", "Staging"])
            #expect(first.accountName == "Prod keys")
            #expect(first.workerPoolName == WorkerPool.defaultName)
            #expect(try #require(byName["t1 \(tricky[1])"]).accountName == nil)
            #expect(try #require(byName["t2 \(tricky[2])"]).workerPoolName == "Pool \"β\"")
            #expect(try #require(byName["t3 plain"]).target.roles == [])
            #expect(try await store.targetListing(spaceID: other.id).entries.isEmpty)
        }
    }

    @Test(
        "Stored string arrays read as JSONDecoder reads them",
        arguments: [
            "[]", #"["web"]"#, #"["web","api"]"#, #"["a\"b","c\\d","e\/f"]"#, #"["\u00e9","\ud83d\ude80"]"#, #"["é","🚀",""]"#,
            #"[ "spaced" ]"#, #"["a", "b"]"#, #"["a",]"#, #"["a""#, #"["a"]x"#, "[1]", #"{"a":"b"}"#, "", "[", #"["a"b"]"#,
            "[\"tab\there\"]", "null",
        ])
    func storedStringArrays(text: String) throws {
        let expected = try? JSONDecoder().decode([String].self, from: Data(text.utf8))
        #expect((try? StoredStringArray.decode(text)) == expected)
    }
}
