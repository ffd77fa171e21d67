import BerthAPI
import BerthDomain
import BerthEngine
import BerthStore
import Foundation

/// External workers and their pools' registration tokens.
extension APIService {
    var jobs: StepJobService {
        StepJobService(store: store, secrets: secrets, issuer: issuer, bell: engine.jobBell, configuration: engine.configuration)
    }

    func pool(_ reference: String, space: Space) async throws -> WorkerPool {
        guard let pool = try await store.findWorkerPool(reference, spaceID: space.id) else {
            throw BerthError.notFound("worker pool", reference)
        }
        return pool
    }

    func getWorkerPool(_ input: Operations.GetWorkerPool.Input) async throws -> Operations.GetWorkerPool.Output {
        let space = try await space(input.path.space)
        let pool = try await pool(input.path.pool, space: space)
        let workers = try await workers(space: space).filter { $0.poolId == pool.id }
        let token = try await store.registrationToken(poolID: pool.id)
        return .ok(
            .init(
                body: .json(
                    .init(
                        id: pool.id, name: pool.name, slug: pool.slug, isDefault: pool.isDefault, createdAt: pool.createdAt,
                        workers: workers, registrationTokenPrefix: token?.prefix,
                        registrationTokenCreatedAt: token?.createdAt))))
    }

    func createRegistrationToken(
        _ input: Operations.CreateRegistrationToken.Input
    ) async throws -> Operations.CreateRegistrationToken.Output {
        let space = try await space(input.path.space)
        let pool = try await pool(input.path.pool, space: space)
        let (token, record) = try await jobs.makeRegistrationToken(for: pool)
        return .created(
            .init(body: .json(.init(token: token, prefix: record.prefix, pool: pool.name, createdAt: record.createdAt))))
    }

    func revokeRegistrationToken(
        _ input: Operations.RevokeRegistrationToken.Input
    ) async throws -> Operations.RevokeRegistrationToken.Output {
        let space = try await space(input.path.space)
        let pool = try await pool(input.path.pool, space: space)
        guard try await store.revokeRegistrationToken(poolID: pool.id, at: now()) else {
            throw BerthError(.notFound, "The worker pool '\(pool.name)' has no active registration token.")
        }
        return .noContent(.init())
    }

    func listWorkers(_ input: Operations.ListWorkers.Input) async throws -> Operations.ListWorkers.Output {
        let space = try await space(input.path.space)
        return .ok(.init(body: .json(.init(items: try await workers(space: space)))))
    }

    func getWorker(_ input: Operations.GetWorker.Input) async throws -> Operations.GetWorker.Output {
        let space = try await space(input.path.space)
        return .ok(.init(body: .json(try await worker(input.path.worker, space: space))))
    }

    func deleteWorker(_ input: Operations.DeleteWorker.Input) async throws -> Operations.DeleteWorker.Output {
        let space = try await space(input.path.space)
        try await store.deleteWorker(id: try await worker(input.path.worker, space: space).id, at: now())
        return .noContent(.init())
    }

    /// A worker by id or name (a name that two pools share must be given by id).
    func worker(_ reference: String, space: Space) async throws -> Components.Schemas.Worker {
        let matches = try await workers(space: space).filter { $0.id == reference || $0.slug == Slug.make(reference) }
        guard let worker = matches.first else { throw BerthError.notFound("worker", reference) }
        guard matches.count == 1 else {
            throw BerthError(
                .conflict,
                "Several workers are named '\(reference)' (in the pools \(matches.map { "'\($0.pool)'" }.joined(separator: ", "))); give the worker's id."
            )
        }
        return worker
    }

    func workers(space: Space) async throws -> [Components.Schemas.Worker] {
        let pools = Dictionary(uniqueKeysWithValues: try await store.listWorkerPools(spaceID: space.id).map { ($0.id, $0) })
        let time = now()
        return try await store.listWorkers(spaceID: space.id).map { worker, running in
            Components.Schemas.Worker(
                id: worker.id, name: worker.name, slug: worker.slug, pool: pools[worker.poolID]?.name ?? worker.poolID,
                poolId: worker.poolID, builtIn: worker.builtInNode != nil, builtInNode: worker.builtInNode,
                version: worker.version, registeredAt: worker.registeredAt,
                lastContactAt: worker.lastContactAt, status: worker.status(at: time) == .healthy ? .healthy : .unreachable,
                runningJobs: running)
        }
    }
}
