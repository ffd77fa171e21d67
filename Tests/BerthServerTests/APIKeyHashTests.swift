import BerthDomain
import BerthUseCases
import Foundation
import Testing

/// The stored form of every API key, session and login link: SHA-256 in lower-case hex. Keys
/// issued by any earlier version must keep matching, so the format is pinned by known answers.
@Suite("API key hashes")
struct APIKeyHashTests {
    @Test("SHA-256 in lower-case hex, 64 digits: known answers")
    func knownAnswers() {
        #expect(APIKeyFactory.hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(APIKeyFactory.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let (key, record) = APIKeyFactory.make(name: "probe", at: .now)
        #expect(record.hash == APIKeyFactory.hash(key))
        #expect(record.hash.count == 64 && record.hash.allSatisfy { "0123456789abcdef".contains($0) })
    }
}
