import Foundation
import OpenAPIRuntime
import Testing

@testable import BerthServer

/// The fast date writer says exactly what the runtime's formatter says.
@Suite struct RFC3339DateTranscoderTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z"), (-1.0, "1969-12-31T23:59:59Z"), (951_782_400, "2000-02-29T00:00:00Z"),
        (1_795_000_000.999, "2026-11-18T11:06:40Z"), (4_107_542_399, "2100-02-28T23:59:59Z"),
        (-62_135_596_800, "0001-01-01T00:00:00Z"),
    ])
    func writesKnownDates(seconds: Double, expected: String) throws {
        #expect(try RFC3339DateTranscoder().encode(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test func agreesWithTheRuntimesFormatterOverTwoCenturies() throws {
        let reference = ISO8601DateTranscoder.iso8601
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let date = Date(timeIntervalSince1970: Double.random(in: -2_208_988_800...4_102_444_800, using: &generator))
            let (ours, theirs) = (try RFC3339DateTranscoder().encode(date), try reference.encode(date))
            #expect(ours == theirs, "at \(date.timeIntervalSince1970)")
        }
    }

    @Test func readsWhatItWrites() throws {
        let date = Date(timeIntervalSince1970: 1_795_000_000)
        let transcoder = RFC3339DateTranscoder()
        #expect(try transcoder.decode(transcoder.encode(date)) == date)
    }
}
