import BerthAPI
import BerthDomain
import BerthStore
import Foundation
import Testing

@testable import BerthServer

/// `TargetListJSON` writes what the generated Codable types and the runtime's JSONEncoder write:
/// the same JSON values for every field and fallback (members, null or absent, types), and every
/// string escaped byte for byte alike. Only the order of members differs: JSONEncoder's changes
/// from run to run.
@Suite struct TargetListJSONTests {
    /// The runtime's encoder with the server's settings (`BerthServer.build`: no options, dates by
    /// `RFC3339DateTranscoder`).
    static func codable(_ listing: TargetListing) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = []
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(try RFC3339DateTranscoder().encode(date))
        }
        return Array(try encoder.encode(Components.Schemas.TargetList(listing)))
    }

    static let created = Date(timeIntervalSince1970: 1_764_000_000.4996)

    static func entry(
        _ name: String, text: String = "plain", authentication: ECSClusterTarget.Authentication = .workerCredentials,
        accountName: String? = nil, workerPoolName: String? = "Default", assumeRole: AssumeRoleSettings? = nil,
        health: TargetHealth = TargetHealth(), environmentNames: [String] = ["Production"], roles: [String] = ["web"]
    ) -> TargetListing.Entry {
        TargetListing.Entry(
            target: ECSClusterTarget(
                id: "tgt-\(name)", spaceID: "spc-1", name: name, environmentIDs: ["env-1"], roles: roles,
                authentication: authentication, assumeRole: assumeRole, region: "eu-west-1", clusterName: text,
                workerPoolID: "pool-1", health: health, createdAt: created, updatedAt: created.addingTimeInterval(0.7)),
            environmentNames: environmentNames, accountName: accountName, workerPoolName: workerPoolName)
    }

    @Test("Every field and fallback is written as Codable writes it")
    func fieldsAndFallbacks() throws {
        let listings = [
            TargetListing(entries: [], nextCursor: nil),
            TargetListing(entries: [Self.entry("solo")], nextCursor: nil),
            TargetListing(
                entries: [
                    Self.entry("a", environmentNames: [], roles: []),
                    Self.entry(
                        "b", authentication: .account("acct-1"), accountName: "ops", workerPoolName: nil,
                        environmentNames: ["Staging", "Production", "Ärger", "alpha", "Zulu"]),
                    Self.entry("c", authentication: .account("acct-gone"), accountName: nil),
                    Self.entry(
                        "d", assumeRole: AssumeRoleSettings(roleARN: "arn:aws:iam::123456789012:role/Deployer"),
                        health: TargetHealth(status: .healthy, checkedAt: Date(timeIntervalSince1970: 0))),
                    Self.entry(
                        "e",
                        assumeRole: AssumeRoleSettings(
                            roleARN: "arn:aws:iam::123456789012:role/x", sessionName: "s", sessionDuration: 43200,
                            externalID: "ext"),
                        health: TargetHealth(
                            status: .unavailable, message: "no answer", checkedAt: Self.created, taskID: "task-1")),
                    Self.entry("f", health: TargetHealth(status: .unhealthy, message: "")),
                    // Beyond the year 9999, which the transcoder leaves to Foundation's formatter.
                    Self.entry("g", health: TargetHealth(checkedAt: Date(timeIntervalSince1970: 253_402_300_800.5))),
                ], nextCursor: "f"),
        ]
        for listing in listings {
            let written = try TargetListJSON.encode(listing)
            #expect(try CanonicalJSON.text(written) == CanonicalJSON.text(try Self.codable(listing)))
        }
    }

    /// Every ASCII character, the C1 controls, line and paragraph separators, a byte order mark,
    /// letters outside ASCII and characters outside the Basic Multilingual Plane.
    static let trickyStrings: [String] = {
        var strings = (0...0x7F).map { String(UnicodeScalar(UInt8($0))) }
        strings += ["\u{80}\u{9f}", "\u{a0}", "é", "中文", "🚀", "👩‍👩‍👧", "\u{2028}\u{2029}", "\u{feff}", "\u{fffd}", "e\u{301}"]
        strings.append((0...0x7F).map { String(UnicodeScalar(UInt8($0))) }.joined())
        strings.append(#"\"quoted\" and \\back\\slashed\\ // </script>"#)
        strings.append("")
        return strings
    }()

    @Test("Strings are escaped as JSONEncoder escapes them", arguments: trickyStrings)
    func escaping(text: String) throws {
        let listing = TargetListing(
            entries: [
                Self.entry(
                    "n\(text)", text: text, authentication: .account("acct-\(text)"), accountName: text, workerPoolName: text,
                    assumeRole: AssumeRoleSettings(roleARN: text, sessionName: text, externalID: text),
                    health: TargetHealth(status: .unhealthy, message: text, taskID: text),
                    environmentNames: [text, "x\(text)"], roles: [text])
            ], nextCursor: text)
        var string = TargetListJSON()
        string.string(text)
        #expect(string.bytes == Array(try JSONEncoder().encode(text)))
        let written = try TargetListJSON.encode(listing)
        #expect(try CanonicalJSON.text(written) == CanonicalJSON.text(try Self.codable(listing)))
        // And what is written reads back as the same values.
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let decoded = try decoder.decode(Components.Schemas.TargetList.self, from: Data(written))
        #expect(decoded.items.first?.name == "n\(text)")
        #expect(decoded.items.first?.health.message == text)
        #expect(decoded.items.first?.roles == [text])
        #expect(decoded.nextCursor == text)
        // JSONSerialization reads a lone byte order mark as an empty string, from either encoder.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(written)) as? [String: Any])
        let codable = try #require(try JSONSerialization.jsonObject(with: Data(Self.codable(listing))) as? [String: Any])
        #expect(object["nextCursor"] as? String == codable["nextCursor"] as? String)
        if text != "\u{feff}" { #expect(object["nextCursor"] as? String == text) }
    }
}

/// A JSON document with its members sorted, to compare two documents as values: members, types,
/// null against absent, string contents.
enum CanonicalJSON {
    static func text(_ bytes: some Sequence<UInt8>) throws -> String {
        let value = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        return String(decoding: data, as: UTF8.self)
    }
}
