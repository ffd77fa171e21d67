import AWSSigV4
import Foundation
import Testing

@Suite("SigV4 signer against botocore's reference signatures")
struct SigV4SignerTests {
    @Test("the vectors file holds header and presigned cases")
    func vectorsAreLoaded() {
        #expect(ReferenceVector.all.count >= 20)
        #expect(ReferenceVector.all.contains { $0.expected.presignedQuery != nil })
    }

    @Test("header signatures equal botocore's", arguments: ReferenceVector.all.filter { $0.expires == nil })
    func headerSignature(_ vector: ReferenceVector) throws {
        let signer = vector.signer
        let request = vector.request
        #expect(request.payloadHash == vector.payloadHash)

        let added = signer.signedHeaders(for: request, date: vector.date)
        let expected = try #require(vector.expected.headers)
        let actual = Dictionary(uniqueKeysWithValues: added.map { ($0.name, $0.value) })
        #expect(actual == expected, "\(vector.name)")

        var signed = request
        signed.headers += added.filter { $0.name != "Authorization" }
        #expect(signer.canonicalRequest(signed).text == vector.expected.canonicalRequest, "\(vector.name)")
    }

    @Test("presigned URLs equal botocore's", arguments: ReferenceVector.all.filter { $0.expires != nil })
    func presignedURL(_ vector: ReferenceVector) throws {
        let query = vector.signer.presignedQuery(
            for: vector.request, date: vector.date, expires: try #require(vector.expires))
        #expect(query == vector.expected.presignedQuery, "\(vector.name)")
    }

    @Test("a session token is signed and sent, long-lived keys send none")
    func sessionToken() {
        let request = SigningRequest(method: "GET", host: "example.com", payloadHash: SigV4Signer.emptyPayloadHash)
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        let temporary = SigV4Signer(
            credentials: .init(accessKeyID: "ASIA", secretAccessKey: "s", sessionToken: "tok"),
            region: "us-east-1", service: "sts")
        let headers = temporary.signedHeaders(for: request, date: date)
        #expect(headers.first { $0.name == "X-Amz-Security-Token" }?.value == "tok")
        #expect(headers.last?.value.contains("SignedHeaders=host;x-amz-date;x-amz-security-token") == true)

        let longLived = SigV4Signer(
            credentials: .init(accessKeyID: "AKIA", secretAccessKey: "s"), region: "us-east-1", service: "sts")
        #expect(!longLived.signedHeaders(for: request, date: date).contains { $0.name == "X-Amz-Security-Token" })
    }

    @Test(
        "signing dates render in UTC across day, month and leap-year boundaries",
        arguments: [
            (0.0, "19700101T000000Z"),
            (951_782_399, "20000228T235959Z"),
            (951_782_400, "20000229T000000Z"),
            (1_709_251_199, "20240229T235959Z"),
            (1_735_689_599.999, "20241231T235959Z"),
            (4_102_444_800, "21000101T000000Z"),
        ])
    func signingDate(seconds: Double, expected: String) {
        let signer = SigV4Signer(credentials: .init(accessKeyID: "A", secretAccessKey: "s"), region: "r", service: "s")
        let request = SigningRequest(method: "GET", host: "h", payloadHash: SigV4Signer.emptyPayloadHash)
        let headers = signer.signedHeaders(for: request, date: Date(timeIntervalSince1970: seconds))
        #expect(headers.first { $0.name == "X-Amz-Date" }?.value == expected)
    }

    @Test("credentials never print their secret or token")
    func credentialsRedacted() {
        let credentials = Credentials(accessKeyID: "AKIAVISIBLE", secretAccessKey: "TOPSECRET", sessionToken: "TOKENVALUE")
        for text in ["\(credentials)", String(describing: credentials), String(reflecting: credentials)] {
            #expect(text.contains("AKIAVISIBLE"))
            #expect(!text.contains("TOPSECRET"))
            #expect(!text.contains("TOKENVALUE"))
        }
    }
}

extension ReferenceVector: CustomTestStringConvertible {
    var testDescription: String { name }
}
