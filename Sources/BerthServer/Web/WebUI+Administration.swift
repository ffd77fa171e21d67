import BerthDomain
import BerthStore
import BerthUseCases
import Foundation
import Hummingbird

/// The audit log and one's API keys.
extension WebUI {
    func auditPage(_ visit: Visit) async throws -> Response {
        let filter = BerthStore.AuditFilter(
            actor: visit.query("user"), action: visit.query("action"), record: visit.query("record"), limit: 200)
        let events = try await useCases.auditEvents(filter, by: visit.requester)
        return try render(
            "audit",
            [
                "user": visit.query("user") ?? "", "action": visit.query("action") ?? "", "record": visit.query("record") ?? "",
                "events": events.map { event in
                    [
                        "sequence": event.sequence, "time": Self.time(event.occurredAt), "actor": event.actor ?? "server",
                        "key": event.keyName ?? "", "address": event.address ?? "", "action": event.action,
                        "record": event.record, "details": event.details.sortedKeys.rendered(),
                    ] as [String: Any]
                },
                "empty": events.isEmpty,
            ], title: "Audit", visit: visit)
    }

    func apiKeysPage(_ visit: Visit, created: (key: String, name: String)?) async throws -> Response {
        let keys = try await useCases.listAPIKeys(by: visit.requester).filter { $0.revokedAt == nil }
        let users = Dictionary(uniqueKeysWithValues: try await useCases.store.listUsers().map { ($0.id, $0.username) })
        return try render(
            "api-keys",
            [
                "csrf": visit.csrf, "created": created.map { ["key": $0.key, "name": $0.name] } as Any,
                "keys": keys.map { key in
                    [
                        "name": key.name, "prefix": key.prefix, "user": users[key.userID] ?? key.userID,
                        "created": Self.time(key.createdAt), "expires": Self.time(key.expiresAt),
                        "lastUsed": Self.time(key.lastUsedAt), "revokeURL": "/api-keys/\(Self.segment(key.id))/revoke",
                    ] as [String: Any]
                },
            ], title: "API keys", visit: visit)
    }

    func createAPIKey(_ visit: Visit, _ form: WebForm) async throws -> Response {
        let days = form["expiresInDays"].flatMap(Int.init)
        let (key, record) = try await useCases.createAPIKey(
            UseCases.APIKeyInput(name: form["name"] ?? "", expiresInDays: days), by: visit.requester)
        // Shown once, on this answer; never again.
        return try await apiKeysPage(visit, created: (key, record.name))
    }

    func revokeAPIKey(_ visit: Visit, _ form: WebForm) async throws -> Response {
        try await useCases.revokeAPIKey(try visit.parameter("key"), by: visit.requester)
        return Self.redirect("/api-keys")
    }
}
