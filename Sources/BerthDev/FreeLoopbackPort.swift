import AWSCore
import Foundation
import Synchronization

/// Ports this process has handed out. The kernel may give the same free port to two `bind(0)`
/// calls once the first socket is closed; two helper servers launched at once on one port would
/// then answer for each other (one test's moto behind another test's launcher).
private let handedOutPorts = Mutex<Set<Int>>([])

/// A TCP port on 127.0.0.1 that nothing listens on right now and that this process has not handed
/// out before.
public func freeLoopbackPort() throws -> Int {
    for _ in 0..<100 {
        let port = try unusedLoopbackPort()
        if handedOutPorts.withLock({ $0.insert(port).inserted }) { return port }
    }
    throw LocalToolError("no loopback port that this process has not used already")
}

private func unusedLoopbackPort() throws -> Int {
    #if canImport(Glibc)
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
        let socketFD = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard socketFD >= 0 else { throw LocalToolError("socket() failed") }
    defer { close(socketFD) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw LocalToolError("bind() to 127.0.0.1:0 failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
    }
    guard named == 0 else { throw LocalToolError("getsockname() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Starts a helper server (moto, the OIDC gate) on a free loopback port: `launch` runs it on the
/// port; it is ready once something answers HTTP at `probePath` (with a 2xx when `successOnly`),
/// polled every 100 ms for up to 15 s. When another process took the port first, it tries a new
/// one, five times at most.
public func launchOnFreeLoopbackPort(
    _ what: String, probePath: String, successOnly: Bool, launch: (Int) throws -> Process
) async throws -> (process: Process, port: Int) {
    for _ in 0..<5 {
        let port = try freeLoopbackPort()
        let process = try launch(port)
        for _ in 0..<150 where process.isRunning {
            let url = "http://127.0.0.1:\(port)\(probePath)"
            if let response = try? await AsyncHTTPTransport.shared.send(
                AWSHTTPRequest(method: "GET", url: url), timeout: .seconds(1)),
                !successOnly || response.isSuccess
            {
                return (process, port)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
    throw LocalToolError("\(what) did not start on a loopback port after 5 tries")
}
