import AWSSigV4
import Testing

@testable import AWSCore

@Suite("A client keeps its signer while the credentials stay the same")
struct SignerCacheTests {
    @Test("the same credentials reuse the signer (and its derived key); new credentials get a new one")
    func reuse() {
        let cache = SignerCache()
        let first = Credentials(accessKeyID: "ASIA1", secretAccessKey: "one", sessionToken: "t1")
        let a = cache.signer(for: first, region: "eu-west-1", service: "ecs")
        let b = cache.signer(for: first, region: "eu-west-1", service: "ecs")
        #expect(a.credentials == b.credentials)
        #expect(a.sharesKeyCache(with: b))

        let rotated = Credentials(accessKeyID: "ASIA2", secretAccessKey: "two", sessionToken: "t2")
        let c = cache.signer(for: rotated, region: "eu-west-1", service: "ecs")
        #expect(c.credentials == rotated)
        #expect(!c.sharesKeyCache(with: a))
        #expect(!cache.signer(for: rotated, region: "us-east-1", service: "ecs").sharesKeyCache(with: c))
    }
}
