import AWSSigV4
import Foundation

/// The reference signatures computed by botocore (`scripts/generate-sigv4-vectors.py`).
struct ReferenceVector: Decodable, Sendable {
    struct Keys: Decodable, Sendable {
        let accessKeyID: String
        let secretAccessKey: String
        let sessionToken: String?
    }
    struct Expected: Decodable, Sendable {
        let headers: [String: String]?
        let presignedQuery: String?
        let canonicalRequest: String
    }
    enum Body: Decodable, Sendable {
        case text(String)
        case repeated(String, Int)

        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                self = .text(text)
                return
            }
            struct Repeat: Decodable { let `repeat`: String; let count: Int }
            let spec = try Repeat(from: decoder)
            self = .repeated(spec.repeat, spec.count)
        }

        var bytes: [UInt8] {
            switch self {
            case .text(let text): Array(text.utf8)
            case .repeated(let text, let count): Array(String(repeating: text, count: count).utf8)
            }
        }
    }

    let name: String
    let method: String
    let scheme: String
    let host: String
    let port: Int?
    let path: String
    let query: [[String]]
    let headers: [[String]]
    let body: Body?
    let payloadHash: String
    let region: String
    let service: String
    let credentials: Keys
    let date: Date
    let expires: Int?
    let expected: Expected

    var signer: SigV4Signer {
        SigV4Signer(
            credentials: Credentials(
                accessKeyID: credentials.accessKeyID, secretAccessKey: credentials.secretAccessKey,
                sessionToken: credentials.sessionToken),
            region: region, service: service)
    }

    var request: SigningRequest {
        SigningRequest(
            method: method,
            host: SigningRequest.hostHeader(host: host, port: port, scheme: scheme),
            path: path,
            query: query.map { .init($0[0], $0[1]) },
            headers: headers.map { .init($0[0], $0[1]) },
            payloadHash: SigV4Signer.payloadHash(body?.bytes ?? []))
    }

    static let all: [ReferenceVector] = {
        struct File: Decodable { let vectors: [ReferenceVector] }
        let url = Bundle.module.url(forResource: "sigv4", withExtension: "json", subdirectory: "Vectors")!
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try! decoder.decode(File.self, from: Data(contentsOf: url)).vectors
    }()
}
