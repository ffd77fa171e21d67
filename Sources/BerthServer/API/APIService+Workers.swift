import BerthAPI
import BerthDomain
import BerthEngine
import BerthStore
import BerthUseCases
import Foundation

/// External workers and their pools' registration tokens.
extension APIService {
    func getWorkerPool(_ input: Operations.GetWorkerPool.Input) async throws -> Operations.GetWorkerPool.Output {
        let requester = try requester()
        let space = try await useCases.space(input.path.space, needing: .spaceView, by: requester)
        let pool = try await useCases.workerPool(input.path.pool, space: space)
        let workers = try await workers(space: space, by: requester).filter { $0.poolId == pool.id }
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
        let (token, record, pool) = try await useCases.createRegistrationToken(
            pool: input.path.pool, space: input.path.space, by: try requester())
        return .created(
            .init(body: .json(.init(token: token, prefix: record.prefix, pool: pool.name, createdAt: record.createdAt))))
    }

    func revokeRegistrationToken(
        _ input: Operations.RevokeRegistrationToken.Input
    ) async throws -> Operations.RevokeRegistrationToken.Output {
        try await useCases.revokeRegistrationToken(pool: input.path.pool, space: input.path.space, by: try requester())
        return .noContent(.init())
    }

    func listWorkers(_ input: Operations.ListWorkers.Input) async throws -> Operations.ListWorkers.Output {
        let requester = try requester()
        let space = try await useCases.space(input.path.space, needing: .spaceView, by: requester)
        return .ok(.init(body: .json(.init(items: try await workers(space: space, by: requester)))))
    }

    func getWorker(_ input: Operations.GetWorker.Input) async throws -> Operations.GetWorker.Output {
        let found = try await useCases.worker(input.path.worker, space: input.path.space, by: try requester())
        let pools = try await poolNames(spaceID: try await store.space(input.path.space).id)
        return .ok(.init(body: .json(Self.schema(found, pools: pools, at: useCases.now()))))
    }

    func deleteWorker(_ input: Operations.DeleteWorker.Input) async throws -> Operations.DeleteWorker.Output {
        try await useCases.deleteWorker(input.path.worker, space: input.path.space, by: try requester())
        return .noContent(.init())
    }

    func workers(space: Space, by requester: Requester) async throws -> [Components.Schemas.Worker] {
        let pools = try await poolNames(spaceID: space.id)
        let time = useCases.now()
        return try await useCases.listWorkers(space: space.id, by: requester).map { Self.schema($0, pools: pools, at: time) }
    }

    func poolNames(spaceID: String) async throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try await store.listWorkerPools(spaceID: spaceID).map { ($0.id, $0.name) })
    }

    static func schema(_ status: UseCases.WorkerStatus, pools: [String: String], at time: Date) -> Components.Schemas.Worker {
        let worker = status.worker
        return Components.Schemas.Worker(
            id: worker.id, name: worker.name, slug: worker.slug, pool: pools[worker.poolID] ?? worker.poolID,
            poolId: worker.poolID, builtIn: worker.builtInNode != nil, builtInNode: worker.builtInNode,
            version: worker.version, registeredAt: worker.registeredAt,
            lastContactAt: worker.lastContactAt, status: worker.status(at: time) == .healthy ? .healthy : .unreachable,
            runningJobs: status.runningJobs)
    }
}
