import Crypto
import Foundation
import Synchronization

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
    /// The derived key depends only on the day; deriving it is four HMACs of the five a signature costs.
    private let keyCache = SigningKeyCache()

    /// `/<region>/<service>/aws4_request`, the part of the scope that never changes.
    private let scopeSuffix: String

    public init(credentials: Credentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.scopeSuffix = "/" + region + "/" + service + "/aws4_request"
    }

    /// Whether two signers share one derived-key cache (so one derivation serves both).
    public func sharesKeyCache(with other: SigV4Signer) -> Bool {
        keyCache === other.keyCache
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
        let replaced: (SigningRequest.Header) -> Bool = {
            Self.equalsIgnoringCase($0.name, "authorization") || Self.equalsIgnoringCase($0.name, "x-amz-date")
                || Self.equalsIgnoringCase($0.name, "x-amz-security-token")
        }
        if request.headers.contains(where: replaced) { request.headers.removeAll(where: replaced) }
        var added = [SigningRequest.Header]()
        added.reserveCapacity(3)
        added.append(.init("X-Amz-Date", timestamp.full))
        if let token = credentials.sessionToken {
            added.append(.init("X-Amz-Security-Token", token))
        }

        let canonical = canonicalRequestBytes(request, extraHeaders: added)
        let signature = signatureBytes(canonicalRequest: canonical.bytes, timestamp: timestamp)
        // Assembled as bytes: string interpolation here cost more than the hashing.
        var authorization = [UInt8]()
        authorization.reserveCapacity(256)
        authorization.append(contentsOf: "AWS4-HMAC-SHA256 Credential=".utf8)
        authorization.append(contentsOf: credentials.accessKeyID.utf8)
        authorization.append(UInt8(ascii: "/"))
        authorization.append(contentsOf: timestamp.day.utf8)
        authorization.append(contentsOf: scopeSuffix.utf8)
        authorization.append(contentsOf: ", SignedHeaders=".utf8)
        authorization.append(contentsOf: canonical.signedHeaderBytes)
        authorization.append(contentsOf: ", Signature=".utf8)
        authorization.append(contentsOf: signature)
        added.append(.init("Authorization", String(decoding: authorization, as: UTF8.self)))
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
        let signedHeaderNames = String(decoding: canonicalRequestBytes(request).signedHeaderBytes, as: UTF8.self)
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
        let canonical = canonicalRequestBytes(request)
        let signature = String(decoding: signatureBytes(canonicalRequest: canonical.bytes, timestamp: timestamp), as: UTF8.self)
        let parts = [ownQuery, Self.encodedQuery(authParameters), "X-Amz-Signature=\(signature)"]
        return parts.filter { !$0.isEmpty }.joined(separator: "&")
    }

    // MARK: The steps of the algorithm

    /// The canonical request and its signed header list.
    public func canonicalRequest(_ request: SigningRequest) -> (text: String, signedHeaders: String) {
        let canonical = canonicalRequestBytes(request)
        return (String(decoding: canonical.bytes, as: UTF8.self), String(decoding: canonical.signedHeaderBytes, as: UTF8.self))
    }

    /// The canonical request built straight into bytes: this is the hot path of every AWS call.
    func canonicalRequestBytes(_ request: SigningRequest, extraHeaders: [SigningRequest.Header] = []) -> (
        bytes: [UInt8], signedHeaderBytes: [UInt8]
    ) {
        let newline = UInt8(ascii: "\n")
        var out = [UInt8]()
        out.reserveCapacity(384)
        out.append(contentsOf: request.method.utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 })
        out.append(newline)
        if request.path == "/" {
            out.append(UInt8(ascii: "/"))
        } else {
            out.append(contentsOf: Self.canonicalPath(request.path).utf8)
        }
        out.append(newline)
        if !request.query.isEmpty { out.append(contentsOf: Self.canonicalQuery(request.query).utf8) }
        out.append(newline)

        // Lower-case names, folded values; a stable insertion sort keeps repeated names in order.
        var entries: [(name: [UInt8], value: String)] = []
        entries.reserveCapacity(request.headers.count + extraHeaders.count + 1)
        var hasHost = false
        for header in [request.headers, extraHeaders].joined() {
            var name = Array(header.name.utf8)
            for index in name.indices where name[index] >= 0x41 && name[index] <= 0x5A { name[index] += 0x20 }
            guard !Self.isUnsignable(name) else { continue }
            if name == Self.hostName { hasHost = true }
            entries.append((name, Self.foldWhitespace(header.value)))
        }
        if !hasHost { entries.append((Self.hostName, request.host)) }
        for index in entries.indices.dropFirst() {
            var position = index
            let entry = entries[index]
            while position > 0 && entry.name.lexicographicallyPrecedes(entries[position - 1].name) {
                entries[position] = entries[position - 1]
                position -= 1
            }
            entries[position] = entry
        }
        var names = [UInt8]()
        names.reserveCapacity(96)
        for (index, entry) in entries.enumerated() {
            if index > 0 && entries[index - 1].name == entry.name {
                out.append(UInt8(ascii: ","))
                out.append(contentsOf: entry.value.utf8)
                continue
            }
            if index > 0 {
                out.append(newline)
                names.append(UInt8(ascii: ";"))
            }
            out.append(contentsOf: entry.name)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: entry.value.utf8)
            names.append(contentsOf: entry.name)
        }
        out.append(newline)
        out.append(newline)
        out.append(contentsOf: names)
        out.append(newline)
        let explicitHash = request.headers.last { Self.equalsIgnoringCase($0.name, "x-amz-content-sha256") }?.value
        out.append(contentsOf: (explicitHash ?? request.payloadHash).utf8)
        return (out, names)
    }

    /// The hex signature, as bytes.
    func signatureBytes(canonicalRequest: [UInt8], timestamp: SigningDate) -> [UInt8] {
        var stringToSign = [UInt8]()
        stringToSign.reserveCapacity(160)
        stringToSign.append(contentsOf: Self.algorithm.utf8)
        stringToSign.append(UInt8(ascii: "\n"))
        stringToSign.append(contentsOf: timestamp.full.utf8)
        stringToSign.append(UInt8(ascii: "\n"))
        stringToSign.append(contentsOf: timestamp.day.utf8)
        stringToSign.append(contentsOf: scopeSuffix.utf8)
        stringToSign.append(UInt8(ascii: "\n"))
        SHA256.hash(data: canonicalRequest).withUnsafeBytes { appendHex($0, to: &stringToSign) }
        var signature = [UInt8]()
        signature.reserveCapacity(64)
        signingKey(day: timestamp.day).authenticationCode(for: stringToSign).withUnsafeBytes { appendHex($0, to: &signature) }
        return signature
    }

    /// The key for `day`, derived once per day and kept as a pre-keyed HMAC.
    func signingKey(day: String) -> KeyedHMAC {
        if let cached = keyCache.key(for: day) { return cached }
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        let keyed = KeyedHMAC(key: key)
        keyCache.store(keyed, for: day)
        return keyed
    }

    func scope(_ timestamp: SigningDate) -> String {
        timestamp.day + scopeSuffix
    }

    static let hostName: [UInt8] = Array("host".utf8)
    static let unsignableNames: [[UInt8]] = unsignableHeaders.map { Array($0.utf8) }

    static func isUnsignable(_ name: [UInt8]) -> Bool {
        unsignableNames.contains(name)
    }

    /// ASCII case-insensitive equality with a lower-case `other`, without allocating.
    static func equalsIgnoringCase(_ text: String, _ other: StaticString) -> Bool {
        guard text.utf8.count == other.utf8CodeUnitCount else { return false }
        return other.withUTF8Buffer { expected in
            zip(text.utf8, expected).allSatisfy { ($0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0) == $1 }
        }
    }

    static func lowercasedASCII(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return text }
        return text.lowercased()
    }

    static func foldWhitespace(_ value: String) -> String {
        // Most values have nothing to fold; checking the bytes is far cheaper than splitting.
        let clean =
            value.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
                var previousWasSpace = true
                for byte in bytes {
                    let isSpace = byte == 0x20
                    if byte < 0x20 || byte >= 0x80 || (isSpace && previousWasSpace) { return false }
                    previousWasSpace = isSpace
                }
                return !previousWasSpace
            } ?? false
        if clean { return value }
        if value.isEmpty { return value }
        return value.split(whereSeparator: \.isWhitespace).joined(separator: " ")
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
    /// Lower-case hex, two digits per byte (digests, signatures, key hashes).
    public var hexString: String {
        let bytes = Array(self)
        return bytes.withUnsafeBytes { $0.hexString }
    }
}

extension UnsafeRawBufferPointer {
    var hexString: String {
        let bytes = self
        return String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            var index = 0
            for byte in bytes {
                buffer[index] = hexDigits[Int(byte >> 4)]
                buffer[index + 1] = hexDigits[Int(byte & 0x0F)]
                index += 2
            }
            return index
        }
    }
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// Appends the lower-case hex digits of `bytes`.
func appendHex(_ bytes: UnsafeRawBufferPointer, to output: inout [UInt8]) {
    let start = output.count
    output.append(contentsOf: repeatElement(0, count: bytes.count * 2))
    output.withUnsafeMutableBufferPointer { buffer in
        hexDigits.withUnsafeBufferPointer { digits in
            var index = start
            for byte in bytes {
                buffer[index] = digits[Int(byte >> 4)]
                buffer[index + 1] = digits[Int(byte & 0x0F)]
                index += 2
            }
        }
    }
}

/// The last derived signing key and its day.
final class SigningKeyCache: Sendable {
    private let state = Mutex<(day: String, key: KeyedHMAC)?>(nil)

    func key(for day: String) -> KeyedHMAC? {
        state.withLock { $0?.day == day ? $0?.key : nil }
    }

    func store(_ key: KeyedHMAC, for day: String) {
        state.withLock { $0 = (day, key) }
    }
}

/// HMAC-SHA256 with the key's inner and outer blocks already hashed, so that each message costs
/// two short SHA-256 runs (RFC 2104; the key is 32 bytes, shorter than the 64-byte block).
struct KeyedHMAC: Sendable {
    private let inner: SHA256
    private let outer: SHA256

    init(key: SymmetricKey) {
        var block = key.withUnsafeBytes { Array($0) }
        block += Array(repeating: 0, count: 64 - block.count)
        var inner = SHA256()
        inner.update(data: block.map { $0 ^ 0x36 })
        var outer = SHA256()
        outer.update(data: block.map { $0 ^ 0x5C })
        self.inner = inner
        self.outer = outer
    }

    func authenticationCode(for message: [UInt8]) -> SHA256Digest {
        var inner = self.inner
        inner.update(data: message)
        var outer = self.outer
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize()
    }
}
