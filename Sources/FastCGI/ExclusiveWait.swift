import CFastCGI
import Glibc

/// How an idle pool worker waits for work: in an epoll set of its own where the listening socket and the
/// master's queue are registered EPOLLEXCLUSIVE, so a new connection or a connection the master passes on
/// wakes one sleeping worker instead of every idle one (with poll, all of them woke and all but one went back
/// to sleep: eight context switches per request at eight workers, the largest cost of a kept connection's
/// trip through the master on this VM). The kernel passes the wake-up on to the next sleeper when a worker
/// is not sleeping in epoll_wait (busy, or stopped), so a stopped worker never swallows one.
///
/// A worker woken this way owns that wake-up: it must take work from the listening socket or the queue when
/// either has some (see Worker.nextConnection). epoll learns that a source is ready only from the wake-up
/// itself, so when the worker that got it cannot act (SIGSTOPped or killed just then), no other worker hears
/// of that work until the next connection. So an idle worker sleeps at most `recheckMilliseconds` and then
/// looks with a plain poll: such work waits at most that long (the pool tests' stopped worker met this when
/// the machine was busy). The connection a worker holds for its linger is registered only for the wait itself.
struct ExclusiveWait {
    static let recheckMilliseconds = 100
    private let epoll: Int32
    private var events = [epoll_event](repeating: epoll_event(), count: 4)

    /// nil when the kernel refuses (then the worker polls as before).
    init?(listener: Int32, queue: Int32) {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { return nil }
        for fd in [listener, queue] {
            var event = epoll_event(events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue, data: epoll_data_t(fd: fd))
            guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else {
                close(epoll)
                return nil
            }
        }
    }

    /// Waits as `Signals.wait` does, for `fds`: its first two entries are the listening socket and the queue,
    /// registered once; any others (the connection in its linger) are registered for this wait only.
    /// Fills in `revents` the way poll would.
    mutating func wait(_ fds: inout [pollfd], milliseconds: Int) -> Int32 {
        let extra = fds.dropFirst(2).map(\.fd)
        if events.count < fds.count { events = [epoll_event](repeating: epoll_event(), count: fds.count) }
        for fd in extra {
            var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: fd))
            epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event)
        }
        let ready = Signals.wait(epoll: epoll, &events, milliseconds: milliseconds)
        // Before anything closes or hands over one of them: a registration outlives our descriptor while the
        // connection lives on elsewhere (in the master), and would report on a number we no longer own.
        for fd in extra { epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil) }
        for index in fds.indices { fds[index].revents = 0 }
        guard ready > 0 else { return ready }
        var count: Int32 = 0
        for event in events.prefix(Int(ready)) {
            guard let index = fds.firstIndex(where: { $0.fd == event.data.fd }) else { continue }
            fds[index].revents = Int16(truncatingIfNeeded: event.events)
            count += 1
        }
        return count
    }
}
