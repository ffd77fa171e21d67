import AsyncHTTPClient
import BerthDomain
import BerthServer
import BerthStore
import BerthTestSupport
import Foundation
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite("Connections: idle timeout, HTTPS")
struct ConnectionTests {
    /// A blocking TCP connection to 127.0.0.1, for sending exactly the bytes a slow client would.
    /// Its one blocking read runs on a thread of its own (``onOwnThread(_:)``).
    final class RawSocket: @unchecked Sendable {
        let descriptor: Int32

        init(port: Int) throws {
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
            // A read that waits longer than this fails the test instead of hanging it.
            var timeout = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(descriptor) }

        func send(_ text: String) {
            _ = Array(text.utf8).withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
        }

        /// Sends without raising SIGPIPE; false once the server has closed the connection.
        func trySend(_ text: String) -> Bool {
            Array(text.utf8).withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } > 0
        }

        /// Whether the server has closed the connection (a read without waiting finds its end).
        var isClosedByServer: Bool {
            var byte: UInt8 = 0
            let count = recv(descriptor, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
            return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        }

        /// Reads until the server closes the connection (true) or the read times out (false).
        func readUntilClosed() async -> (closed: Bool, received: String) {
            await onOwnThread { self.blockingReadUntilClosed() }
        }

        private func blockingReadUntilClosed() -> (closed: Bool, received: String) {
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                if count == 0 { return (true, String(decoding: received, as: UTF8.self)) }
                if count < 0 { return (errno == ECONNRESET, String(decoding: received, as: UTF8.self)) }
                received += buffer[0..<count]
            }
        }
    }

    @Test("A client that sends half a request and stops is disconnected after the idle timeout")
    func idleTimeout() async throws {
        #expect(HTTPSettings().idleTimeout == .seconds(60))
        try await TestServer.with(configure: {
            $0.host = "127.0.0.1"
            $0.http.idleTimeout = .seconds(1)
        }) { server in
            let port = try #require(server.client.port)
            let slow = try RawSocket(port: port)
            slow.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            let result = await slow.readUntilClosed()
            #expect(result.closed, "the half-sent request still holds its connection after 30 s")
            #expect(result.received.isEmpty)
            // A client that completes its request is answered as before.
            let prompt = try RawSocket(port: port)
            prompt.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            #expect(await prompt.readUntilClosed().received.hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test(
        "A client that trickles its request a byte at a time is disconnected after the request timeout; idle time between requests is not counted"
    )
    func requestTimeout() async throws {
        #expect(HTTPSettings().requestTimeout == .seconds(60))
        try await TestServer.with(configure: {
            $0.host = "127.0.0.1"
            $0.http.idleTimeout = .seconds(30)
            $0.http.requestTimeout = .seconds(1)
        }) { server in
            let port = try #require(server.client.port)
            // A slow loris: every byte comes well within the idle timeout, the request never ends.
            let loris = try RawSocket(port: port)
            var closed = !loris.trySend("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            for _ in 0..<75 where !closed {
                try await Task.sleep(for: .milliseconds(200))
                closed = loris.isClosedByServer || !loris.trySend("a")
            }
            #expect(closed, "a request trickled over 15 s still holds its connection (request timeout 1 s)")

            // A kept-alive connection may wait between requests longer than the request timeout.
            let patient = try RawSocket(port: port)
            patient.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try await Task.sleep(for: .seconds(2))
            patient.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            let answers = await patient.readUntilClosed().received
            #expect(answers.components(separatedBy: "HTTP/1.1 200").count - 1 == 2, "\(answers)")
        }
    }

    @Test(
        "With --tls-certificate and --tls-key the server speaks HTTPS, HTTP/1.1 and HTTP/2, and plain HTTP is refused; its built-in worker process reaches it over HTTPS"
    )
    func https() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = try await BerthProcess.run(
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out",
                certificate,
            ], environment: [:], binary: "/usr/bin/env")
        try #require(openssl.status == 0, "openssl could not make a self-signed certificate: \(openssl.standardError)")

        try await TestServer.with(configure: {
            $0.host = "127.0.0.1"
            $0.http.tls = (certificatePath: certificate, keyPath: key)
            $0.builtInWorker = BuiltInWorkerSettings(mode: .separateProcess, executable: BerthProcess.binaryPath)
        }) { server in
            let port = try #require(server.client.port)
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificate))
            for (version, expected) in [
                (HTTPClient.Configuration.HTTPVersion.http1Only, HTTPVersion.http1_1), (.automatic, .http2),
            ] {
                var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
                configuration.httpVersion = version
                let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
                do {
                    var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)/api/spaces")
                    request.headers.add(name: "Authorization", value: "Bearer \(server.key)")
                    let response = try await client.execute(request, timeout: .seconds(30))
                    #expect(response.status == .ok)
                    #expect(response.version == expected)
                    let body = try await response.body.collect(upTo: 1 << 20)
                    #expect(String(buffer: body).contains("\"default\""))
                } catch {
                    try await client.shutdown()
                    throw error
                }
                try await client.shutdown()
            }
            // Plain HTTP to the TLS port gets no HTTP answer.
            let plain = try RawSocket(port: port)
            plain.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(await !plain.readUntilClosed().received.hasPrefix("HTTP/1.1 200"))
            // The built-in worker trusts the server's certificate for 127.0.0.1 (which the
            // certificate also names here, but the worker does not need it to): its long poll
            // is a contact after its registration.
            var contacted = false
            for _ in 0..<200 where !contacted {
                let space = try await server.server.store.space(Space.defaultName)
                let workers = try await server.server.store.listWorkers(spaceID: space.id)
                contacted = workers.contains {
                    $0.worker.builtInNode != nil && ($0.worker.lastContactAt ?? .distantPast) > $0.worker.registeredAt
                }
                if !contacted { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(contacted, "the built-in worker never reached the server over HTTPS")
        }
    }

    @Test("Listening beyond loopback without TLS warns; loopback or TLS does not")
    func plaintextWarning() {
        var configuration = ServerConfiguration(dataDirectory: URL(fileURLWithPath: "data"), host: "0.0.0.0", port: 8080)
        #expect(configuration.plaintextWarning?.contains("WARNING: Berth is listening on 0.0.0.0:8080 without TLS") == true)
        configuration.http.tls = (certificatePath: "cert.pem", keyPath: "key.pem")
        #expect(configuration.plaintextWarning == nil)
        #expect(configuration.effectivePublicURL().hasPrefix("https://"))
        for host in ["127.0.0.1", "localhost", "::1"] {
            #expect(ServerConfiguration(dataDirectory: URL(fileURLWithPath: "data"), host: host).plaintextWarning == nil)
        }
    }
}
