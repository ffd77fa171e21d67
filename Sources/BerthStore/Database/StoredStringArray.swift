import Foundation

/// Reads a column that holds a JSON array of strings, as `jsonText` writes them (`["web","api"]`).
///
/// The common case — no escape sequence, no whitespace — is split directly, since JSONDecoder
/// costs microseconds per row; anything else (escapes, spaces, a malformed value) goes to
/// JSONDecoder, so the result is always the one JSONDecoder gives.
enum StoredStringArray {
    static func decode(_ text: String) throws -> [String] {
        if let simple = simple(text) { return simple }
        return try JSONDecoder().decode([String].self, from: Data(text.utf8))
    }

    /// The elements of `text` when it is a compact array of strings without escapes; nil otherwise.
    static func simple(_ text: String) -> [String]? {
        var text = text
        return text.withUTF8 { bytes -> [String]? in
            guard bytes.count >= 2, bytes.first == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]") else { return nil }
            var result: [String] = []
            var index = 1
            let end = bytes.count - 1
            if index == end { return result }
            while true {
                guard index < end, bytes[index] == UInt8(ascii: "\"") else { return nil }
                let start = index + 1
                var close = start
                while close < end, bytes[close] != UInt8(ascii: "\"") {
                    // Escapes and raw control characters (invalid JSON) are left to JSONDecoder.
                    if bytes[close] == UInt8(ascii: "\\") || bytes[close] < 0x20 { return nil }
                    close += 1
                }
                guard close < end else { return nil }
                result.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<close]), as: UTF8.self))
                index = close + 1
                if index == end { return result }
                guard bytes[index] == UInt8(ascii: ",") else { return nil }
                index += 1
            }
        }
    }
}
