import AWSCore
import BerthDomain
import BerthEngine
import BerthServer
import BerthStore
import Foundation
import Logging
import Testing

/// The data directory and the SQLite files are for the server's user alone.
@Suite("Private data files")
struct PrivateFilesTests {
    static func configuration(_ directory: URL) -> ServerConfiguration {
        var logger = Logger(label: "berth.test.server")
        logger.logLevel = .warning
        return ServerConfiguration(
            dataDirectory: directory, host: "localhost", port: 0, environment: [:],
            engine: EngineConfiguration(environment: EnvironmentVariables([:]), healthCheckInterval: nil, logger: logger),
            logger: logger)
    }

    static func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber).intValue
    }

    /// Why the server refused to start on `data`; records an issue (and closes it) when it started.
    static func refusal(_ data: URL) async -> BerthError? {
        do {
            let server = try await BerthServer.build(configuration(data))
            await server.store.close()
            Issue.record("the server started on \(data.path)")
        } catch let error as BerthError {
            return error
        } catch {
            Issue.record("unexpected error: \(error)")
        }
        return nil
    }

    static func withDirectory(_ body: (URL) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-private-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try await body(root)
    }

    @Test("A first start creates the data directory 0700 and the SQLite database, its WAL and shared memory 0600")
    func createdPrivate() async throws {
        try await Self.withDirectory { root in
            let data = root.appendingPathComponent("data")
            let server = try await BerthServer.build(Self.configuration(data))
            #expect(try Self.mode(data.path) == 0o700)
            for file in ["berth.sqlite", "berth.sqlite-wal", "berth.sqlite-shm", "master.key"] {
                #expect(try Self.mode(data.appendingPathComponent(file).path) == 0o600, "\(file)")
            }
            await server.store.close()
        }
    }

    @Test("An existing data directory that others can read is refused, with the chmod to run")
    func readableDirectoryRefused() async throws {
        try await Self.withDirectory { root in
            let data = root.appendingPathComponent("data")
            try FileManager.default.createDirectory(
                at: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            let error = await Self.refusal(data)
            #expect(error?.message.contains("can be read by other users (mode 755)") == true, "\(String(describing: error))")
            #expect(error?.message.hasSuffix("Run: chmod 700 \(data.path)") == true, "\(String(describing: error))")
            #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("master.key").path))
        }
    }

    @Test("An existing SQLite database that others can read is refused, with the chmod to run")
    func readableDatabaseRefused() async throws {
        try await Self.withDirectory { root in
            let data = root.appendingPathComponent("data")
            try FileManager.default.createDirectory(
                at: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let database = data.appendingPathComponent("berth.sqlite").path
            #expect(FileManager.default.createFile(atPath: database, contents: nil, attributes: [.posixPermissions: 0o644]))
            let error = await Self.refusal(data)
            #expect(error?.message.hasSuffix("Run: chmod 600 \(database)") == true, "\(String(describing: error))")
        }
    }

    @Test(
        "A private data directory that belongs to another user (a script's user could read it) is refused, with the chown to run",
        .enabled(if: geteuid() == 0, "only root can give a directory to another user"))
    func foreignOwnerRefused() async throws {
        try await Self.withDirectory { root in
            let data = root.appendingPathComponent("data")
            try FileManager.default.createDirectory(
                at: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            #expect(chown(data.path, 65_534, 65_534) == 0)
            let error = await Self.refusal(data)
            #expect(error?.message.contains("belongs to another user (uid 65534)") == true, "\(String(describing: error))")
            #expect(error?.message.hasSuffix("Run: chown \(geteuid()) \(data.path)") == true, "\(String(describing: error))")
        }
    }
}
