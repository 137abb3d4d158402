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

    /// The calendar arithmetic against glibc's gmtime_r (what `format` used before): every day of 1968-2104
    /// (leap days, year ends, 2100 not leap), 400-year cycles on both sides of 1970, fractions that round both ways.
    @Test func agreesWithGmtime() {
        var instants: [Double] = []
        for day in Int64(-730)...Int64(49_000) { instants.append(Double(day * 86_400 + (day * 7_919) % 86_400)) }
        for day in stride(from: Int64(-800_000), through: 3_000_000, by: 997) { instants.append(Double(day * 86_400 - 1)) }
        for year in [-4001, -1, 0, 1, 399, 400, 1600, 1900, 2000, 2024, 2100, 2400, 9999, 10_000, 12_345] {
            let days = Double((Int64(year) - 1970) * 36_524_25 / 100_00)  // about Jan 1st of that year
            for offset in stride(from: -3.0, through: 3.0, by: 1) { instants.append((days + offset) * 86_400 + 0.5) }
        }
        instants += [0.000_000_4, 0.000_000_5, 0.999_999_4, 0.999_999_6, -0.000_000_4, -0.5, -86_400.25, 1_709_164_799.999_999_9]
        for t in instants {
            let date = Date(timeIntervalSince1970: t)
            #expect(RFC3339.format(date) == Self.gmtimeFormat(date), "\(t)")
            var bytes: [UInt8] = Array("x".utf8)
            RFC3339.write(date, into: &bytes)
            #expect(bytes == Array(("x" + Self.gmtimeFormat(date)).utf8))
        }
    }

    /// The previous implementation: gmtime_r's fields, zero-padded.
    private static func gmtimeFormat(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        var seconds = Int64(t.rounded(.down))
        var micros = Int64(((t - Double(seconds)) * 1_000_000).rounded())
        if micros >= 1_000_000 {
            seconds += 1
            micros -= 1_000_000
        }
        var time = time_t(seconds)
        var p = tm()
        gmtime_r(&time, &p)
        let year = Int64(p.tm_year) + 1900
        return (year < 0 ? "-" : "")
            + String(format: "%04lld-%02d-%02dT%02d:%02d:%02d.%06lldZ", abs(year), p.tm_mon + 1, p.tm_mday, p.tm_hour, p.tm_min, p.tm_sec, micros)
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
