import HTTPTypes
import Synchronization

/// The server's routes, filled once the router is complete, so that a known path asked with a
/// method it does not have is answered 405 with `Allow` rather than 404.
final class KnownRoutes: Sendable {
    private let routes = Mutex<[(segments: [Substring], method: HTTPRequest.Method)]>([])

    /// Records the routes (paths as the router prints them: `/api/spaces/{space}`, `*`).
    func record(_ routes: [(path: String, method: HTTPRequest.Method)]) {
        let parsed = routes.map { (segments: $0.path.split(separator: "/"), method: $0.method) }
        self.routes.withLock { $0 = parsed }
    }

    /// The methods the path has, sorted; empty for an unknown path. As the router does, the route
    /// with literal segments earliest wins over one with a parameter there.
    func methods(for path: String) -> [String] {
        let parts = path.split(separator: "/")
        return routes.withLock { routes in
            let matching = routes.filter { Self.matches($0.segments, parts) }
            guard
                let best = matching.map(\.segments).max(by: {
                    Self.specificity($0).lexicographicallyPrecedes(Self.specificity($1))
                })
            else { return [] }
            return Set(matching.filter { $0.segments == best }.map(\.method.rawValue)).sorted()
        }
    }

    static func isParameter(_ segment: Substring) -> Bool {
        segment == "*" || segment.contains("{") || segment.hasPrefix(":")
    }

    static func specificity(_ segments: [Substring]) -> [Int] { segments.map { isParameter($0) ? 0 : 1 } }

    static func matches(_ segments: [Substring], _ parts: [Substring]) -> Bool {
        segments.count == parts.count
            && zip(segments, parts).allSatisfy { segment, part in segment == part || isParameter(segment) }
    }
}
