import AWSCore
import BerthAPI
import BerthStore
import Foundation
import Hummingbird
import Prometheus

/// Anonymous routes for operators: liveness, readiness (the database answers and the node is not
/// draining, so a load balancer stops sending a drained node traffic) and Prometheus metrics.
struct OperationsRoutes {
    let store: BerthStore
    /// This node's name (`--node-name`).
    let node: String
    let metrics: PrometheusCollectorRegistry

    func register(on router: Router<BerthRequestContext>) {
        let info = metrics.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "berth", metricName: "build", unitName: "info", helpText: "The running version of Berth."),
            labels: [("version", BerthVersion.current)])
        info.set(to: 1)
        router.get("/healthz") { _, _ -> Response in
            Self.text("ok\n")
        }
        router.get("/readyz") { _, _ -> Response in
            do {
                try await store.ping()
                if try await store.isDraining(node: node) {
                    return Self.text("not ready: the node \(node) is draining\n", status: .serviceUnavailable)
                }
                return Self.text("ready\n")
            } catch {
                return Self.text("not ready: the database does not answer\n", status: .serviceUnavailable)
            }
        }
        router.get("/metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            metrics.emit(into: &buffer)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }

    static func text(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
