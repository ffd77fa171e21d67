import Crypto
import Foundation

/// Signs requests with AWS Signature Version 4, either in the `Authorization` header or as a
/// presigned URL.
///
/// The signer is pure: the date is a parameter and nothing is read from the environment, so every
/// signature can be checked against fixed reference vectors.
///
/// ```swift
/// let signer = SigV4Signer(credentials: credentials, region: "eu-west-1", service: "ecs")
/// let headers = signer.signedHeaders(for: request, date: .now)
/// ```
public struct SigV4Signer: Sendable {
    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// Hex SHA-256 of an empty body.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Headers that proxies and HTTP clients may change in flight; signing them breaks requests.
    static let unsignableHeaders: Set<String> = [
        "authorization", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    public let credentials: Credentials
    public let region: String
    public let service: String

    public init(credentials: Credentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Hex SHA-256 of a body, for `SigningRequest.payloadHash`.
    public static func payloadHash<Bytes: Sequence>(_ body: Bytes) -> String where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(data: Array(body))
        return hasher.finalize().hexString
    }

    /// The headers to add to `request` so that AWS accepts it: `X-Amz-Date`, `X-Amz-Security-Token`
    /// for temporary credentials, and `Authorization`.
    public func signedHeaders(for request: SigningRequest, date: Date) -> [SigningRequest.Header] {
        let timestamp = SigningDate(date)
        var request = request
        request.headers.removeAll {
            let name = $0.name.lowercased()
            return name == "authorization" || name == "x-amz-date" || name == "x-amz-security-token"
        }
        var added = [SigningRequest.Header("X-Amz-Date", timestamp.full)]
        if let token = credentials.sessionToken {
            added.append(.init("X-Amz-Security-Token", token))
        }
        request.headers += added

        let canonical = canonicalRequest(request)
        let signature = self.signature(canonicalRequest: canonical.text, timestamp: timestamp)
        let authorization =
            "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(timestamp)), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
        added.append(.init("Authorization", authorization))
        return added
    }

    /// A presigned URL's query: the request's own query followed by the `X-Amz-*` parameters and the
    /// signature, already encoded (`name=value&…`).
    ///
    /// - Parameters:
    ///   - request: the request to presign; its headers (at least `host`) are signed.
    ///   - expires: seconds the URL stays valid, 1...604800.
    public func presignedQuery(for request: SigningRequest, date: Date, expires: Int) -> String {
        let timestamp = SigningDate(date)
        var request = request
        let signedHeaderNames = canonicalHeaders(request.headers, host: request.host).names
        var authParameters: [SigningRequest.QueryItem] = [
            .init("X-Amz-Algorithm", Self.algorithm),
            .init("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(timestamp))"),
            .init("X-Amz-Date", timestamp.full),
            .init("X-Amz-Expires", String(expires)),
            .init("X-Amz-SignedHeaders", signedHeaderNames),
        ]
        if let token = credentials.sessionToken {
            authParameters.append(.init("X-Amz-Security-Token", token))
        }
        let ownQuery = Self.encodedQuery(request.query)
        request.query += authParameters
        let canonical = canonicalRequest(request)
        let signature = self.signature(canonicalRequest: canonical.text, timestamp: timestamp)
        let parts = [ownQuery, Self.encodedQuery(authParameters), "X-Amz-Signature=\(signature)"]
        return parts.filter { !$0.isEmpty }.joined(separator: "&")
    }

    // MARK: The steps of the algorithm

    /// The canonical request and its signed header list.
    public func canonicalRequest(_ request: SigningRequest) -> (text: String, signedHeaders: String) {
        let headers = canonicalHeaders(request.headers, host: request.host)
        let text = [
            request.method.uppercased(),
            Self.canonicalPath(request.path),
            Self.canonicalQuery(request.query),
            headers.block + "\n",
            headers.names,
            request.headers.last { $0.name.lowercased() == "x-amz-content-sha256" }?.value ?? request.payloadHash,
        ].joined(separator: "\n")
        return (text, headers.names)
    }

    func signature(canonicalRequest: String, timestamp: SigningDate) -> String {
        let stringToSign = [
            Self.algorithm,
            timestamp.full,
            scope(timestamp),
            Self.payloadHash(Array(canonicalRequest.utf8)),
        ].joined(separator: "\n")
        let key = signingKey(day: timestamp.day)
        return HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key).hexString
    }

    func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        return key
    }

    func scope(_ timestamp: SigningDate) -> String {
        "\(timestamp.day)/\(region)/\(service)/aws4_request"
    }

    /// Lower-cased names, sorted; values with runs of white space folded to one space and repeated
    /// names joined by commas. `host` is added when the request does not carry it.
    func canonicalHeaders(_ headers: [SigningRequest.Header], host: String) -> (block: String, names: String) {
        var values: [String: [String]] = [:]
        for header in headers {
            let name = header.name.lowercased()
            guard !Self.unsignableHeaders.contains(name) else { continue }
            values[name, default: []].append(Self.foldWhitespace(header.value))
        }
        if values["host"] == nil { values["host"] = [host] }
        let names = values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let block = names.map { "\($0):\(values[$0]!.joined(separator: ","))" }.joined(separator: "\n")
        return (block, names.joined(separator: ";"))
    }

    static func foldWhitespace(_ value: String) -> String {
        value.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// The wire path with dot segments and empty segments removed, then encoded once more (every
    /// service but S3 expects the double encoding).
    static func canonicalPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment == ".." {
                if !segments.isEmpty { segments.removeLast() }
            } else {
                segments.append(segment)
            }
        }
        var normalized = path.hasPrefix("/") ? "/" : ""
        normalized += segments.joined(separator: "/")
        if path.hasSuffix("/") && !segments.isEmpty { normalized += "/" }
        return URIEncoding.encode(normalized, keepingSlash: true)
    }

    static func canonicalQuery(_ items: [SigningRequest.QueryItem]) -> String {
        items.map { (URIEncoding.encode($0.name), URIEncoding.encode($0.value)) }
            .sorted { lhs, rhs in
                lhs.0 == rhs.0
                    ? lhs.1.utf8.lexicographicallyPrecedes(rhs.1.utf8)
                    : lhs.0.utf8.lexicographicallyPrecedes(rhs.0.utf8)
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// `name=value&…` in the given order, each part encoded.
    public static func encodedQuery(_ items: [SigningRequest.QueryItem]) -> String {
        items.map { "\(URIEncoding.encode($0.name))=\(URIEncoding.encode($0.value))" }.joined(separator: "&")
    }
}

/// The two renderings of the signing time: `20150830T123600Z` and `20150830`.
///
/// Computed from the epoch seconds with the civil-from-days algorithm rather than `Calendar`, which
/// costs more than the rest of a signature.
struct SigningDate {
    let full: String
    let day: String

    init(_ date: Date) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Howard Hinnant's days_from_civil inverse.
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let dayOfMonth = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)

        var bytes = [UInt8]()
        bytes.reserveCapacity(16)
        func append(_ value: Int, width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        append(year, width: 4)
        append(month, width: 2)
        append(dayOfMonth, width: 2)
        day = String(decoding: bytes, as: UTF8.self)
        bytes.append(UInt8(ascii: "T"))
        append(secondOfDay / 3600, width: 2)
        append(secondOfDay / 60 % 60, width: 2)
        append(secondOfDay % 60, width: 2)
        bytes.append(UInt8(ascii: "Z"))
        full = String(decoding: bytes, as: UTF8.self)
    }
}

extension Sequence where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes = [UInt8]()
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
