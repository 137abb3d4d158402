import CFastCGI
import Glibc
import Logging

/// A worker process: takes connections from the shared socket, and kept connections from the master's
/// queue (see Handoff), and serves one request at a time through libfcgi. We accept connections ourselves
/// and hand each to libfcgi (FCGX_Request.ipcFd), so an idle kept connection never pins the worker (libfcgi
/// as-is would block on it), and the worker never has to close one under nginx's feet, which would fail a
/// POST nginx had just sent on it. In a pool a worker holds only the connection it serves, plus the one it
/// just served while it is idle for `linger`; anything else goes to the master. Any malformed input costs
/// only its own connection.
final class Worker {
    /// Exit status of a worker that left after its share of requests, so the master can tell it from a crash.
    static let recycledStatus: Int32 = 75

    private let listener: Listener
    /// Our end of the master's handoff channel; nil for a single worker spawned by a web server (no master),
    /// which keeps all its kept connections itself, as before fair dispatch.
    private let handoff: Int32?
    private let config: PoolConfiguration
    private let scoreboard: Scoreboard
    /// Our scoreboard slot; nil once we retire and the master gives it to our successor.
    private var slot: Scoreboard.Slot?
    /// Our slot's request metrics, written only while we hold the slot (one writer each, as in the scoreboard).
    private let metrics: RequestMetrics.Writer
    private let handler: FastCGIHandler
    private var logger: Logger
    private let checkClients: Bool
    private let maxRequests: Int
    /// When this worker has lived long enough (PERCH_MAX_WORKER_LIFETIME plus its jitter); .max: never.
    private let lifetimeEnd: Int64
    /// Our own /proc/self/statm, kept open when PERCH_MAX_WORKER_MEMORY is set.
    private let statm: Int32
    /// ondemand: since when we have served nothing (the idle timeout counts from here).
    private var idleSince = monotonicNanos()
    private var request = FCGX_Request()
    private var recordCheck = RecordCheck()
    private var readBuffer = [CChar](repeating: 0, count: 16 * 1024)  // one per worker, not per request
    /// Kept connections between requests: when each last finished a request (oldest first), and since when
    /// a request has been waiting on it (nil: idle as far as we have seen).
    private var kept: [(fd: Int32, since: Int64, waiting: Int64?)] = []
    /// Since when the listening socket, and the master's queue, have had a connection waiting (nil: none seen).
    private var listenerWaiting: Int64?
    private var handoffWaiting: Int64?
    /// In a pool: how we sleep while idle, one worker woken per connection (nil: poll, as a single worker does).
    private var exclusiveWait: ExclusiveWait?
    /// A wake-up brought us nothing to take: another worker took that work, and the work its own wake-up was
    /// for may now wait with no one told (epoll tells one worker per wake-up). The next wait looks with a plain
    /// poll first.
    private var lookEverywhere = false
    /// How long an idle worker keeps the connection it just served before handing it to the master: nginx
    /// mostly sends its next request on the connection it used last, and within this time that request
    /// costs no trip through the master. Short, because a worker that is idle but not running (stopped,
    /// or starved of CPU) holds it meanwhile.
    static let lingerNanos: Int64 = 2_000_000
    /// A guard against running out of descriptors, never a limit nginx should meet: nginx keeps as many
    /// connections open as it has requests in flight, and one we close while it still counts on it fails the
    /// request it sends next (retried for a GET, a 502 for a POST). At 32, 64 wrk connections through two
    /// workers caused about 70 such closes a second.
    private static let maxKept: Int = {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 960 }
        return max(32, Int(clamping: min(limit.rlim_cur, 1 << 16)) - 64)  // room for the database, logs, the socket
    }()
    /// TERM/INT: serve what is already waiting, then go.
    private var stopping = false
    /// Recycled or told to retire (USR2, by a reloading master): take no new connection, hand the kept ones to
    /// the master (a single worker without one serves them until nginx closes them), so that no request nginx
    /// sends is ever refused.
    private var retiring = false
    private var served = 0
    /// Retired for a reason of our own (requests, memory, lifetime, idle), not told to by a master.
    private var leftOnItsOwn = false
    private var leaving: Bool { stopping || retiring }

    init(
        listener: Listener, config: PoolConfiguration, scoreboard: Scoreboard, slot: Int, handoff: Int32? = nil,
        handler: FastCGIHandler, logger: Logger
    ) {
        self.listener = listener
        self.handoff = handoff
        self.config = config
        self.scoreboard = scoreboard
        self.slot = scoreboard.slot(slot)
        self.metrics = scoreboard.metrics.writer(slot: slot)
        self.handler = handler
        self.logger = logger
        self.checkClients = !config.allowedClients.isEmpty && listener.isTCP
        self.maxRequests = config.maxRequests > 0 ? config.maxRequests + Int.random(in: 0...max(0, config.maxRequestsJitter)) : .max
        let lifetime = config.maxWorkerLifetime + Double.random(in: 0...max(0, config.maxWorkerLifetimeJitter))
        self.lifetimeEnd = config.maxWorkerLifetime > 0 ? monotonicNanos() + Int64(lifetime * 1e9) : .max
        self.statm = config.maxWorkerMemory > 0 ? open("/proc/self/statm", O_RDONLY | O_CLOEXEC) : -1
    }

    /// Serves until told to stop or recycled; returns the process exit status.
    func run() -> Int32 {
        FCGX_Init()
        // libfcgi never accepts on its own: an invalid listen fd makes FCGX_Accept_r fail instead of blocking
        // in accept() after a bad connection, and we pass every connection in through ipcFd.
        FCGX_InitRequest(&request, -1, 0)
        Signals.install()  // after FCGX_Init, which installs handlers of its own where none are set
        let flags = fcntl(listener.fd, F_GETFL)
        _ = fcntl(listener.fd, F_SETFL, flags | O_NONBLOCK)  // workers race for each connection; losers go back to waiting
        exclusiveWait = handoff.flatMap { ExclusiveWait(listener: listener.fd, queue: $0) }
        slot?.set(.idle)
        LogOutput.holding = true
        defer { LogOutput.flush() }
        while !leaving {
            if let fd = nextConnection() {
                serve(fd)
                if statm >= 0, let resident = ResidentMemory.bytes(statm: statm), resident > config.maxWorkerMemory { retire(.memory) }
                idleSince = monotonicNanos()
            }
            if served >= maxRequests { retire(.requests) }
            if lifetimeEnd != .max && monotonicNanos() >= lifetimeEnd { retire(.lifetime) }
            if config.mode == .ondemand && handoff != nil && kept.isEmpty && monotonicNanos() - idleSince > Int64(config.idleTimeout * 1e9) {
                retire(.idle)
            }
        }
        if retiring && handoff != nil {
            // Another worker serves what nginx sends on them next: nothing lingers, nothing is closed.
            for connection in kept { park(connection.fd) }
            kept.removeAll()
        } else if retiring {
            serveKeptUntilClosed()
        }
        leaveKeptConnections()
        // The master logs why (it reads the reason from our slot), with the figures.
        return leftOnItsOwn ? Worker.recycledStatus : 0
    }

    private func handleSignals() {
        if Signals.take(SIGQUIT) { _exit(0) }
        if Signals.take(SIGTERM) || Signals.take(SIGINT) { stopping = true }
        if Signals.take(SIGUSR2) { retire(.told) }
        if Signals.take(SIGUSR1), let path = config.logFile { LogFile.reopen(path) }
        _ = Signals.take(SIGHUP)  // the master reloads; a worker has nothing to do
        _ = Signals.take(SIGCHLD)
    }

    /// Waits for work: a request on a kept connection, one the master passed on, or a new connection on the
    /// listening socket, served in the order we first saw them waiting. nginx sends on a kept connection only
    /// when it is idle in its cache, and opens new ones when that is empty: preferring kept connections would
    /// starve the listening socket for seconds under load (p99 of 1.6-6.5 s at 64 connections), so each
    /// source takes its turn.
    private func nextConnection() -> Int32? {
        var fds = [pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)]
        if let handoff { fds.append(pollfd(fd: handoff, events: Int16(POLLIN), revents: 0)) }
        let keptBase = fds.count
        fds += kept.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        // Held log lines go out when nothing is waiting; under load something nearly always is.
        var ready = LogOutput.hasHeldLines ? wait(&fds, milliseconds: 0) : 0
        if ready == 0 {
            LogOutput.flush()
            ready = wait(&fds, milliseconds: waitLimitMilliseconds())
        }
        handleSignals()
        if ready == 0 && getppid() == 1 && !isSingle { stopping = true }  // the master is gone
        // Told to retire just now: serve nothing more here. run() hands the kept connections to the master
        // (serveKeptUntilClosed serves them without one); served from here, a connection was closed after its
        // response, and a POST nginx had just sent on it failed (502: CI saw it in a reload under writes).
        guard ready > 0, !leaving else {
            if ready > 0 { passOnSharedWork(fds) }
            closeExpiredKeptConnections()
            return nil
        }
        let now = monotonicNanos()
        listenerWaiting = fds[0].revents != 0 ? (listenerWaiting ?? now) : nil
        if handoff != nil { handoffWaiting = fds[1].revents != 0 ? (handoffWaiting ?? now) : nil }
        // fds[keptBase...] match `kept` one for one until something changes `kept`.
        for index in kept.indices {
            kept[index].waiting = fds[keptBase + index].revents != 0 ? (kept[index].waiting ?? now) : nil
        }
        closeExpiredKeptConnections()
        // On a tie, kept connections first (nginx already counts on them), then the master's queue. A worker
        // woken by an exclusive wait takes from the socket or the queue whenever either has work (its wake-up
        // may have been that work's only one); a request on its kept connection then goes to the master, as
        // when it takes older work.
        let oldest = kept.indices.filter { kept[$0].waiting != nil }.min { kept[$0].waiting! < kept[$1].waiting! }
        let others = [listenerWaiting, handoffWaiting].compactMap { $0 }.min()
        let sharedFirst = exclusiveWait != nil && others != nil
        if let oldest, !sharedFirst, others.map({ kept[oldest].waiting! <= $0 }) ?? true {
            let fd = kept.remove(at: oldest).fd
            parkKeptConnections()
            return fd
        }
        let fromHandoff = handoffWaiting != nil && handoffWaiting! <= (listenerWaiting ?? .max)
        guard let taken = fromHandoff ? takeFromHandoff() : takeFromListener() else { return nil }
        parkKeptConnections()
        return taken
    }

    private func wait(_ fds: inout [pollfd], milliseconds: Int) -> Int32 {
        // A look that cannot sleep needs no exclusive wake-up: a plain poll is one system call, where the epoll
        // set costs three with a lingering connection (add, wait, delete). Under load most looks are these.
        guard exclusiveWait != nil, milliseconds > 0 else { return Signals.wait(&fds, milliseconds: milliseconds) }
        if lookEverywhere {
            lookEverywhere = false
            let ready = Signals.wait(&fds, milliseconds: 0)
            if ready != 0 { return ready }
        }
        let ready = exclusiveWait!.wait(&fds, milliseconds: min(milliseconds, ExclusiveWait.recheckMilliseconds))
        guard ready == 0 else { return ready }
        return Signals.wait(&fds, milliseconds: 0)  // what no wake-up reached us about (see ExclusiveWait)
    }

    /// Leaving just as an exclusive wait woke us: the connection that woke us may have had no other wake-up,
    /// so it goes to the master, which passes it to the queue (one more wake-up, for a worker that stays).
    /// Not when the pool stops (TERM, INT): no worker stays, the master closes what it holds, and a connection
    /// taken from the socket would be reset with nginx's request in it (502s in a restart under load); left in
    /// the backlog, it waits for the next start on the socket systemd keeps.
    private func passOnSharedWork(_ fds: [pollfd]) {
        guard exclusiveWait != nil, !stopping else { return }
        if fds[1].revents != 0, let fd = takeFromHandoff() { park(fd) }
        if fds[0].revents != 0, let fd = acceptConnection() { park(fd) }
    }

    private func takeFromListener() -> Int32? {
        guard listenerWaiting != nil else { return nil }
        listenerWaiting = nil  // the next connection in the backlog queues behind what is waiting now
        let fd = acceptConnection()
        if fd == nil { lookEverywhere = true }
        return fd
    }

    private func takeFromHandoff() -> Int32? {
        handoffWaiting = nil
        let fd = handoff.flatMap(Handoff.receive)  // nil: another idle worker was quicker
        if fd == nil { lookEverywhere = true }
        return fd
    }

    /// How long to wait for work: up to the end of the linger of a connection we hold, else a second.
    private func waitLimitMilliseconds() -> Int {
        guard handoff != nil, let newest = kept.map(\.since).max() else { return 1000 }
        let remaining = newest + Worker.lingerNanos - monotonicNanos()
        return max(0, min(1000, Int((remaining + 999_999) / 1_000_000)))
    }

    /// In a pool, we are about to serve a connection (or our linger ended): every kept connection we hold
    /// goes to the master, which passes it to an idle worker when nginx sends on it.
    private func parkKeptConnections(idleSince limit: Int64? = nil) {
        guard handoff != nil else { return }
        kept.removeAll { connection in
            if let limit, connection.since >= limit || connection.waiting != nil { return false }
            park(connection.fd)
            return true
        }
    }

    /// Hands one connection to the master. Its queue holds hundreds; if it is full (a master stalled in a
    /// reload), the connection is closed as a worker's surplus connections were before.
    private func park(_ fd: Int32) {
        guard let handoff, Handoff.send(fd, over: handoff) else {
            logger.warning("the master's handoff queue is full: kept connection closed")
            closeGently(fd)
            return
        }
        close(fd)
    }

    /// nginx's upstream `keepalive_timeout` should close idle connections first (it is shorter than
    /// PERCH_KEEPALIVE_IDLE in the shipped site); this only cleans up after a peer that never does.
    private func closeExpiredKeptConnections() {
        parkKeptConnections(idleSince: monotonicNanos() - Worker.lingerNanos)
        let limit = monotonicNanos() - Int64(config.keepAliveIdle * 1e9)
        while let oldest = kept.first, oldest.waiting == nil && oldest.since < limit || kept.count > Worker.maxKept {
            closeGently(oldest.fd)
            kept.removeFirst()
        }
    }

    /// Hands our slot back to the master (which starts a successor at once, unless the pool is shrinking) and
    /// stops accepting.
    private func retire(_ reason: Scoreboard.LeaveReason) {
        guard !retiring else { return }
        retiring = true
        leftOnItsOwn = reason != .told
        slot?.retire(reason)
        slot = nil
    }

    /// A retiring worker's last duty: requests on its kept connections, until nginx has closed them all or
    /// the graceful timeout passes (TERM ends it sooner).
    private func serveKeptUntilClosed() {
        let deadline = monotonicNanos() + Int64(config.gracefulTimeout * 1e9)
        while !kept.isEmpty && !stopping && monotonicNanos() < deadline {
            var fds = kept.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            LogOutput.flush()
            let ready = Signals.wait(&fds, milliseconds: 200)
            handleSignals()
            guard ready > 0 else { continue }
            for descriptor in fds where descriptor.revents != 0 {
                kept.removeAll { $0.fd == descriptor.fd }
                serve(descriptor.fd, keepAfter: true)
            }
        }
    }

    /// On the way out: serve what is already waiting on kept connections, then close them gently.
    private func leaveKeptConnections() {
        while !kept.isEmpty {
            var fds = kept.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            guard Signals.wait(&fds, milliseconds: 20) > 0, let ready = fds.first(where: { $0.revents != 0 }) else { break }
            kept.removeAll { $0.fd == ready.fd }
            serve(ready.fd)
        }
        for connection in kept { closeGently(connection.fd) }
        kept.removeAll()
    }

    private var isSingle: Bool { listener.origin == .spawned }

    private func acceptConnection() -> Int32? {
        let fd = acceptCloseOnExec(listener.fd)
        guard fd >= 0 else {
            if errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED && errno != EINTR {
                logger.error("accept failed", metadata: ["error": "\(errnoText())"])
                usleep(10_000)  // e.g. EMFILE: don't spin
            }
            return nil
        }
        if checkClients {
            let peer = peerAddress(fd) ?? "?"
            if !config.allowedClients.contains(peer) {
                logger.warning("connection refused: client not in allowed list", metadata: ["client": "\(peer)"])
                close(fd)
                return nil
            }
        }
        if isSingle {
            // A stalled peer cannot hold the worker much past the request timeout. In a pool the master
            // kills a worker at the timeout, so these two system calls per connection would never matter.
            var timeout = timeval(tv_sec: Int(config.requestTimeout) + 1, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        return fd
    }

    /// Serves one request on `fd`. `keepAfter` lets a retiring worker keep honouring keep-conn.
    private func serve(_ fd: Int32, keepAfter: Bool = false) {
        slot?.beginReading(active: scoreboard.activeCount + 1, poolSize: scoreboard.slotCount)
        switch recordCheck.check(fd, deadline: monotonicNanos() + Int64(config.requestTimeout * 0.9e9)) {  // before the master's kill
        case .ready:
            break
        case .closed:
            close(fd)  // the peer closed a kept connection, or sent nothing in time
            slot?.finish(slowThresholdNanos: .max, counted: false)
            return
        case .malformed(let reason):
            logger.warning("malformed FastCGI input: connection closed", metadata: ["reason": "\(reason)"])
            close(fd)
            slot?.finish(slowThresholdNanos: .max, counted: false)
            return
        }
        request.ipcFd = fd
        request.keepConnection = 1  // FCGX_Accept_r first "finishes" the previous request: it must not close fd
        request.detached = 1  // close at once on error, without libfcgi's lingering close
        guard FCGX_Accept_r(&request) == 0 else {
            logger.warning("malformed FastCGI input: connection closed")
            slot?.finish(slowThresholdNanos: .max, counted: false)
            return
        }
        let keepConnection = request.keepConnection != 0
        let params = readParams()
        let uri = params["REQUEST_URI"] ?? params["SCRIPT_NAME"] ?? "/"
        slot?.beginRunning(method: params["REQUEST_METHOD"] ?? "", uri: uri)
        let queueMicros = RequestStart.queueMicros(params["HTTP_X_REQUEST_START"])
        slot?.noteQueueTime(queueMicros)
        if let queueMicros, slot != nil { metrics.recordQueue(micros: queueMicros) }

        var (body, tooLarge, bodyError) = readBody(declared: Int(params["CONTENT_LENGTH"] ?? "") ?? 0)
        if bodyError {
            logger.warning("malformed FastCGI request body: connection closed", metadata: ["uri": "\(uri)"])
            abortConnection()
            return
        }
        let response: FastCGIResponse
        var route = scoreboard.metrics.unmatchedRoute
        if let status = statusResponse(params, uri: uri) {
            response = status
            route = scoreboard.metrics.statusPageRoute
        } else {
            let slot = self.slot
            response = handler.respond(
                to: FastCGIRequest(
                    params: params, body: body, bodyTooLarge: tooLarge, queueMicros: queueMicros,
                    reportRequestID: { slot?.noteRequestID($0) }))
            if let index = response.route, index >= 0 && index < config.metricRoutes.count { route = index }
            if let login = response.login, self.slot != nil { metrics.recordLogin(login) }
        }
        body = []
        write(response)
        finish(keep: keepConnection && !tooLarge && (keepAfter || !leaving), gently: keepConnection || tooLarge)
        served += 1
        if let duration = slot?.finish(slowThresholdNanos: Int64(config.slowRequestThreshold * 1e9), counted: true) {
            metrics.recordRequest(route: route, status: response.status, nanos: duration)
        }
    }

    /// libfcgi's `NAME=value` strings, copied out before FCGX_Finish_r frees them.
    private func readParams() -> CGIParams {
        guard let environment = request.envp else { return CGIParams() }
        return CGIParams(environment: environment)
    }

    /// Reads stdin to its end, up to the limit. Above it the rest is not read (and the connection is closed).
    private func readBody(declared: Int) -> (body: [UInt8], tooLarge: Bool, error: Bool) {
        if declared > config.bodyLimit { return ([], true, false) }
        var body: [UInt8] = []
        if declared > 0 { body.reserveCapacity(declared) }
        while true {
            let count = FCGX_GetStr(&readBuffer, Int32(readBuffer.count), request.in)
            if count <= 0 { break }
            readBuffer.withUnsafeBytes { body.append(contentsOf: $0.prefix(Int(count))) }
            if body.count > config.bodyLimit { return ([], true, false) }
        }
        return (body, false, FCGX_GetError(request.in) != 0)
    }

    private func write(_ response: FastCGIResponse) {
        let head = response.head
        var ok = head.withUnsafeBufferPointer { put($0) }
        if ok && !response.body.isEmpty { ok = response.body.withUnsafeBufferPointer { put($0) } }
        if !ok { logger.info("client went away before the response was written") }
    }

    private func put(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.withMemoryRebound(to: CChar.self) { chars in
            FCGX_PutStr(chars.baseAddress, Int32(chars.count), request.out) == Int32(chars.count)
        }
    }

    /// Ends the request (END_REQUEST) and keeps or closes the connection.
    private func finish(keep: Bool, gently: Bool) {
        request.keepConnection = 1
        request.detached = 1
        FCGX_Finish_r(&request)  // on a stream error libfcgi closes the connection and sets ipcFd to -1
        let fd = request.ipcFd
        request.ipcFd = -1
        guard fd >= 0 else { return }
        if keep {
            kept.append((fd, monotonicNanos(), nil))
        } else if gently {
            closeGently(fd)  // nginx may reuse it, or a 413's body is still arriving
        } else {
            close(fd)
        }
    }

    /// Closes a connection nginx may still want to reuse: our FIN right behind the END_REQUEST lets nginx see
    /// the end before it picks the connection again; then wait (briefly) for nginx's own close, reading
    /// and discarding, so that unread input never turns the close into a reset.
    private func closeGently(_ fd: Int32) {
        shutdown(fd, Int32(SHUT_WR))
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        var total = 0
        while total < 8 << 20 {
            let count = recv(fd, &scratch, scratch.count, 0)
            if count <= 0 { break }
            total += count
        }
        close(fd)
    }

    /// Closes a connection whose request could not be read; no response is possible.
    private func abortConnection() {
        let fd = request.ipcFd
        request.keepConnection = 0
        request.detached = 1
        FCGX_Finish_r(&request)
        if request.ipcFd >= 0 { close(fd) }
        request.ipcFd = -1
        slot?.finish(slowThresholdNanos: .max, counted: false)
    }

    /// The pool status page, when this request is for it. Others than the allowed addresses get a 404.
    private func statusResponse(_ params: CGIParams, uri: String) -> FastCGIResponse? {
        guard let statusPath = config.statusPath else { return nil }
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.first.map(String.init) == statusPath else { return nil }
        // PHP-FPM's switches: `?openmetrics` for Prometheus (`?prometheus`: its older text format), `?json` (the
        // default), `&full` for one series per worker.
        let switches = Set((parts.count > 1 ? parts[1] : "").split(separator: "&").map { $0.split(separator: "=").first.map(String.init) ?? "" })
        var contentType = "application/json; charset=utf-8"
        let json: [UInt8]
        let status: Int
        if config.statusAllowed.contains(params["REMOTE_ADDR"] ?? "") {
            if switches.contains("openmetrics") || switches.contains("prometheus") {
                let format: OpenMetrics.Format = switches.contains("openmetrics") ? .openMetrics : .prometheusText
                json = OpenMetrics.render(
                    scoreboard, config: config, listenQueue: ListenQueue.read(listener), full: switches.contains("full"), format: format)
                contentType = format.contentType
            } else {
                json = StatusPage.render(scoreboard, config: config, listenQueue: ListenQueue.read(listener))
            }
            status = 200
        } else {
            json = Array(#"{"detail":"Not Found"}"#.utf8)
            status = 404
        }
        return FastCGIResponse(
            status: status, reason: status == 200 ? "OK" : "Not Found",
            headers: [
                ("Content-Type", contentType),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
                ("Content-Length", "\(json.count)")
            ],
            body: json)
    }
}

/// accept() with close-on-exec set, so a reloading master's exec never inherits client connections.
func acceptCloseOnExec(_ listenFD: Int32) -> Int32 {
    accept4(listenFD, nil, nil, Int32(SOCK_CLOEXEC.rawValue))
}
