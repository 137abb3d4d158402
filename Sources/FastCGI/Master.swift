import CFastCGI
import Glibc
import Logging

/// The process manager: owns the socket, never serves, and keeps `workers` workers alive. It forks before
/// anything could have started a thread, respawns the dead at once, kills requests past the timeout, and
/// reloads on HUP by re-executing itself with the socket handed over, so that a deploy is a HUP.
final class Master {
    static let retiringVariable = "PERCH_RETIRING_PIDS"

    private let listener: Listener
    private let config: PoolConfiguration
    private let makeHandler: (SharedPermits?) throws -> FastCGIHandler
    private let logger: Logger
    private let scoreboard: Scoreboard
    private let command: Command
    private let handoff: Handoff
    /// Idle kept connections workers handed over; see Handoff.
    private var parkedConnections: ParkedConnections
    private var workers: [pid_t: Int] = [:]  // pid -> slot
    /// Workers that left the pool (recycled, or of our previous self after a reload) and finish serving
    /// their kept connections, each with the time it must be gone by.
    private var retiring: [pid_t: Int64] = [:]
    private var notBefore: [Int: Int64] = [:]  // slot -> earliest respawn (crash-loop brake)
    private var spawnedAt: [Int: Int64] = [:]  // slot -> when its worker was forked
    private var quickDeaths: [Int: Int] = [:]  // slot -> workers in a row that died within a second
    private var timedOut: Set<pid_t> = []
    private var stopDeadline: Int64?

    init(
        listener: Listener, config: PoolConfiguration, command: Command, logger: Logger,
        makeHandler: @escaping (SharedPermits?) throws -> FastCGIHandler
    ) throws {
        self.listener = listener
        self.config = config
        self.command = command
        self.logger = logger
        self.makeHandler = makeHandler
        self.scoreboard = try Scoreboard(slots: max(1, config.workers), metricRoutes: config.metricRoutes)
        if let (handoff, parked) = Handoff.inherited() {
            self.handoff = handoff
            self.parkedConnections = ParkedConnections(handoff: handoff, idleLimitSeconds: config.keepAliveIdle, adopting: parked)
        } else {
            self.handoff = try Handoff.make()
            self.parkedConnections = ParkedConnections(handoff: handoff, idleLimitSeconds: config.keepAliveIdle)
        }
    }

    func run() -> Int32 {
        Signals.install()
        logger.info(
            "pool started",
            metadata: [
                "workers": "\(scoreboard.slotCount)", "listen": "\(listener.origin)",
                "version": "\(config.version ?? "unknown")"
            ])
        for slot in 0..<scoreboard.slotCount { spawn(slot) }
        adoptRetiringWorkers()
        var lastHousekeeping: Int64 = 0
        var systemd = SystemdProgress()
        var fds: [pollfd] = []
        while true {
            parkedConnections.fillPollSet(&fds)
            Signals.wait(&fds, milliseconds: 100)
            parkedConnections.service(fds)
            // Kept connections may wake us thousands of times a second; the rest is checked every 20 ms
            // (and at once after a signal: SIGCHLD, HUP, TERM...).
            let now = monotonicNanos()
            guard Signals.anyPending || now - lastHousekeeping >= 20_000_000 else { continue }
            lastHousekeeping = now
            notifySystemd(&systemd, now: now)
            if Signals.take(SIGQUIT) {
                logger.notice("QUIT: stopping at once")
                SystemdNotify.send("STOPPING=1")
                signalAll(SIGKILL)
                reapUntilEmpty()
                return cleanExit()
            }
            if Signals.take(SIGTERM) || Signals.take(SIGINT) { beginStop() }
            if stopDeadline != nil { parkedConnections.closeAll() }  // and those workers hand over while leaving
            if Signals.take(SIGUSR1) { reopenLogs() }
            reap()
            if let deadline = stopDeadline {
                if workers.isEmpty && retiring.isEmpty { return cleanExit() }
                if monotonicNanos() > deadline {
                    logger.warning(
                        "graceful stop timed out: killing the remaining workers", metadata: ["pids": "\(Array(workers.keys) + Array(retiring.keys))"])
                    signalAll(SIGKILL)
                    reapUntilEmpty()
                    return cleanExit()
                }
                continue
            }
            if Signals.take(SIGHUP) { reload() }
            collectRetiringWorkers()
            respawnEmptySlots()
            killTimedOutRequests()
            killOverdueRetiringWorkers()
        }
    }

    // MARK: Workers

    private func spawn(_ slot: Int) {
        let masterPID = getpid()
        let pid = fork()
        if pid < 0 {
            logger.error("fork failed", metadata: ["error": "\(errnoText())"])
            notBefore[slot] = monotonicNanos() + 1_000_000_000
            return
        }
        if pid == 0 {
            perch_die_with_parent(SIGTERM)  // never outlive the master
            if getppid() != masterPID { _exit(0) }
            var logger = self.logger
            logger[metadataKey: "pid"] = "\(getpid())"
            let handler: FastCGIHandler
            do {
                handler = try makeHandler(SharedPermits(scoreboard: scoreboard, slot: slot))
            } catch {
                logger.critical("worker cannot start", metadata: ["error": "\(error)"])
                _exit(78)
            }
            close(handoff.masterEnd)  // a worker only writes to it, through its own end
            // Nor may it keep the master's copies of parked connections: one would stay open after its
            // server closed it or died, and nginx would wait for an answer that never comes.
            parkedConnections.closeCopiesAfterFork()
            let worker = Worker(
                listener: listener, config: config, scoreboard: scoreboard, slot: slot, handoff: handoff.workersEnd,
                handler: handler, logger: logger)
            exit(worker.run())
        }
        scoreboard.slot(slot).assign(pid: pid)
        workers[pid] = slot
        spawnedAt[slot] = monotonicNanos()
    }

    private func respawnEmptySlots() {
        let busySlots = Set(workers.values)
        let now = monotonicNanos()
        for slot in 0..<scoreboard.slotCount where !busySlots.contains(slot) {
            if let earliest = notBefore[slot], now < earliest { continue }
            notBefore[slot] = nil
            spawn(slot)
        }
    }

    /// Collects every exited child and says why it left.
    private func reap() {
        _ = Signals.take(SIGCHLD)
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            if retiring.removeValue(forKey: pid) != nil {
                let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
                if code == Worker.recycledStatus { logger.info("worker recycled after max_requests", metadata: ["pid": "\(pid)"]) }
                continue
            }
            guard let slotIndex = workers.removeValue(forKey: pid) else { continue }
            let slot = scoreboard.slot(slotIndex)
            let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
            let signal = status & 0x7f
            var metadata: Logger.Metadata = ["pid": "\(pid)", "requests": "\(slot.requests)"]
            if slot.requestStart != 0 && !slot.requestID.isEmpty { metadata["request_id"] = "\(slot.requestID)" }
            if timedOut.remove(pid) != nil {
                // Already logged when killed.
            } else if exitCode == Worker.recycledStatus {
                logger.info("worker recycled after max_requests", metadata: metadata)
            } else if exitCode == 0 && stopDeadline != nil {
                logger.debug("worker stopped", metadata: metadata)
            } else {
                metadata[signal != 0 ? "signal" : "status"] = "\(signal != 0 ? signal : exitCode)"
                logger.error("worker died", metadata: metadata)
                // Respawn at once; only a worker that keeps dying right after start is slowed down (no fork bomb).
                let quick = monotonicNanos() - (spawnedAt[slotIndex] ?? 0) < 1_000_000_000
                quickDeaths[slotIndex] = quick ? (quickDeaths[slotIndex] ?? 0) + 1 : 0
                if let deaths = quickDeaths[slotIndex], deaths >= 2 {
                    notBefore[slotIndex] = monotonicNanos() + Int64(min(deaths, 10)) * 500_000_000
                }
            }
            slot.release()
        }
    }

    private func reapUntilEmpty() {
        while !workers.isEmpty || !retiring.isEmpty {
            var none: [pollfd] = []
            Signals.wait(&none, milliseconds: 50)
            reap()
        }
    }

    private func killTimedOutRequests() {
        let limit = Int64(config.requestTimeout * 1e9)
        let now = monotonicNanos()
        for (pid, slotIndex) in workers where !timedOut.contains(pid) {
            let slot = scoreboard.slot(slotIndex)
            let start = slot.requestStart
            guard start != 0, now - start > limit else { continue }
            kill(pid, SIGKILL)
            timedOut.insert(pid)
            logger.error(
                "request timed out: worker killed",
                metadata: [
                    "pid": "\(pid)", "request_id": "\(slot.requestID)", "method": "\(slot.method)", "uri": "\(slot.uri)",
                    "seconds": "\(Double(now - start) / 1e9)"
                ])
        }
    }

    private func signalAll(_ signal: Int32) {
        for pid in workers.keys { kill(pid, signal) }
        for pid in retiring.keys { kill(pid, signal) }
    }

    /// A worker that reached max_requests marks its slot retiring: its successor starts at once while it
    /// finishes its kept connections.
    private func collectRetiringWorkers() {
        let deadline = monotonicNanos() + Int64((config.gracefulTimeout + 5) * 1e9)
        for (pid, slotIndex) in workers where scoreboard.slot(slotIndex).state == .retiring {
            workers.removeValue(forKey: pid)
            retiring[pid] = deadline
            scoreboard.slot(slotIndex).release()
        }
    }

    private func killOverdueRetiringWorkers() {
        let now = monotonicNanos()
        for (pid, deadline) in retiring where now > deadline {
            logger.warning("retiring worker past the graceful timeout: killed", metadata: ["pid": "\(pid)"])
            kill(pid, SIGKILL)
            retiring[pid] = .max
        }
    }

    // MARK: Stop, reload, logs

    private func beginStop() {
        guard stopDeadline == nil else { return }
        logger.notice("stopping: waiting for in-flight requests", metadata: ["timeout_s": "\(config.gracefulTimeout)"])
        SystemdNotify.send("STOPPING=1\nSTATUS=stopping: waiting for in-flight requests")
        stopDeadline = monotonicNanos() + Int64(config.gracefulTimeout * 1e9)
        signalAll(SIGTERM)
    }

    private func cleanExit() -> Int32 {
        parkedConnections.closeAll()
        // The socket file is ours to remove when we bound it (possibly before a reload).
        if listener.origin != .systemd, case .unix(let path)? = config.listen { unlink(path) }
        logger.notice("pool stopped")
        return 0
    }

    /// HUP: check the (possibly new) binary and configuration in a child first; only if that passes, exec
    /// ourselves with the socket and the list of current workers, which the new master retires once its own
    /// workers are up. A failed check leaves the running pool untouched.
    private func reload() {
        logger.notice("HUP: reloading")
        // systemd counts the reload from this instant; the new master (same pid) says READY=1 when it serves.
        SystemdNotify.send("RELOADING=1\nMONOTONIC_USEC=\(monotonicNanos() / 1_000)\nSTATUS=reloading")
        guard command.check(logger: logger) else {
            logger.error("reload refused: the new binary or configuration failed its check; still serving with the old one")
            SystemdNotify.send("READY=1\nSTATUS=reload refused: still serving with the previous binary and configuration")
            return
        }
        _ = fcntl(listener.fd, F_SETFD, 0)  // the socket survives the exec
        setenv(Listener.reloadVariable, "\(listener.fd)", 1)
        setenv(Master.retiringVariable, (Array(workers.keys) + Array(retiring.keys)).map(String.init).joined(separator: ","), 1)
        setenv(Handoff.reloadVariable, parkedConnections.keepAcrossExec(), 1)
        command.exec()
        logger.error("reload failed: cannot exec", metadata: ["path": "\(command.path)", "error": "\(errnoText())"])
        unsetenv(Listener.reloadVariable)
        unsetenv(Master.retiringVariable)
        unsetenv(Handoff.reloadVariable)
        parkedConnections.closeOnExecAgain()
        _ = fcntl(listener.fd, F_SETFD, FD_CLOEXEC)
        SystemdNotify.send("READY=1\nSTATUS=reload failed: cannot exec; still serving")
    }

    // MARK: systemd

    struct SystemdProgress {
        var ready = false
        var lastStatus: Int64 = 0
        var lastWatchdog: Int64 = 0
    }

    /// Type=notify: READY=1 once a worker serves, then a STATUS= line with the pool's figures every 10 s
    /// (PHP-FPM's systemd_interval), and WATCHDOG=1 at half of WATCHDOG_USEC while the master loop turns.
    private func notifySystemd(_ progress: inout SystemdProgress, now: Int64) {
        guard SystemdNotify.isEnabled else { return }
        if let interval = SystemdNotify.watchdogInterval, now - progress.lastWatchdog >= interval {
            SystemdNotify.send("WATCHDOG=1")
            progress.lastWatchdog = now
        }
        guard stopDeadline == nil else { return }
        let figures = PoolFigures(scoreboard)
        if !progress.ready {
            guard figures.live.contains(where: { $0.state == .idle || $0.state == .reading || $0.state == .busy }) else { return }
            progress.ready = true
            SystemdNotify.send("READY=1\n" + statusLine(figures))
            progress.lastStatus = now
        } else if now - progress.lastStatus >= 10_000_000_000 {
            SystemdNotify.send(statusLine(figures))
            progress.lastStatus = now
        }
    }

    private func statusLine(_ figures: PoolFigures) -> String {
        let live = figures.live.count
        return "STATUS=\(figures.active) active, \(live - figures.active) idle, \(live) workers; \(figures.accepted) connections accepted"
    }

    private func adoptRetiringWorkers() {
        guard let list = ProcessEnvironment()[Master.retiringVariable] else { return }
        unsetenv(Master.retiringVariable)
        let deadline = monotonicNanos() + Int64((config.gracefulTimeout + 5) * 1e9)
        for pid in list.split(separator: ",").compactMap({ pid_t($0) }) {
            retiring[pid] = deadline
            kill(pid, SIGUSR2)  // retire: no new connections, finish the kept ones, leave
        }
        logger.notice("reloaded: previous workers finish their requests and leave", metadata: ["pids": "\(retiring.keys.sorted())"])
    }

    private func reopenLogs() {
        if let path = config.logFile { LogFile.reopen(path) }
        signalAll(SIGUSR1)
        logger.info("log files reopened")
    }
}
