import FoundationEssentials
import Glibc

/// API.md's timestamps: RFC 3339 in UTC with microseconds and a `Z`, e.g. 2026-11-22T10:15:30.123456Z.
/// Written by hand: Foundation's formatters would pull ICU into the binary and into every worker's memory.
public enum RFC3339 {
    public static func format(_ date: Date) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(27)
        write(date, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `format(date)`'s bytes appended to `out` (response bodies). Integer arithmetic into a template: going
    /// through gmtime_r and a String cost about 2,400 instructions a timestamp (callgrind), this a few hundred.
    public static func write(_ date: Date, into out: inout [UInt8]) {
        let t = date.timeIntervalSince1970
        var seconds = Int64(t.rounded(.down))
        var micros = Int64(((t - Double(seconds)) * 1_000_000).rounded())
        if micros >= 1_000_000 {
            seconds += 1
            micros -= 1_000_000
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {  // floor division: -1 is the last second of 1969-12-31
            days -= 1
            secondOfDay += 86_400
        }
        let (year, month, day) = civil(daysSince1970: days)
        if (0...9999).contains(year) {
            out += template
        } else {  // as gmtime's tm_year would give it: at least 4 digits, a sign if negative
            Digits.append(year, width: 4, to: &out)
            out += template[4...]
        }
        // Index of the `-` after the year; the fields are at fixed offsets from it.
        let base = out.count - 23
        out.withUnsafeMutableBufferPointer { b in
            func put(_ value: Int64, endingAt end: Int, digits: Int) {
                var value = value
                for i in 0..<digits {
                    b[base + end - i] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            if (0...9999).contains(year) { put(year, endingAt: -1, digits: 4) }
            put(month, endingAt: 2, digits: 2)
            put(day, endingAt: 5, digits: 2)
            put(secondOfDay / 3600, endingAt: 8, digits: 2)
            put(secondOfDay / 60 % 60, endingAt: 11, digits: 2)
            put(secondOfDay % 60, endingAt: 14, digits: 2)
            put(micros, endingAt: 21, digits: 6)
        }
    }

    private static let template = Array("0000-00-00T00:00:00.000000Z".utf8)

    /// The proleptic Gregorian date (as gmtime gives it) of a day counted from 1970-01-01: Howard Hinnant's
    /// `civil_from_days`, which counts years from March so that the leap day falls at the end of one.
    static func civil(daysSince1970 days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468  // days since 0000-03-01
        let era = (z >= 0 ? z : z - 146_096) / 146_097  // 400-year cycles, floored
        let dayOfEra = z - era * 146_097  // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365  // 0...399
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // 0...365, from March 1
        let monthFromMarch = (5 * dayOfYear + 2) / 153  // 0...11
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
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
