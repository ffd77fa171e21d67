import AWSCore
import AWSECS
import AWSSigV4
import BerthDomain
import BerthEngine
import BerthServer
import BerthStore
import BerthTestSupport
import Foundation
import Logging

/// What `berth server --dev` adds: a loud banner and, when moto is installed, a local AWS emulator
/// with a demo cluster, an access key account and an ECS cluster target already registered.
struct DevEnvironment {
    let moto: MotoServer?

    static let banner = """
        ************************************************************************
        *  DEVELOPMENT SERVER — for trying Berth out, not for real use.        *
        *  Its data lives in a temporary directory and is deleted on exit.     *
        ************************************************************************
        """

    static func start(logger: Logger) async -> DevEnvironment {
        Console.line(banner)
        do {
            let moto = try await MotoServer.start()
            Console.line(
                "A local AWS emulator (moto) runs at \(moto.endpoint); Berth's AWS calls go there, nothing leaves this machine.")
            return DevEnvironment(moto: moto)
        } catch {
            Console.line("No local AWS emulator: \(error). Run `make dev` to install moto; the server starts without demo data.")
            return DevEnvironment(moto: nil)
        }
    }

    /// Registers the demo records and queues a first health check.
    func seed(server: BerthServer, logger: Logger) async throws {
        guard let moto else { return }
        let credentials = try await moto.createAdministrator(named: "berth-demo")
        let ecs = ECSClient(client: try moto.client(for: .ecs, credentials: credentials))
        _ = try await ecs.createCluster(ECS.CreateClusterRequest(clusterName: "berth-demo"))
        let store = server.store
        let space = try await store.space(Space.defaultName)
        let now = Date()
        let development = try await store.createEnvironment(
            Environment(spaceID: space.id, name: "Development", sortOrder: 0, createdAt: now), position: nil)
        var account = Account(
            spaceID: space.id, kind: .awsAccessKey, name: "demo-aws", description: "Keys of an IAM user in the local emulator",
            region: "us-east-1", accessKeyID: credentials.accessKeyID, createdAt: now)
        account.secretKey = try server.secrets.seal(credentials.secretAccessKey, for: .accountSecretKey(accountID: account.id))
        account = try await store.createAccount(account)
        let pool = try await store.defaultWorkerPool(spaceID: space.id)
        let target = try await store.createTarget(
            ECSClusterTarget(
                spaceID: space.id, name: "demo-cluster", environmentIDs: [development.id], roles: ["web"],
                authentication: .account(account.id), assumeRole: nil, region: "us-east-1", clusterName: "berth-demo",
                workerPoolID: pool.id, createdAt: now))
        _ = try await server.engine.checkHealth(of: [target])
        Console.line(
            """
            Demo data: the environment 'Development', the account 'demo-aws' and the target 'demo-cluster' (ECS cluster \
            'berth-demo'); a first health check is queued. Try:
              berth target list
              berth target health-check demo-cluster
              berth account test demo-aws
            """)
    }

    func stop() {
        moto?.stop()
    }
}
