import BerthDomain
import Foundation

/// What `berth worker register` stores for `berth worker run`: the server, the worker's identity
/// and its credential, in a file only the worker's user can read (0600).
public struct WorkerCredentialFile: Codable, Sendable {
    public var server: String
    public var workerID: String
    public var name: String
    public var pool: String
    public var credential: String

    public init(server: String, workerID: String, name: String, pool: String, credential: String) {
        self.server = server
        self.workerID = workerID
        self.name = name
        self.pool = pool
        self.credential = credential
    }

    /// `$BERTH_WORKER_CONFIG`, else `~/.config/berth/worker.json`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["BERTH_WORKER_CONFIG"], !path.isEmpty { return path }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.config/berth/worker.json"
    }

    /// Writes the file with mode 0600 (its directory 0700 when created), replacing it whole.
    public func save(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString)")
            // Created 0600 from its first byte: never readable by others, not even for a moment.
            let bytes = Array(try encoder.encode(self))
            let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw BerthError(.internalError, String(cString: strerror(errno))) }
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            let synced = fsync(descriptor)
            close(descriptor)
            guard written == bytes.count, synced == 0 else {
                try? FileManager.default.removeItem(at: temporary)
                throw BerthError(.internalError, "could not write \(temporary.path)")
            }
            guard rename(temporary.path, url.path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: temporary)
                throw BerthError(.internalError, reason)
            }
        } catch let error as BerthError {
            throw BerthError(.internalError, "The worker's credential could not be written to \(path): \(error.message)")
        } catch {
            throw BerthError(.internalError, "The worker's credential could not be written to \(path): \(error)")
        }
    }

    /// Reads the file; refuses one that others may read, as ssh refuses a private key.
    public static func load(from path: String) throws -> WorkerCredentialFile {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let data = FileManager.default.contents(atPath: path)
        else {
            throw BerthError(
                .notFound,
                "No worker credential at \(path): register the worker first (berth worker register --server URL --pool POOL --name NAME --token TOKEN)."
            )
        }
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw BerthError(
                .validationFailed,
                "The worker credential \(path) may be read by other users (mode \(String(mode, radix: 8))); run chmod 600 \(path)."
            )
        }
        do {
            return try JSONDecoder().decode(WorkerCredentialFile.self, from: data)
        } catch {
            throw BerthError(.validationFailed, "The worker credential \(path) is not valid: \(error)")
        }
    }
}
