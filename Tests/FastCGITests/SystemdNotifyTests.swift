import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Type=notify as systemd reads it: the real binary sends datagrams to the unix socket named by NOTIFY_SOCKET.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SystemdNotifyTests {
    @Test func readyReloadingReadyStoppingAndTheWatchdog() throws {
        let directory = Paths.makeTemporaryDirectory("perch-notify")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let notify = try NotifySocket(path: directory + "/notify.sock")
        let pool = try PerchPool(workers: 2, environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"])
        defer { pool.stop() }

        let ready = try #require(notify.next(containing: "READY=1"), "READY=1 once a worker serves: \(notify.seen)")
        #expect(ready.contains("STATUS=") && ready.contains("workers"), "with the pool's figures: \(ready)")
        #expect(notify.next(containing: "WATCHDOG=1") != nil, "the watchdog is fed when WATCHDOG_USEC is set: \(notify.seen)")

        pool.process.signal(SIGHUP)
        let reloading = try #require(notify.next(containing: "RELOADING=1"), "\(notify.seen)")
        let usec = reloading.split(separator: "\n").first { $0.hasPrefix("MONOTONIC_USEC=") }.flatMap { Int64($0.dropFirst("MONOTONIC_USEC=".count)) }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        #expect(
            usec.map { $0 > 0 && $0 <= Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1_000 } == true, "MONOTONIC_USEC is CLOCK_MONOTONIC: \(reloading)")
        #expect(notify.next(containing: "READY=1") != nil, "READY=1 again once the reloaded pool serves: \(notify.seen)")
        #expect(pool.process.log.contains("reloaded"), "\(pool.process.log)")

        pool.process.signal(SIGTERM)
        #expect(notify.next(containing: "STOPPING=1") != nil, "\(notify.seen)")
    }
}

/// A unix datagram socket standing in for systemd's notify socket; collects what arrives.
final class NotifySocket {
    let path: String
    private let fd: Int32
    private(set) var seen: [String] = []

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0 else { throw NotifyError(errno: errno) }
    }

    deinit { close(fd) }

    /// The next datagram containing `text` (skipping others), or nil after `seconds` without one.
    func next(containing text: String, seconds: Int32 = 20) -> String? {
        var pending = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let deadline = Date().addingTimeInterval(Double(seconds))
        while Date() < deadline {
            guard poll(&pending, 1, 100) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            let message = String(decoding: buffer[..<count], as: UTF8.self)
            seen.append(message)
            if message.contains(text) { return message }
        }
        return nil
    }
}

struct NotifyError: Error { let errno: Int32 }
