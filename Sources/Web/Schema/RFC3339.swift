import FoundationEssentials
import Glibc

/// API.md's timestamps: RFC 3339 in UTC with microseconds and a `Z`, e.g. 2026-11-22T10:15:30.123456Z.
/// Written by hand: Foundation's formatters would pull ICU into the binary and into every worker's memory.
public enum RFC3339 {
    public static func format(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        var seconds = Int64(t.rounded(.down))
        var micros = Int64(((t - Double(seconds)) * 1_000_000).rounded())
        if micros >= 1_000_000 {
            seconds += 1
            micros -= 1_000_000
        }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var out: [UInt8] = []
        out.reserveCapacity(27)
        func field(_ value: Int64, _ width: Int, then separator: Unicode.Scalar) {
            Digits.append(value, width: width, to: &out)
            out.append(UInt8(ascii: separator))
        }
        field(Int64(parts.tm_year) + 1900, 4, then: "-")
        field(Int64(parts.tm_mon) + 1, 2, then: "-")
        field(Int64(parts.tm_mday), 2, then: "T")
        field(Int64(parts.tm_hour), 2, then: ":")
        field(Int64(parts.tm_min), 2, then: ":")
        field(Int64(parts.tm_sec), 2, then: ".")
        field(micros, 6, then: "Z")
        return String(decoding: out, as: UTF8.self)
    }

    /// `YYYY-MM-DD` `T` `hh:mm:ss`, optional fraction, then `Z` or `±hh:mm` (RFC 3339 §5.6; `t`, `z` and a
    /// space for `T` are accepted too). Nil for anything else, including out-of-range fields.
    public static func parse(_ text: String) -> Date? {
        var scanner = DigitScanner(Array(text.utf8))
        guard let year = scanner.number(4), scanner.skip(anyOf: "-"), let month = scanner.number(2), scanner.skip(anyOf: "-"),
            let day = scanner.number(2), scanner.skip(anyOf: "Tt "),
            let hour = scanner.number(2), scanner.skip(anyOf: ":"), let minute = scanner.number(2), scanner.skip(anyOf: ":"),
            let second = scanner.number(2),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var fraction = 0.0
        if scanner.skip(anyOf: ".") {
            var scale = 0.1
            var digits = 0
            while let d = scanner.digit() {
                fraction += Double(d) * scale
                scale /= 10
                digits += 1
            }
            guard digits > 0 else { return nil }
        }
        var offset: Int64 = 0
        if !scanner.skip(anyOf: "Zz") {
            guard let sign = scanner.take(anyOf: "+-"), let h = scanner.number(2), scanner.skip(anyOf: ":"),
                let m = scanner.number(2), h < 24, m < 60
            else { return nil }
            offset = (h * 60 + m) * 60 * (sign == UInt8(ascii: "-") ? -1 : 1)
        }
        guard scanner.atEnd else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = Int64(timegm(&parts)) - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// Reads ASCII digits and punctuation from the front of a byte string.
private struct DigitScanner {
    let bytes: [UInt8]
    var position = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position == bytes.count }

    mutating func digit() -> Int64? {
        guard position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) else { return nil }
        position += 1
        return Int64(bytes[position - 1] - UInt8(ascii: "0"))
    }

    /// Exactly `count` digits.
    mutating func number(_ count: Int) -> Int64? {
        var value: Int64 = 0
        for _ in 0..<count {
            guard let d = digit() else { return nil }
            value = value * 10 + d
        }
        return value
    }

    mutating func take(anyOf characters: String) -> UInt8? {
        guard position < bytes.count, characters.utf8.contains(bytes[position]) else { return nil }
        position += 1
        return bytes[position - 1]
    }

    /// Steps over one of `characters` if it comes next.
    mutating func skip(anyOf characters: String) -> Bool { take(anyOf: characters) != nil }
}
