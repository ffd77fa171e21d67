import ArgumentParser
import BerthServer
import Foundation

/// `berth server`'s HTTP flags: HTTPS, and the limits that keep a client from holding the server.
struct ServerHTTPOptions: ParsableArguments {
    @Option(
        name: .customLong("tls-certificate"),
        help: "A PEM file with the server's certificate chain: serve HTTPS (HTTP/1.1 and HTTP/2). Needs --tls-key.")
    var tlsCertificate: String?
    @Option(name: .customLong("tls-key"), help: "A PEM file with the private key of --tls-certificate.")
    var tlsKey: String?
    @Option(
        name: .customLong("max-body-size"),
        help: "The largest request body accepted, in bytes, or with a unit: 512KiB, 4MiB (default 4MiB).")
    var maxBodySize: String = "4MiB"
    @Option(
        name: .customLong("idle-timeout"),
        help: "Seconds a connection may stay without receiving a byte before it is closed (default 60).")
    var idleTimeout: Double = 60
    @Option(
        name: .customLong("request-timeout"),
        help: "Seconds a request may take to arrive in full, head and body, from its first byte (default 60).")
    var requestTimeout: Double = 60

    func validate() throws {
        guard (tlsCertificate == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-certificate and --tls-key go together: give both, or neither to serve plain HTTP.")
        }
        for (flag, path) in [("--tls-certificate", tlsCertificate), ("--tls-key", tlsKey)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("\(flag) \(path) is not a readable file.")
            }
        }
        _ = try maximumBodySize()
        guard (1...3600).contains(idleTimeout) else { throw ValidationError("--idle-timeout must be 1 to 3600 seconds.") }
        guard (1...3600).contains(requestTimeout) else {
            throw ValidationError("--request-timeout must be 1 to 3600 seconds.")
        }
    }

    /// `--max-body-size` in bytes: a number, optionally with KiB, MiB (or KB, MB as the same).
    func maximumBodySize() throws -> Int {
        let text = maxBodySize.trimmingCharacters(in: .whitespaces)
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("KB", 1 << 10), ("MB", 1 << 20), ("B", 1)]
        let (number, multiplier) =
            units.first { text.hasSuffix($0.0) }.map { (text.dropLast($0.0.count).trimmingCharacters(in: .whitespaces), $0.1) }
            ?? (text, 1)
        guard let value = Int(number), value > 0, value <= (1 << 30) / multiplier else {
            throw ValidationError("--max-body-size '\(maxBodySize)' is not a size from 1 byte to 1GiB, e.g. 4MiB or 1048576.")
        }
        return value * multiplier
    }

    var settings: HTTPSettings {
        get throws {
            HTTPSettings(
                maximumBodySize: try maximumBodySize(), idleTimeout: .milliseconds(Int(idleTimeout * 1000)),
                requestTimeout: .milliseconds(Int(requestTimeout * 1000)),
                tls: tlsCertificate.flatMap { certificate in tlsKey.map { (certificatePath: certificate, keyPath: $0) } })
        }
    }
}
