import AWSCore
import AWSSigV4
import BerthDomain
import BerthOIDC
import BerthStore
import BerthWorker
import Crypto
import Foundation
import Logging
import ServiceLifecycle

/// The server's side of the job protocol (``JobProtocol``), whatever node a worker's request
/// reaches: registration, claims (a long poll woken by ``JobBell``), and what a worker sends for a
/// job it holds — each accepted only while it still holds that job.
public struct StepJobService: Sendable {
    let store: BerthStore
    let secrets: SecretBox
    let issuer: OIDCIssuer
    let bell: JobBell
    let configuration: EngineConfiguration
    let contacts = WorkerContacts()

    public init(store: BerthStore, secrets: SecretBox, issuer: OIDCIssuer, bell: JobBell, configuration: EngineConfiguration) {
        self.store = store
        self.secrets = secrets
        self.issuer = issuer
        self.bell = bell
        self.configuration = configuration
    }

    /// Hex SHA-256: how tokens and credentials are stored.
    public static func hash(_ secret: String) -> String { SHA256.hash(data: Data(secret.utf8)).hexString }

    static func randomSecret(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        return prefix + Base64URL.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// A new registration token for `pool` (the pool's earlier one stops working). - Returns: the
    /// token, shown once.
    public func makeRegistrationToken(for pool: WorkerPool) async throws -> (token: String, record: WorkerRegistrationToken) {
        let token = Self.randomSecret(prefix: WorkerSecret.registrationTokenPrefix)
        let record = WorkerRegistrationToken(
            poolID: pool.id, prefix: String(token.prefix(14)), hash: Self.hash(token), createdAt: configuration.clock.now())
        try await store.replaceRegistrationToken(record)
        return (token, record)
    }

    /// Registers `node`'s built-in worker again, with a new credential. - Returns: the credential,
    /// for the worker process alone.
    public func registerBuiltInWorker(node: String) async throws -> (worker: Worker, credential: String) {
        let credential = Self.randomSecret(prefix: WorkerSecret.credentialPrefix)
        let worker = try await store.registerBuiltInWorker(
            node: node, credentialHash: Self.hash(credential), version: BerthVersion.current, at: configuration.clock.now())
        return (worker, credential)
    }

    public func register(_ request: JobProtocol.RegisterRequest) async throws -> JobProtocol.RegisterResponse {
        var errors = ValidationErrors()
        NameRules.validate(request.name, into: &errors)
        try errors.throwIfAny("The worker")
        let credential = Self.randomSecret(prefix: WorkerSecret.credentialPrefix)
        let (worker, pool) = try await store.registerWorker(
            tokenHash: Self.hash(request.token), poolReference: request.pool, name: request.name,
            credentialHash: Self.hash(credential), version: request.version, at: configuration.clock.now())
        configuration.logger.info(
            "A worker registered", metadata: ["worker.name": "\(worker.name)", "worker.pool": "\(pool.name)"])
        return JobProtocol.RegisterResponse(workerID: worker.id, name: worker.name, pool: pool.name, credential: credential)
    }

    /// The worker a credential belongs to. - Throws: unauthorized, without saying why.
    public func authenticate(_ credential: String) async throws -> Worker {
        guard credential.hasPrefix(WorkerSecret.credentialPrefix),
            let worker = try await store.worker(credentialHash: Self.hash(credential))
        else {
            throw BerthError(
                .unauthorized,
                "The worker credential is not valid: it is unknown, or its worker was deleted. Register the worker again (berth worker register)."
            )
        }
        return worker
    }

    /// The oldest job of the worker's pool, waiting for one at most `waitSeconds` (capped at
    /// ``JobProtocol/longPollSeconds``); nil when none came.
    public func claim(for worker: Worker, _ request: JobProtocol.ClaimRequest) async throws -> JobProtocol.ClaimResponse? {
        let deadline = ContinuousClock.now + .seconds(max(0, min(request.waitSeconds, JobProtocol.longPollSeconds)))
        try await touch(worker, version: request.version)
        while true {
            let now = configuration.clock.now()
            if let record = try await store.claimStepJob(
                for: worker, at: now,
                leaseUntil: now.addingTimeInterval(configuration.jobLease.timeInterval))
            {
                do {
                    let envelope = try StepJobEnvelope.open(record, with: secrets)
                    return JobProtocol.ClaimResponse(
                        jobID: record.id, job: envelope.job, leaseSeconds: Int(configuration.jobLease.timeInterval))
                } catch {
                    // A job that cannot be opened is no one's: the node following it fails the step.
                    _ = try await store.abandonStepJob(id: record.id, at: now, if: .unfinished)
                    throw error
                }
            }
            let left = deadline - ContinuousClock.now
            // A node that shuts down answers its long polls at once: it waits for them to end.
            guard left > .zero, !Task.isShuttingDownGracefully else { return nil }
            // Jobs queued through this node ring the bell; others are found within a second.
            await bell.wait(atMost: min(left, .seconds(1)))
            try Task.checkCancellation()
        }
    }

    public func appendLog(_ jobID: String, worker: Worker, lines: [StepJobLogLine]) async throws -> JobProtocol.LeaseResponse {
        try await touch(worker)
        let cancel = try await store.appendStepJobLog(id: jobID, workerID: worker.id, lines: lines, leaseUntil: leaseUntil())
        if !lines.isEmpty { bell.ring(jobID) }
        return JobProtocol.LeaseResponse(state: cancel.map { $0 ? .cancel : .held } ?? .lost)
    }

    public func recordProgress(_ jobID: String, worker: Worker, progress: StepProgress) async throws {
        let recorded = try await store.recordStepProgress(
            progress, forJob: jobID, workerID: worker.id, leaseUntil: leaseUntil(), time: configuration.clock.now())
        guard recorded else { throw Self.notHeld(jobID) }
        bell.ring(jobID)
    }

    public func lock(_ jobID: String, worker: Worker, _ request: JobProtocol.LockRequest) async throws -> JobProtocol.LockResponse
    {
        guard try await store.renewStepJob(id: jobID, workerID: worker.id, until: leaseUntil()) != nil,
            let record = try await store.stepJob(id: jobID)
        else { throw Self.notHeld(jobID) }
        let job = try StepJobEnvelope.open(record, with: secrets).job
        // A preview changes nothing, so it locks nothing: a worker asking is one that does not know
        // previews and is about to run the step for real.
        guard job.mode == nil else {
            throw BerthError(
                .conflict,
                "The job \(jobID) is a \(job.mode?.rawValue ?? "") preview, which takes no service lock; this worker does not know previews (update it)."
            )
        }
        // A job locks services of its own target's cluster only.
        guard let target = job.target,
            request.key.hasPrefix("\(target.region)/\(target.clusterName)/"), request.key.count <= 1024
        else {
            throw BerthError(.validationFailed, "The job \(jobID) may lock only services of its own target's cluster.")
        }
        if request.release {
            try await store.releaseServiceLock(request.key, taskID: record.taskID)
            return JobProtocol.LockResponse(held: false, holder: nil)
        }
        let holder = try await store.acquireServiceLock(request.key, taskID: record.taskID, at: configuration.clock.now())
        return JobProtocol.LockResponse(held: holder == nil, holder: holder)
    }

    /// A question of the job's step for a person, asked as an intervention of the job's own task.
    public func ask(_ jobID: String, worker: Worker, _ request: JobProtocol.AskRequest) async throws
        -> JobProtocol.AskResponse
    {
        guard try await store.renewStepJob(id: jobID, workerID: worker.id, until: leaseUntil()) != nil,
            let record = try await store.stepJob(id: jobID)
        else { throw Self.notHeld(jobID) }
        let job = try StepJobEnvelope.open(record, with: secrets).job
        // Only a service step asks (at an ECS PAUSE hook): no other job puts questions to people,
        // and only about its own target.
        guard job.kind == .deployService || job.kind == .updateService, job.mode == nil else {
            throw BerthError(
                .forbidden, "The job \(jobID) is a \(job.kind.rawValue) step; only the ECS service steps ask a person.")
        }
        guard request.subject.hasPrefix("hook:\(job.target?.id ?? "-"):") else {
            throw BerthError(.forbidden, "The job \(jobID) asks only about its own target's hooks.")
        }
        let questions = StepQuestions(store: store, clock: configuration.clock)
        if request.withdraw == true {
            try await questions.withdraw(taskID: record.taskID, stepIndex: job.stepIndex, subject: request.subject)
            return QuestionState(answer: nil, answeredBy: nil, note: nil, askedNow: false)
        }
        return try await questions.ask(
            taskID: record.taskID, stepIndex: job.stepIndex, stepName: job.stepName, subject: request.subject,
            instructions: request.instructions)
    }

    /// A fresh OIDC token for the job's own subject, and no other.
    public func token(_ jobID: String, worker: Worker) async throws -> JobProtocol.TokenResponse {
        guard try await store.renewStepJob(id: jobID, workerID: worker.id, until: leaseUntil()) != nil,
            let record = try await store.stepJob(id: jobID)
        else { throw Self.notHeld(jobID) }
        guard let recipe = try StepJobEnvelope.open(record, with: secrets).tokenRecipe else {
            throw BerthError(.conflict, "The job \(jobID) has no web identity to mint a token for.")
        }
        return JobProtocol.TokenResponse(token: try await recipe.mint(with: issuer))
    }

    public func finish(_ jobID: String, worker: Worker, outcome: StepOutcome) async throws {
        let json = String(decoding: try JSONEncoder().encode(outcome), as: UTF8.self)
        let sealed = try secrets.seal(json, for: .stepJobOutcome(jobID: jobID)).ciphertext
        guard try await store.finishStepJob(id: jobID, workerID: worker.id, sealedOutcome: sealed, at: configuration.clock.now())
        else { throw Self.notHeld(jobID) }
        bell.ring(jobID)
    }

    func leaseUntil() -> Date { configuration.clock.now().addingTimeInterval(configuration.jobLease.timeInterval) }

    /// Notes that the worker was heard from, at most every few seconds per worker.
    func touch(_ worker: Worker, version: String? = nil) async throws {
        let now = configuration.clock.now()
        if await contacts.shouldRecord(worker.id, at: now) || version != nil && version != worker.version {
            try await store.touchWorker(id: worker.id, version: version, at: now)
        }
    }

    static func notHeld(_ jobID: String) -> BerthError {
        BerthError(
            .conflict,
            "The job \(jobID) is no longer this worker's (its lease ran out, or it was cancelled or given to another worker); stop working on it."
        )
    }
}

/// When each worker's contact was last written, so that busy workers cost a write every few
/// seconds, not one per request.
actor WorkerContacts {
    static let interval: TimeInterval = 5
    private var recorded: [String: Date] = [:]

    func shouldRecord(_ workerID: String, at now: Date) -> Bool {
        if let last = recorded[workerID], now.timeIntervalSince(last) < Self.interval { return false }
        recorded[workerID] = now
        return true
    }
}
