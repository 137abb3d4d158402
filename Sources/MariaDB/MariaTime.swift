import CMariaDB
import FoundationEssentials
import Glibc

/// Date <-> MYSQL_TIME: DATETIME(6) in UTC, microsecond precision (rounded to the nearest microsecond).
enum MariaTime {
    static func make(from date: Date) -> MYSQL_TIME {
        let t = date.timeIntervalSince1970
        var seconds = t.rounded(.down)
        var micros = ((t - seconds) * 1_000_000).rounded()
        if micros >= 1_000_000 {
            seconds += 1
            micros -= 1_000_000
        }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var value = MYSQL_TIME()
        value.year = UInt32(parts.tm_year + 1900)
        value.month = UInt32(parts.tm_mon + 1)
        value.day = UInt32(parts.tm_mday)
        value.hour = UInt32(parts.tm_hour)
        value.minute = UInt32(parts.tm_min)
        value.second = UInt32(parts.tm_sec)
        value.second_part = UInt(micros)
        value.time_type = MYSQL_TIMESTAMP_DATETIME
        return value
    }

    static func date(from value: MYSQL_TIME) -> Date {
        let days = daysSince1970(year: Int64(value.year), month: Int64(value.month), day: Int64(value.day))
        let seconds = days * 86_400 + Int64(value.hour) * 3_600 + Int64(value.minute) * 60 + Int64(value.second)
        return Date(timeIntervalSince1970: Double(seconds) + Double(value.second_part) / 1_000_000)
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date, as timegm counts them (timegm cost about 700
    /// instructions a value read): Howard Hinnant's `days_from_civil`, with years counted from March so that the
    /// leap day ends one. Like timegm, it takes month 0 (a zero date) as December of the year before and day 0
    /// as the day before the 1st.
    static func daysSince1970(year: Int64, month: Int64, day: Int64) -> Int64 {
        let marchYear = month <= 2 ? year - 1 : year
        let era = (marchYear >= 0 ? marchYear : marchYear - 399) / 400  // 400-year cycles, floored
        let yearOfEra = marchYear - era * 400  // 0...399
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1  // from March 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468  // 719,468: days from 0000-03-01 to 1970-01-01
    }
}
