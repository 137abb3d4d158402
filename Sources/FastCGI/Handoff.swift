import CFastCGI
import Glibc

/// Fair dispatch of nginx's kept connections (`fastcgi_keep_conn`). A worker holds only the connection it
/// serves: an idle kept connection goes to the master over this channel, the master watches it, and when
/// nginx sends a request on it the master puts it in the workers' queue, where the first idle worker takes
/// it as it would accept a new connection. So a request on a kept connection never waits for one busy
/// worker while another is idle. One SOCK_SEQPACKET socketpair carries both directions, one descriptor per
/// message (SCM_RIGHTS): what workers send on `workersEnd` arrives at `masterEnd`, and the other way round.
struct Handoff {
    let masterEnd: Int32
    let workersEnd: Int32

    /// How a reloading master hands the channel (and the connections it watches) to its next self.
    static let reloadVariable = "PERCH_HANDOFF_FDS"

    static func make() throws -> Handoff {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw ConfigurationError("cannot create the master's handoff channel: \(errnoText())")
        }
        return Handoff(masterEnd: ends[0], workersEnd: ends[1])
    }

    /// The channel of the master we replace across a reload: its old workers keep handing their kept
    /// connections to it while they finish. nil when there is none (a first start).
    static func inherited() -> (handoff: Handoff, parked: [Int32])? {
        guard let text = ProcessEnvironment()[reloadVariable] else { return nil }
        unsetenv(reloadVariable)
        let fds = text.split(separator: ",").compactMap { Int32($0) }
        guard fds.count >= 2, fds.allSatisfy(isSocket) else { return nil }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (Handoff(masterEnd: fds[0], workersEnd: fds[1]), Array(fds.dropFirst(2)))
    }

    /// Sends `fd` without blocking; false when the channel is full or gone (the caller still owns `fd`).
    static func send(_ fd: Int32, over channel: Int32) -> Bool {
        withMessage { message, control in
            let header = control.baseAddress!.assumingMemoryBound(to: cmsghdr.self)
            header.pointee.cmsg_len = Self.controlLength
            header.pointee.cmsg_level = SOL_SOCKET
            header.pointee.cmsg_type = Int32(SCM_RIGHTS)
            (control.baseAddress! + MemoryLayout<cmsghdr>.size).storeBytes(of: fd, as: Int32.self)
            return sendmsg(channel, &message, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) == 1
        }
    }

    /// Takes one descriptor without blocking, close-on-exec; nil when none is waiting.
    static func receive(from channel: Int32) -> Int32? {
        while true {
            let result: Int32?? = withMessage { message, control in
                guard recvmsg(channel, &message, Int32(MSG_DONTWAIT) | Self.closeOnExec) > 0 else { return .some(nil) }
                let header = control.baseAddress!.assumingMemoryBound(to: cmsghdr.self)
                guard message.msg_controllen >= Self.controlLength, message.msg_flags & Int32(MSG_CTRUNC) == 0,
                    header.pointee.cmsg_level == SOL_SOCKET, header.pointee.cmsg_type == Int32(SCM_RIGHTS),
                    header.pointee.cmsg_len == Self.controlLength
                else { return nil }
                return .some((control.baseAddress! + MemoryLayout<cmsghdr>.size).load(as: Int32.self))
            }
            // A message without a descriptor: only we write here, but never let one stall the queue.
            guard let result else { continue }
            return result
        }
    }

    /// MSG_CMSG_CLOEXEC (Linux; _GNU_SOURCE, which Swift's Glibc lacks): received descriptors close on exec.
    private static let closeOnExec: Int32 = 0x4000_0000
    /// CMSG_LEN(sizeof(int)): the header, then one descriptor. (CMSG_* are C macros Swift cannot call.)
    private static let controlLength = MemoryLayout<cmsghdr>.size + MemoryLayout<Int32>.size

    /// A one-byte message with room for one descriptor (CMSG_SPACE(sizeof(int))).
    private static func withMessage<T>(_ body: (inout msghdr, UnsafeMutableRawBufferPointer) -> T) -> T {
        var byte: UInt8 = 0
        return withUnsafeMutableBytes(of: &byte) { data in
            var control = (UInt64(0), UInt64(0), UInt64(0))  // 24 bytes, aligned as cmsghdr needs
            return withUnsafeMutableBytes(of: &control) { control in
                var vector = iovec(iov_base: data.baseAddress, iov_len: 1)
                return withUnsafeMutablePointer(to: &vector) { vector in
                    var message = msghdr()
                    message.msg_iov = vector
                    message.msg_iovlen = 1
                    message.msg_control = control.baseAddress
                    message.msg_controllen = control.count
                    return body(&message, control)
                }
            }
        }
    }

    private static func isSocket(_ fd: Int32) -> Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK
    }
}

/// The master's side: kept connections handed over by workers, idle until nginx sends on them.
struct ParkedConnections {
    private let handoff: Handoff
    private let idleLimitNanos: Int64
    /// Oldest first; `ready` ones have a request waiting but found the workers' queue full.
    private var parked: [(fd: Int32, since: Int64, ready: Bool)] = []
    /// A guard against running out of descriptors (nginx keeps far fewer), as a worker had before.
    private static let maxParked: Int = {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 960 }
        return max(32, Int(clamping: min(limit.rlim_cur, 1 << 16)) - 64)
    }()

    init(handoff: Handoff, idleLimitSeconds: Double, adopting inherited: [Int32] = []) {
        self.handoff = handoff
        idleLimitNanos = Int64(idleLimitSeconds * 1e9)
        let now = monotonicNanos()
        parked = inherited.map { ($0, now, false) }
    }

    var count: Int { parked.count }

    /// Fills `fds` with what to wait on: the channel first, then every parked connection (one that is `ready`
    /// waits for room in the workers' queue, so the channel is then watched for writing too). `fds` is the
    /// caller's, reused from turn to turn: under load the master wakes once or more per request.
    func fillPollSet(_ fds: inout [pollfd]) {
        fds.removeAll(keepingCapacity: true)
        let waitingForRoom = parked.contains { $0.ready }
        fds.append(pollfd(fd: handoff.masterEnd, events: Int16(POLLIN) | (waitingForRoom ? Int16(POLLOUT) : 0), revents: 0))
        for connection in parked { fds.append(pollfd(fd: connection.fd, events: connection.ready ? 0 : Int16(POLLIN), revents: 0)) }
    }

    /// Acts on what `fillPollSet`'s descriptors reported: a connection nginx sent a request on goes to the
    /// workers' queue; one nginx closed, or idle past the limit, is closed here; newly handed-over ones join.
    mutating func service(_ fds: [pollfd]) {
        let now = monotonicNanos()
        var queueFull = false
        var kept = 0  // compacts `parked` in place
        for index in parked.indices {
            var connection = parked[index]
            let events = fds.count > index + 1 ? Int32(fds[index + 1].revents) : 0
            if events & (POLLHUP | POLLERR | POLLNVAL) != 0 {
                close(connection.fd)  // nginx closed it (or it failed): it costs only itself
                continue
            }
            if events & POLLIN != 0 { connection.ready = true }
            if connection.ready && !queueFull {
                if Handoff.send(connection.fd, over: handoff.masterEnd) {
                    close(connection.fd)  // the worker that takes it has its own copy
                    continue
                }
                queueFull = true  // keep the order: the rest wait for room too
            }
            if !connection.ready && now - connection.since > idleLimitNanos {
                Self.closeIdle(connection.fd)
                continue
            }
            parked[kept] = connection
            kept += 1
        }
        parked.removeLast(parked.count - kept)
        if fds.first.map({ $0.revents & Int16(POLLIN) != 0 }) ?? false {
            while let fd = Handoff.receive(from: handoff.masterEnd) { parked.append((fd, now, false)) }
        }
        while parked.count > Self.maxParked, let oldest = parked.firstIndex(where: { !$0.ready }) {
            Self.closeIdle(parked.remove(at: oldest).fd)
        }
    }

    /// On a stop: nginx sees each idle connection end (FIN) and opens a new one for its next request.
    mutating func closeAll() {
        for connection in parked { Self.closeIdle(connection.fd) }
        parked.removeAll()
    }

    /// In a newly forked worker: let go of the descriptors it inherited, without touching the connections
    /// (no shutdown: the master's copies stay as they are).
    mutating func closeCopiesAfterFork() {
        for connection in parked { close(connection.fd) }
        parked.removeAll()
    }

    /// For a reload's exec: the channel and the parked connections survive it; returns the variable's value.
    func keepAcrossExec() -> String {
        let fds = [handoff.masterEnd, handoff.workersEnd] + parked.map(\.fd)
        for fd in fds { _ = fcntl(fd, F_SETFD, 0) }
        return fds.map(String.init).joined(separator: ",")
    }

    /// After a failed exec: back to close-on-exec.
    func closeOnExecAgain() {
        for fd in [handoff.masterEnd, handoff.workersEnd] + parked.map(\.fd) { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    }

    /// An idle connection has nothing to drain: shut our side so nginx sees the end, then let go at once
    /// (the master never waits on a peer).
    private static func closeIdle(_ fd: Int32) {
        shutdown(fd, Int32(SHUT_WR))
        close(fd)
    }
}
