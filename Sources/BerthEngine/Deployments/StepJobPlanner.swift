import AWSCore
import BerthDomain
import BerthOIDC
import BerthStore
import BerthWorker
import Foundation

/// Plans one step of a deployment on one target into a self-contained ``StepJob``: the variables
/// that apply there (with the outputs of earlier steps and OIDC tokens minted now for the steps
/// that use them), the properties with every `#{}` substituted, and the credential material of
/// this job only. What it decides is logged in the step's section, as the worker's lines are.
struct StepJobPlanner {
    let store: BerthStore
    let credentials: TargetCredentials
    let variables: DeploymentVariables

    typealias Plan = DeploymentExecutor.Plan

    /// A job, and where its web identity (if any) gets its next token.
    struct Planned: Sendable {
        var job: StepJob
        var tokens: TokenMinter?
    }

    func job(
        for step: DeploymentStep, index: Int, target: ECSClusterTarget?, plan: Plan, outputs: VariableDictionary,
        task: ServerTask, earlier: StepProgress?, log: TaskLogWriter, section: LogSection
    ) async throws -> Planned {
        let context = VariableContext(
            environmentID: plan.environment.id, targetID: target?.id, targetRoles: target?.roles ?? [])
        var variables = VariableDictionary.resolving(plan.candidates, in: context)
        variables.merge(systemVariables(plan, step: step, target: target, task: task))
        variables.merge(outputs)
        // A script reads any variable (get_berthvariable); other steps only what their properties name.
        let used = variables.referencedNames(in: step.properties)
        let tokens = try await self.variables.mintTokens(plan.tokens, in: context, subject: plan.subject) { name in
            step.kind == .awsCLIScript || used.contains(name.lowercased())
        }
        for minted in tokens { variables.set(minted.name, minted.token.token, sensitive: true) }
        await log.addSensitive(variables.sensitiveValues)
        for minted in tokens {
            await section.info(
                "Minted #{\(minted.name)} at \(minted.token.issuedAt.ISO8601Format()) for the subject \"\(minted.token.subject)\" (valid until \(minted.token.expiresAt.ISO8601Format()))."
            )
        }
        try variables.checkLimits()
        let substituted = try variables.substituting(step.properties)
        let properties = StepProperties(step: step.name, json: substituted)
        let use = TargetCredentials.Use.deployment(
            project: plan.project.slug, environment: plan.environment.slug, deployedBy: plan.subject.deployedBy)
        var material: TargetCredentials.Material?
        var region = target?.region ?? EngineConfiguration.fallbackRegion
        if let target {
            material = try await credentials.material(TargetCredentials.Request(target), use: use)
        } else if let chosen = try ScriptCredentials.settings(properties) {
            let account = try await scriptAccount(chosen, plan: plan)
            region = try properties.string("region") ?? account?.region ?? region
            material = try await credentials.material(
                TargetCredentials.Request(
                    spaceID: plan.space.id, authentication: account.map { .account($0.id) } ?? .workerCredentials,
                    assumeRole: chosen.assumeRole, region: region),
                use: use)
        } else {
            region = try properties.string("region") ?? region
        }
        await printVariables(variables, section: section)
        for name in variables.unresolvedReferences(in: step.properties) {
            await section.warning("#{\(name)} is not a variable in this scope; it is left as written.")
        }
        var job = StepJob(
            taskID: task.id, stepIndex: index, stepName: step.name, kind: step.kind, properties: substituted,
            // Only a script reads variables; the ECS steps' properties already carry what they use.
            variables: step.kind == .awsCLIScript ? variables : VariableDictionary(),
            target: target.map {
                StepJob.Target(id: $0.id, name: $0.name, clusterName: $0.clusterName, region: $0.region, roles: $0.roles)
            },
            region: region, images: plan.release.snapshot.images, defaultTags: defaultTags(plan),
            credentials: material?.credentials, earlier: earlier)
        job.mode = plan.mode
        job.masked = variables.sensitiveValues
        return Planned(job: job, tokens: material?.refresh)
    }

    /// The pool whose workers run `job`: the step's `workerPool`, else the target's, else the
    /// space's default pool.
    func pool(for job: StepJob, target: ECSClusterTarget?, plan: Plan) async throws -> WorkerPool {
        let properties = StepProperties(step: job.stepName, json: job.properties)
        if let name = try properties.string("workerPool"), !name.isEmpty {
            guard let pool = try await store.findWorkerPool(name, spaceID: plan.space.id) else {
                throw properties.failure("workerPool", "names the worker pool '\(name)', which does not exist")
            }
            return pool
        }
        if let target, let pool = try await store.workerPool(id: target.workerPoolID) { return pool }
        return try await store.defaultWorkerPool(spaceID: plan.space.id)
    }

    /// The account a script step on the worker names, which must exist and be allowed in the
    /// deployment's environment; nil for the worker's own credentials.
    func scriptAccount(_ chosen: ScriptCredentials, plan: Plan) async throws -> Account? {
        guard let reference = chosen.account else { return nil }
        guard let account = try await store.findAccount(reference, spaceID: plan.space.id) else {
            throw BerthError(.notFound, "The account '\(reference)' that the step names does not exist.")
        }
        guard account.allows(environmentID: plan.environment.id) else {
            throw BerthError(
                .validationFailed,
                "The account '\(account.name)' may not be used in \(plan.environment.name) (it is restricted to other environments)."
            )
        }
        return account
    }

    func systemVariables(_ plan: Plan, step: DeploymentStep, target: ECSClusterTarget?, task: ServerTask) -> VariableDictionary {
        var system = VariableDictionary()
        system.set("Berth.Space.Name", plan.space.name)
        system.set("Berth.Project.Id", plan.project.id)
        system.set("Berth.Project.Name", plan.project.name)
        system.set("Berth.Project.Slug", plan.project.slug)
        system.set("Berth.Environment.Id", plan.environment.id)
        system.set("Berth.Environment.Name", plan.environment.name)
        system.set("Berth.Environment.Slug", plan.environment.slug)
        system.set("Berth.Release.Id", plan.release.id)
        system.set("Berth.Release.Number", plan.release.version)
        system.set("Berth.Deployment.Id", plan.deployment.id)
        system.set("Berth.Task.Id", task.id)
        system.set("Berth.Step.Name", step.name)
        for (container, image) in plan.release.snapshot.images {
            system.set("Berth.Release.Image[\(container)]", image)
        }
        if let target {
            system.set("Berth.Target.Id", target.id)
            system.set("Berth.Target.Name", target.name)
            system.set("Berth.Target.Roles", target.roles.joined(separator: ","))
            system.set("Berth.Target.Region", target.region)
            system.set("Berth.Target.ClusterName", target.clusterName)
            system.set("Berth.Aws.Region", target.region)
        }
        return system
    }

    func defaultTags(_ plan: Plan) -> [String: String] {
        StepJob.tags(
            project: plan.project.slug, environment: plan.environment.slug, release: plan.release.version,
            deployment: plan.deployment.id)
    }

    /// `BerthPrintVariables` / `BerthPrintEvaluatedVariables` set to true print every variable at
    /// the start of each step, sensitive ones as `********`.
    func printVariables(_ variables: VariableDictionary, section: LogSection) async {
        for (flag, evaluated) in [("BerthPrintVariables", false), ("BerthPrintEvaluatedVariables", true)]
        where variables.isTrue(flag) {
            await section.warning(
                "\(flag) is on: every variable is printed below (sensitive values as ********). Turn it off when you are done debugging."
            )
            for (name, value) in variables.listing(evaluated: evaluated) {
                await section.verbose("[\(evaluated ? "evaluated" : "raw")] \(name) = \(value)")
            }
        }
    }
}
