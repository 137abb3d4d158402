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
        var parts = tm()
        parts.tm_year = Int32(value.year) - 1900
        parts.tm_mon = Int32(value.month) - 1
        parts.tm_mday = Int32(value.day)
        parts.tm_hour = Int32(value.hour)
        parts.tm_min = Int32(value.minute)
        parts.tm_sec = Int32(value.second)
        let seconds = timegm(&parts)
        return Date(timeIntervalSince1970: Double(seconds) + Double(value.second_part) / 1_000_000)
    }
}
