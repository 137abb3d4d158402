import CFastCGI
import Glibc

/// Signals stay blocked except inside `Signals.wait`, so they arrive only while a process waits for work:
/// a request in progress (a database call, a write to nginx) never sees EINTR. Handlers only raise a flag.
enum Signals {
    static let watched: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD]
    private static let flags: UnsafeMutablePointer<sig_atomic_t> = {
        let p = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: 65)
        p.initialize(repeating: 0, count: 65)
        return p
    }()

    /// Installs the handlers and blocks the watched signals. Called again after fork to clear inherited flags.
    static func install() {
        for sig in watched { flags[Int(sig)] = 0 }
        var blocked = sigset_t()
        sigemptyset(&blocked)
        for sig in watched {
            sigaddset(&blocked, sig)
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in Signals.flags[Int(sig)] = 1 }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(sig, &action, nil)
        }
        signal(SIGPIPE, SIG_IGN)  // a peer that went away is an EPIPE to handle, not a reason to die
        sigprocmask(SIG_BLOCK, &blocked, nil)
    }

    /// Returns whether `sig` arrived since the last call, and clears it.
    static func take(_ sig: Int32) -> Bool {
        guard flags[Int(sig)] != 0 else { return false }
        flags[Int(sig)] = 0
        return true
    }

    /// Whether any watched signal arrived that nobody has taken yet.
    static var anyPending: Bool { watched.contains { flags[Int($0)] != 0 } }

    /// Waits for one of `fds` or a signal, up to `milliseconds` (negative: no limit).
    @discardableResult
    static func wait(_ fds: inout [pollfd], milliseconds: Int) -> Int32 {
        var open = sigset_t()
        sigemptyset(&open)
        let ready: Int32
        if milliseconds < 0 {
            ready = ppoll(&fds, nfds_t(fds.count), nil, &open)
        } else {
            var timeout = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
            ready = ppoll(&fds, nfds_t(fds.count), &timeout, &open)
        }
        if ready > 0 { deliverPending() }
        return ready
    }

    /// `wait`, for an epoll set: the descriptors that are ready go into `events` (at most its count).
    static func wait(epoll: Int32, _ events: inout [epoll_event], milliseconds: Int) -> Int32 {
        var open = sigset_t()
        sigemptyset(&open)
        let ready = epoll_pwait(epoll, &events, Int32(events.count), Int32(milliseconds), &open)
        if ready > 0 { deliverPending() }
        return ready
    }

    /// ppoll lets a pending signal in only when it has to sleep. A worker whose descriptors are always ready
    /// (steady load) would never see its TERM: one kept serving for the whole graceful timeout under load.
    /// So when ppoll returned at once, let pending signals in here, checked at most every 10 ms.
    private static func deliverPending() {
        let now = monotonicNanos()
        guard now - lastPendingCheck >= 10_000_000 else { return }
        lastPendingCheck = now
        var pending = sigset_t()
        sigpending(&pending)
        guard watched.contains(where: { sigismember(&pending, $0) == 1 }) else { return }
        var set = sigset_t()
        sigemptyset(&set)
        for sig in watched { sigaddset(&set, sig) }
        sigprocmask(SIG_UNBLOCK, &set, nil)  // the handlers run before this returns
        sigprocmask(SIG_BLOCK, &set, nil)
    }

    nonisolated(unsafe) private static var lastPendingCheck: Int64 = 0

    /// Restores default dispositions and an empty mask, for a child about to exec.
    static func resetForExec() {
        for sig in watched { signal(sig, SIG_DFL) }
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
    }
}

/// Monotonic clock in nanoseconds; comparable across the processes of one machine.
func monotonicNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
