import Foundation
import OpenAPIRuntime

/// Writes dates as RFC 3339 UTC timestamps (`2026-11-29T17:44:10Z`, whole seconds), exactly as the
/// runtime's default `ISO8601DateTranscoder` does, without its formatter.
///
/// The default shares one `ISO8601DateFormatter` behind a lock: a page of 100 targets formats 300
/// dates, and every request of every connection queues on that lock. This one computes the calendar
/// fields arithmetically (Howard Hinnant's `civil_from_days`) and writes 20 ASCII bytes. Parsing,
/// which only request bodies need, stays with the runtime's transcoder.
struct RFC3339DateTranscoder: DateTranscoder {
    private static let fallback = ISO8601DateTranscoder.iso8601

    func encode(_ date: Date) throws -> String {
        var bytes: [UInt8] = []
        guard Self.append(date, to: &bytes) else { return try Self.fallback.encode(date) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the 20 bytes of `date`'s timestamp to `bytes` (for writers of JSON that skip
    /// Codable); false, with nothing appended, for a year outside 0…9999, which only `encode(_:)`
    /// writes.
    static func append(_ date: Date, to bytes: inout [UInt8]) -> Bool {
        // Rounded to the millisecond first, as Foundation's formatter does (…59.9996 is the next second).
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (days, millisecondOfDay) = floorDivision(milliseconds, 86_400_000)
        let secondOfDay = millisecondOfDay / 1000
        let (year, month, day) = civilDate(daysSince1970: days)
        guard (0...9999).contains(year) else { return false }
        func put(_ value: Int64, digits: Int) {
            var divisor: Int64 = 1
            for _ in 1..<digits { divisor *= 10 }
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        put(year, digits: 4)
        bytes.append(UInt8(ascii: "-"))
        put(month, digits: 2)
        bytes.append(UInt8(ascii: "-"))
        put(day, digits: 2)
        bytes.append(UInt8(ascii: "T"))
        put(secondOfDay / 3600, digits: 2)
        bytes.append(UInt8(ascii: ":"))
        put(secondOfDay / 60 % 60, digits: 2)
        bytes.append(UInt8(ascii: ":"))
        put(secondOfDay % 60, digits: 2)
        bytes.append(UInt8(ascii: "Z"))
        return true
    }

    func decode(_ text: String) throws -> Date {
        try Self.fallback.decode(text)
    }

    /// Quotient and remainder rounded towards negative infinity (dates before 1970 included).
    static func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = value >= 0 ? value / divisor : (value - divisor + 1) / divisor
        return (quotient, value - quotient * divisor)
    }

    /// The proleptic Gregorian date of a day number (0 = 1970-01-01).
    static func civilDate(daysSince1970 days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468  // days since 0000-03-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // March = 0
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
