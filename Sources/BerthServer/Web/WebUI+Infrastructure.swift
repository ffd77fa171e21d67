import BerthDomain
import BerthStore
import BerthUseCases
import Foundation
import Hummingbird

/// Infrastructure: environments, targets with their health, accounts (secrets write-only), worker
/// pools and workers.
extension WebUI {
    func infrastructure(_ visit: Visit) async throws -> Response {
        let requester = visit.requester
        let reference = try visit.parameter("space")
        let environments = try await useCases.listEnvironments(space: reference, by: requester)
        let space = try await useCases.store.space(reference)
        let names = Dictionary(uniqueKeysWithValues: environments.map { ($0.id, $0.name) })
        let mayViewAccounts = requester.may(.accountView, at: AccessScope(spaceID: space.id))
        let accounts = mayViewAccounts ? try await useCases.listAccounts(space: reference, by: requester) : []
        // Targets a page at a time (a space may have thousands), optionally of one environment.
        let environmentFilter = visit.query("environment").flatMap { name in environments.first { $0.slug == Slug.make(name) } }
        let listing = try await useCases.store.targetListing(
            spaceID: space.id, environmentID: environmentFilter?.id, role: nil, limit: Self.targetsPerPage,
            after: visit.query("after"))
        let workers = try await useCases.listWorkers(space: reference, by: requester)
        let pools = try await useCases.listWorkerPools(space: reference, by: requester)
        let base = "/spaces/\(Self.segment(space.slug))"
        let time = useCases.now()
        let may = { (permission: Permission) in requester.may(permission, at: AccessScope(spaceID: space.id)) }
        return try render(
            "infrastructure",
            [
                "csrf": visit.csrf, "space": space.name, "base": base,
                "environments": environments.enumerated().map { index, environment in
                    [
                        "name": environment.name, "moveURL": "\(base)/environments/\(Self.segment(environment.slug))/move",
                        "up": index > 0, "down": index < environments.count - 1,
                    ] as [String: Any]
                },
                "targets": listing.entries.map { entry in
                    let target = entry.target
                    let account: String =
                        switch target.authentication {
                        case .account: entry.accountName ?? "an account"
                        case .workerCredentials: "the worker's credentials"
                        }
                    return [
                        "name": target.name,
                        "environments": target.environmentIDs.map { names[$0] ?? $0 }.joined(separator: ", "),
                        "roles": target.roles.joined(separator: ", "), "cluster": target.clusterName, "region": target.region,
                        "account": account, "health": target.health.status.rawValue,
                        "healthMessage": target.health.message ?? "", "checked": Self.time(target.health.checkedAt),
                        "checkURL": "\(base)/targets/\(Self.segment(target.slug))/health-check",
                    ] as [String: Any]
                },
                "accounts": accounts.map { account in
                    [
                        "name": account.name, "type": account.kind.rawValue, "region": account.region ?? "",
                        "identity": account.accessKeyID ?? account.roleARN ?? "",
                        "secret": account.kind == .awsAccessKey ? (account.secretKey == nil ? "not set" : "set") : "",
                        "testURL": "\(base)/accounts/\(Self.segment(account.slug))/test",
                    ] as [String: Any]
                },
                "pools": pools.map { pool in
                    [
                        "name": pool.name, "default": pool.isDefault,
                        "workers": workers.filter { $0.worker.poolID == pool.id }.map { status in
                            [
                                "name": status.worker.name, "version": status.worker.version,
                                "status": status.worker.status(at: time) == .healthy ? "healthy" : "unreachable",
                                "jobs": status.runningJobs,
                            ] as [String: Any]
                        },
                    ] as [String: Any]
                },
                "nextTargets": listing.nextCursor.map {
                    "\(base)/infrastructure?after=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)"
                        + (environmentFilter.map { "&environment=\(Self.segment($0.slug))" } ?? "")
                } as Any,
                "filters": environments.map {
                    ["name": $0.name, "value": $0.slug, "selected": $0.id == environmentFilter?.id] as [String: Any]
                },
                "mayViewAccounts": mayViewAccounts, "mayEditEnvironments": may(.environmentEdit),
                "mayEditTargets": may(.targetEdit), "mayCheckHealth": may(.targetHealthCheck),
                "mayEditAccounts": may(.accountEdit),
            ], title: "Infrastructure · \(space.name)", visit: visit)
    }

    static let targetsPerPage = 100

    var infrastructureURL: @Sendable (Visit) throws -> String {
        { visit in "/spaces/\(Self.segment(try visit.parameter("space")))/infrastructure" }
    }

    func createEnvironment(_ visit: Visit, _ form: WebForm) async throws -> Response {
        _ = try await useCases.createEnvironment(
            name: form["name"] ?? "", sortOrder: nil, space: try visit.parameter("space"), by: visit.requester)
        return Self.redirect(try infrastructureURL(visit))
    }

    /// Moves an environment one place up or down the order (the dashboard's columns, the promotion order).
    func moveEnvironment(_ visit: Visit, _ form: WebForm) async throws -> Response {
        let space = try visit.parameter("space")
        let environments = try await useCases.listEnvironments(space: space, by: visit.requester)
        let reference = try visit.parameter("environment")
        guard let index = environments.firstIndex(where: { $0.slug == Slug.make(reference) || $0.id == reference }) else {
            throw BerthError.notFound("environment", reference)
        }
        let target = form["direction"] == "up" ? index - 1 : index + 1
        if environments.indices.contains(target) {
            _ = try await useCases.updateEnvironment(
                environments[index].id, name: nil, sortOrder: target, space: space, by: visit.requester)
        }
        return Self.redirect(try infrastructureURL(visit))
    }

    func createAccount(_ visit: Visit, _ form: WebForm) async throws -> Response {
        let draft = AccountDraft(
            kind: .awsAccessKey, name: form["name"] ?? "", description: form["description"] ?? "", region: form["region"],
            accessKeyID: form["accessKeyId"], secretKey: form.fields.first { $0.name == "secretKey" }?.value)
        _ = try await useCases.createAccount(
            draft, environments: form.list("environments"), space: try visit.parameter("space"), by: visit.requester)
        return Self.redirect(try infrastructureURL(visit))
    }

    func testAccount(_ visit: Visit, _ form: WebForm) async throws -> Response {
        let task = try await useCases.testAccount(
            try visit.parameter("account"), space: try visit.parameter("space"), by: visit.requester)
        return Self.redirect("/tasks/\(task.id)")
    }

    func createTarget(_ visit: Visit, _ form: WebForm) async throws -> Response {
        let account = form["account"]
        _ = try await useCases.createTarget(
            UseCases.TargetInput(
                name: form["name"] ?? "", environments: form.list("environments"), roles: form.list("roles"),
                account: account, useWorkerCredentials: account == nil, region: form["region"] ?? "",
                clusterName: form["clusterName"] ?? ""),
            space: try visit.parameter("space"), by: visit.requester)
        return Self.redirect(try infrastructureURL(visit))
    }

    func checkHealth(_ visit: Visit, _ form: WebForm) async throws -> Response {
        let task = try await useCases.checkTargetHealth(
            try visit.parameter("target"), space: try visit.parameter("space"), by: visit.requester)
        return Self.redirect("/tasks/\(task.id)")
    }
}
