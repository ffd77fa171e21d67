import BerthDomain
import BerthEngine
import BerthStore
import Foundation

/// External workers and the registration tokens of their pools.
extension UseCases {
    /// A worker and how many jobs it runs now.
    public typealias WorkerStatus = (worker: Worker, runningJobs: Int)

    public func listWorkers(space reference: String, by requester: Requester) async throws -> [WorkerStatus] {
        let space = try await space(reference, needing: .spaceView, by: requester)
        return try await store.listWorkers(spaceID: space.id)
    }

    /// A worker by id or name (a name that two pools share must be given by id).
    public func worker(_ reference: String, space spaceReference: String, by requester: Requester) async throws
        -> WorkerStatus
    {
        let space = try await space(spaceReference, needing: .spaceView, by: requester)
        return try await worker(reference, space: space)
    }

    func worker(_ reference: String, space: Space) async throws -> WorkerStatus {
        let matches = try await store.listWorkers(spaceID: space.id).filter {
            $0.worker.id == reference || $0.worker.slug == Slug.make(reference)
        }
        guard let found = matches.first else { throw BerthError.notFound("worker", reference) }
        guard matches.count == 1 else {
            let pools = Dictionary(
                uniqueKeysWithValues: try await store.listWorkerPools(spaceID: space.id).map { ($0.id, $0.name) })
            throw BerthError(
                .conflict,
                "Several workers are named '\(reference)' (in the pools \(matches.map { "'\(pools[$0.worker.poolID] ?? $0.worker.poolID)'" }.joined(separator: ", "))); give the worker's id."
            )
        }
        return found
    }

    /// Deletes a worker: its credential stops working at once and its jobs go to others.
    public func deleteWorker(_ reference: String, space spaceReference: String, by requester: Requester) async throws {
        let space = try await space(spaceReference, needing: .workerEdit, by: requester)
        let worker = try await worker(reference, space: space).worker
        try await audited("deleteWorker", record: "workers/\(worker.id)", name: worker.name, by: requester) {
            try await store.deleteWorker(id: worker.id, at: now())
        }
    }

    /// A pool's new registration token (the one before stops working). - Returns: the token, shown
    /// this once, and its record.
    public func createRegistrationToken(pool reference: String, space spaceReference: String, by requester: Requester)
        async throws -> (token: String, record: WorkerRegistrationToken, pool: WorkerPool)
    {
        let space = try await space(spaceReference, needing: .workerEdit, by: requester)
        let pool = try await workerPool(reference, space: space)
        let jobs = StepJobService(
            store: store, secrets: secrets, issuer: issuer, bell: engine.jobBell, configuration: engine.configuration)
        let (token, record) = try await audited(
            "createRegistrationToken", record: pool.auditReference, name: pool.name, by: requester
        ) {
            try await jobs.makeRegistrationToken(for: pool)
        }
        return (token, record, pool)
    }

    public func revokeRegistrationToken(pool reference: String, space spaceReference: String, by requester: Requester)
        async throws
    {
        let space = try await space(spaceReference, needing: .workerEdit, by: requester)
        let pool = try await workerPool(reference, space: space)
        guard try await store.registrationToken(poolID: pool.id) != nil else {
            throw BerthError(.notFound, "The worker pool '\(pool.name)' has no active registration token.")
        }
        _ = try await audited("revokeRegistrationToken", record: pool.auditReference, name: pool.name, by: requester) {
            try await store.revokeRegistrationToken(poolID: pool.id, at: now())
        }
    }
}
