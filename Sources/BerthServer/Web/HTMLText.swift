import Foundation
import Mustache

/// How the pages write text into HTML: the five characters HTML gives meaning to are escaped, as
/// swift-mustache's own HTML content type does, but byte by byte over UTF-8 (a byte below 0x80
/// is never part of a longer character) and without copying a text that has none of them. The
/// library's escaping looks each grapheme up in a dictionary, which was a tenth of the
/// dashboard's time.
struct HTMLText: MustacheContentType {
    /// The name templates are parsed with (`WebUI.load` sets it on every template).
    static let name = "BERTH_HTML"

    func escapeText(_ text: String) -> String { Self.escape(text) }

    static func escape(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else {
            return text
        }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(utf8.count + 32)
        for byte in utf8 {
            switch byte {
            case 0x26: escaped.append(contentsOf: "&amp;".utf8)
            case 0x3C: escaped.append(contentsOf: "&lt;".utf8)
            case 0x3E: escaped.append(contentsOf: "&gt;".utf8)
            case 0x22: escaped.append(contentsOf: "&quot;".utf8)
            case 0x27: escaped.append(contentsOf: "&#39;".utf8)
            default: escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }
}
