import Foundation

/// The pages of a paginated operation as an async sequence: each page is fetched when the
/// iteration asks for it, until the service returns no next token (or the same one twice).
///
/// ```swift
/// for try await page in ecs.listClustersPages(.init()) { arns += page.clusterArns ?? [] }
/// ```
public struct AWSPaginator<Input: Sendable, Output: Sendable>: AsyncSequence, Sendable {
    public typealias Element = Output

    let input: Input
    let fetch: @Sendable (Input) async throws -> Output
    let nextToken: @Sendable (Output) -> String?
    let setToken: @Sendable (inout Input, String) -> Void

    public init(
        input: Input,
        fetch: @escaping @Sendable (Input) async throws -> Output,
        nextToken: @escaping @Sendable (Output) -> String?,
        setToken: @escaping @Sendable (inout Input, String) -> Void
    ) {
        self.input = input
        self.fetch = fetch
        self.nextToken = nextToken
        self.setToken = setToken
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var input: Input?
        var previousToken: String?
        let paginator: AWSPaginator

        public mutating func next() async throws -> Output? {
            guard var current = input else { return nil }
            let page = try await paginator.fetch(current)
            if let token = paginator.nextToken(page), !token.isEmpty, token != previousToken {
                paginator.setToken(&current, token)
                input = current
                previousToken = token
            } else {
                input = nil
            }
            return page
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(input: input, previousToken: nil, paginator: self)
    }
}
