import CMariaDB
import Foundation
import Testing

@testable import MariaDB

/// DATETIME values become Dates by calendar arithmetic: it must count days as timegm does.
@Suite struct MariaTimeTests {
    @Test func agreesWithTimegm() {
        var dates: [(year: UInt32, month: UInt32, day: UInt32)] = []
        for year in UInt32(1968)...2104 {
            for month in UInt32(1)...12 {
                for day in UInt32(1)...31 { dates.append((year, month, day)) }
            }
        }
        for year: UInt32 in [0, 1, 4, 99, 100, 399, 400, 1000, 1600, 1700, 1899, 1900, 2000, 2400, 9999] {
            for month in UInt32(0)...12 {  // month 0 and day 0: MariaDB's zero dates
                for day: UInt32 in [0, 1, 28, 29, 30, 31] { dates.append((year, month, day)) }
            }
        }
        for (year, month, day) in dates {
            var value = MYSQL_TIME()
            value.year = year
            value.month = month
            value.day = day
            value.hour = (year * 7 + day) % 24
            value.minute = (month * 13 + day) % 60
            value.second = (day * 17) % 60
            value.second_part = UInt(day) * 32_251
            var parts = tm()
            parts.tm_year = Int32(year) - 1900
            parts.tm_mon = Int32(month) - 1
            parts.tm_mday = Int32(day)
            parts.tm_hour = Int32(value.hour)
            parts.tm_min = Int32(value.minute)
            parts.tm_sec = Int32(value.second)
            let expected = Date(timeIntervalSince1970: Double(timegm(&parts)) + Double(value.second_part) / 1_000_000)
            #expect(MariaTime.date(from: value) == expected, "\(year)-\(month)-\(day)")
        }
    }
}
