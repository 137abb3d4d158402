import Foundation
import Testing

@testable import Web

/// RFC 3339 by hand (no Foundation formatters): what API.md writes, and what a client may send.
@Suite struct RFC3339Tests {
    @Test func writesUTCWithMicroseconds() {
        #expect(RFC3339.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_795_860_930.123456)) == "2026-11-28T10:15:30.123456Z")
        // A fraction that rounds up to a whole second carries into the seconds.
        #expect(RFC3339.format(Date(timeIntervalSince1970: 59.9999997)) == "1970-01-01T00:01:00.000000Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59.000000Z")
    }

    @Test func readsWhatItWritesAndOffsets() throws {
        let date = Date(timeIntervalSince1970: 1_795_860_930.123456)
        let back = try #require(RFC3339.parse(RFC3339.format(date)))
        #expect(abs(back.timeIntervalSince1970 - date.timeIntervalSince1970) < 1e-6)
        #expect(RFC3339.parse("2026-11-28T10:15:30Z")?.timeIntervalSince1970 == 1_795_860_930)
        #expect(RFC3339.parse("2026-11-28T11:45:30+01:30")?.timeIntervalSince1970 == 1_795_860_930)
        #expect(RFC3339.parse("2026-11-28t05:15:30.5-05:00")?.timeIntervalSince1970 == 1_795_860_930.5)
        #expect(RFC3339.parse("2024-02-29 00:00:00z")?.timeIntervalSince1970 == 1_709_164_800)
    }

    @Test(arguments: [
        "", "2026-11-28", "2026-11-28T10:15:30", "2026-11-28T10:15:30.Z", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-28T24:00:00Z", "2026-11-28T10:60:00Z",
        "2026-11-28T10:15:60Z", "2026-11-28T10:15:30+0100", "2026-11-28T10:15:30+24:00", "2026-11-28T10:15:30Zjunk",
        "２０２６-11-28T10:15:30Z", "26-11-28T10:15:30Z", " 2026-11-28T10:15:30Z"
    ])
    func refusesWhatIsNotRFC3339(_ text: String) {
        #expect(RFC3339.parse(text) == nil)
    }
}
