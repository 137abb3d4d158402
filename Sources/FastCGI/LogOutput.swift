import Glibc

/// Where log lines go: stderr, each line whole in one write(2) so that the lines of several processes never
/// mix. A worker with requests waiting holds its lines and writes them together when it has nothing to do,
/// when 16 KB are held, or when the oldest is 100 ms old: under load a request then costs no system call of
/// its own for its access line. Warnings and worse go out at once, behind what is held. A worker killed
/// with SIGKILL loses what it held (at most 100 ms of lines).
public enum LogOutput {
    /// Set by a worker for its own lifetime; other processes (and tests, which share threads) write at once.
    nonisolated(unsafe) static var holding = false
    nonisolated(unsafe) private static var held: [UInt8] = []
    nonisolated(unsafe) private static var heldSince: Int64 = 0
    static let holdLimit = 16 * 1024
    static let holdNanos: Int64 = 100_000_000

    public static func write(_ line: [UInt8], urgent: Bool) {
        guard holding else {
            line.withUnsafeBytes { writeAll($0) }
            return
        }
        if held.isEmpty { heldSince = monotonicNanos() }
        held += line
        if urgent || held.count >= holdLimit || monotonicNanos() - heldSince >= holdNanos { flush() }
    }

    static var hasHeldLines: Bool { !held.isEmpty }

    /// Writes what is held.
    static func flush() {
        guard !held.isEmpty else { return }
        held.withUnsafeBytes { writeAll($0) }
        held.removeAll(keepingCapacity: true)
    }

    private static func writeAll(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let count = Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }  // nowhere to log to: nothing better to do than go on
            offset += count
        }
    }
}
