import CFastCGI
import Glibc

/// Request counters shared by every worker of a host, without a database write: a fixed-size table of
/// `perch_rate_entry` (ratelimit.h) in one MAP_SHARED mapping. Made by the master before it forks, so every
/// worker maps the same memory; it lives as long as the master (a reload's re-exec starts it empty).
public final class RateLimitTable: @unchecked Sendable {
    private let entries: UnsafeMutablePointer<perch_rate_entry>
    public let size: Int

    /// `size` entries of 24 bytes; a key that finds none of its 8 candidate entries free is not counted.
    public init(size: Int = 65_536) throws {
        let bytes = size * MemoryLayout<perch_rate_entry>.stride
        let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else { throw ConfigurationError("cannot map the rate limit table: \(errnoText())") }
        entries = mapped.bindMemory(to: perch_rate_entry.self, capacity: size)  // anonymous memory starts zeroed
        self.size = size
    }

    /// Counts one request of `key` in `window`; the count in that window with this one, or nil when the
    /// request could not be counted (the table fails open).
    public func hit(key: UInt64, window: Int64) -> Int? {
        let count = perch_rate_hit(entries, UInt32(size), key, window)
        return count == 0 ? nil : Int(count)
    }
}
