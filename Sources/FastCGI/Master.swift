import CFastCGI
import Glibc
import Logging

/// The process manager: owns the socket, never serves, and keeps the pool's workers alive (all of them, or
/// as many as its mode wants: see PoolMode). It forks before anything could have started a thread, respawns
/// the dead at once (backing off when they die at start), replaces workers past their requests, memory or
/// lifetime, kills requests past the timeout, names slow ones, and reloads on HUP by re-executing itself
/// with the socket handed over, so that a deploy is a HUP.
final class Master {
    static let retiringVariable = "PERCH_RETIRING_PIDS"
    /// The replacement counts, carried across a reload's exec (the scoreboard is new after it).
    static let replacementsVariable = "PERCH_REPLACEMENTS"

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
    /// Slots that should have a worker: all of them in a static pool; in the others, as the mode decides.
    private var wanted: Set<Int> = []
    /// No fork before this (the crash-loop brake, or a failed fork).
    private var forkNotBefore: Int64 = 0
    private var spawnedAt: [Int: Int64] = [:]  // slot -> when its worker was forked
    /// Workers in a row that died at start (before they served or within a second); reset when one serves.
    private var quickDeaths = 0
    /// The previous generation's workers after a reload, kept serving until one of ours is ready; if ours
    /// crash-loop first, they go on serving (a rollback) until the pool stops.
    private var previousGeneration: [pid_t] = []
    private var rolledBack = false
    /// dynamic: workers to fork at the next tick while short of idle ones (doubles per tick, PHP-FPM's rule).
    private var spawnRate = 1
    private var lastTick: Int64 = 0
    /// Said once per saturation: the pool wanted another worker but is at its maximum.
    private var saidMaximumReached = false
    private var slowLogged: [pid_t: Int64] = [:]  // pid -> start of the request already named as slow
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
        switch config.mode {
        case .static: wanted = Set(0..<scoreboard.slotCount)
        case .dynamic: wanted = Set(0..<min(config.startWorkers, scoreboard.slotCount))
        case .ondemand: wanted = []
        }
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
                "workers": "\(scoreboard.slotCount)", "mode": "\(config.mode)", "listen": "\(listener.origin)",
                "version": "\(config.version ?? "unknown")"
            ])
        adoptRetiringWorkers()
        for slot in wanted.sorted() { spawn(slot) }
        var lastHousekeeping: Int64 = 0
        var systemd = SystemdProgress()
        var fds: [pollfd] = []
        while true {
            parkedConnections.fillPollSet(&fds)
            let watchesForWork = watchForWork(&fds)
            Signals.wait(&fds, milliseconds: 100)
            parkedConnections.service(fds)
            if watchesForWork && fds.suffix(2).contains(where: { $0.revents != 0 }) { spawnOnDemand() }
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
            noteWorkersServing()
            if config.mode == .dynamic && now - lastTick >= 1_000_000_000 {
                lastTick = now
                keepSpareWorkers()
            }
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
            forkNotBefore = monotonicNanos() + 1_000_000_000
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
        guard monotonicNanos() >= forkNotBefore else { return }
        let busySlots = Set(workers.values)
        for slot in wanted.sorted() where !busySlots.contains(slot) {
            spawn(slot)
            if forkNotBefore > monotonicNanos() { return }  // the fork failed
        }
    }

    /// Slots with a worker of ours in each state of interest.
    private func count(_ states: Set<Scoreboard.State>) -> Int {
        workers.values.filter { states.contains(scoreboard.slot($0).state) }.count
    }

    /// Claims up to `count` free slots for new workers; past the maximum, says so once per saturation.
    private func want(_ count: Int) {
        let free = (0..<scoreboard.slotCount).filter { !wanted.contains($0) }
        if free.count < count && !saidMaximumReached {
            saidMaximumReached = true
            logger.warning(
                "the pool reached its maximum of workers: consider raising PERCH_WORKERS",
                metadata: ["PERCH_WORKERS": "\(scoreboard.slotCount)", "mode": "\(config.mode)"])
        }
        for slot in free.prefix(count) { wanted.insert(slot) }
    }

    /// ondemand: the listening socket and the workers' queue are watched only while no worker is idle or
    /// starting (else a waiting connection would wake us without end); the caller forks one when they stir.
    /// At the maximum, they are looked at once (without waiting) only to say so.
    private func watchForWork(_ fds: inout [pollfd]) -> Bool {
        guard config.mode == .ondemand, stopDeadline == nil, monotonicNanos() >= forkNotBefore,
            Set(workers.values).isSuperset(of: wanted), count([.idle, .starting]) == 0
        else { return false }
        var work = [
            pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0), pollfd(fd: handoff.workersEnd, events: Int16(POLLIN), revents: 0)
        ]
        if wanted.count == scoreboard.slotCount {
            if !saidMaximumReached && poll(&work, 2, 0) > 0 { want(1) }
            return false
        }
        saidMaximumReached = false
        fds += work
        return true
    }

    private func spawnOnDemand() {
        want(1)
        respawnEmptySlots()
    }

    /// dynamic, once a second (PHP-FPM's maintenance): fork while fewer than the minimum of idle workers,
    /// `spawnRate` at a time, doubling while still short, up to the cap; retire one idle worker while more
    /// than the maximum are idle (USR2: it hands its kept connections on and leaves).
    private func keepSpareWorkers() {
        let idle = count([.idle, .starting])
        if idle < config.minSpareWorkers {
            let short = config.minSpareWorkers - idle
            want(min(spawnRate, short))
            spawnRate = short > spawnRate ? min(spawnRate * 2, config.maxSpawnRate) : 1
            return
        }
        spawnRate = 1
        if wanted.count < scoreboard.slotCount { saidMaximumReached = false }
        guard idle > config.maxSpareWorkers,
            let (pid, slot) = workers.first(where: { scoreboard.slot($0.value).state == .idle })
        else { return }
        wanted.remove(slot)
        kill(pid, SIGUSR2)
    }

    /// A worker of ours serves: the crash-loop count starts again, and after a reload the previous
    /// generation can go.
    private func noteWorkersServing() {
        guard quickDeaths > 0 || !previousGeneration.isEmpty else { return }
        guard workers.values.contains(where: { scoreboard.slot($0).state != .starting }) else { return }
        if quickDeaths > 0 && rolledBack { logger.notice("new workers serve again: the crash loop is over") }
        quickDeaths = 0
        if previousGeneration.isEmpty { return }
        let deadline = monotonicNanos() + Int64((config.gracefulTimeout + 5) * 1e9)
        for pid in previousGeneration where retiring[pid] != nil {
            retiring[pid] = deadline
            kill(pid, SIGUSR2)  // retire: no new connections, finish the kept ones, leave
        }
        logger.notice("reloaded: previous workers finish their requests and leave", metadata: ["pids": "\(previousGeneration.sorted())"])
        scoreboard.countReplacements(.reload, UInt64(previousGeneration.count))
        previousGeneration = []
    }

    /// Collects every exited child and says why it left.
    private func reap() {
        _ = Signals.take(SIGCHLD)
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            if retiring.removeValue(forKey: pid) != nil { continue }  // logged and counted when it retired
            guard let slotIndex = workers.removeValue(forKey: pid) else { continue }
            let slot = scoreboard.slot(slotIndex)
            let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
            let signal = status & 0x7f
            var metadata: Logger.Metadata = ["pid": "\(pid)", "requests": "\(slot.requests)"]
            if slot.requestStart != 0 && !slot.requestID.isEmpty { metadata["request_id"] = "\(slot.requestID)" }
            slowLogged[pid] = nil
            if timedOut.remove(pid) != nil {
                scoreboard.countReplacements(.timeout)  // logged when killed
            } else if slot.state == .retiring || exitCode == Worker.recycledStatus {
                noteRetired(pid: pid, slotIndex: slotIndex, resident: nil)  // left before we saw it retire
            } else if exitCode == 0 && stopDeadline != nil {
                logger.debug("worker stopped", metadata: metadata)
            } else {
                metadata[signal != 0 ? "signal" : "status"] = "\(signal != 0 ? signal : exitCode)"
                logger.error("worker died", metadata: metadata)
                scoreboard.countReplacements(.crash)
                noteDeath(atStart: slot.state == .starting || monotonicNanos() - (spawnedAt[slotIndex] ?? 0) < 1_000_000_000, metadata)
            }
            slot.release()
        }
    }

    /// Respawn at once; only workers that keep dying at start make the master back off (no fork bomb):
    /// past the threshold, half a second, doubling per death up to a minute, and it says so.
    private func noteDeath(atStart: Bool, _ metadata: Logger.Metadata) {
        guard atStart else {
            quickDeaths = 0
            return
        }
        quickDeaths += 1
        guard quickDeaths >= config.crashLoopThreshold else { return }
        let delay = min(60, 0.5 * Double(1 << min(quickDeaths - config.crashLoopThreshold, 7)))
        forkNotBefore = monotonicNanos() + Int64(delay * 1e9)
        var details = metadata
        details["deaths_in_a_row"] = "\(quickDeaths)"
        details["next_fork_in_s"] = "\(delay)"
        logger.critical("crash loop: workers die at start; backing off before the next fork", metadata: details)
        if !previousGeneration.isEmpty && !rolledBack {
            rolledBack = true
            logger.critical(
                "reload rolled back: the new workers die at start, so the previous generation keeps serving",
                metadata: ["previous_pids": "\(previousGeneration.sorted())", "deaths_in_a_row": "\(quickDeaths)"])
            SystemdNotify.send("STATUS=reload rolled back: the new workers die at start; the previous workers keep serving")
        }
    }

    /// A worker left the pool on its own: count and log why, with its figures. Its slot gets a successor if
    /// the mode still wants one (not for a dynamic pool's surplus or an ondemand worker's idle timeout).
    private func noteRetired(pid: pid_t, slotIndex: Int, resident: Int?) {
        let slot = scoreboard.slot(slotIndex)
        let reason = slot.leaveReason
        var metadata: Logger.Metadata = ["pid": "\(pid)", "requests": "\(slot.requests)", "reason": "\(reason)"]
        if let spawned = spawnedAt[slotIndex] { metadata["lived_s"] = "\((monotonicNanos() - spawned) / 1_000_000_000)" }
        guard let replacement = reason.replacement else {
            if reason == .idle { wanted.remove(slotIndex) }  // a shrinking dynamic pool removed it when it said USR2
            logger.debug(reason == .idle ? "idle worker left" : "surplus worker left", metadata: metadata)
            return
        }
        scoreboard.countReplacements(replacement)
        switch replacement {
        case .memory:
            metadata["resident_bytes"] = "\(resident.map(String.init) ?? "?")"
            metadata["limit_bytes"] = "\(config.maxWorkerMemory)"
            logger.notice("worker recycled: resident memory over PERCH_MAX_WORKER_MEMORY", metadata: metadata)
        case .lifetime:
            metadata["limit_s"] = "\(config.maxWorkerLifetime)"
            logger.info("worker recycled: older than PERCH_MAX_WORKER_LIFETIME", metadata: metadata)
        default:
            logger.info("worker recycled after max_requests", metadata: metadata)
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
        let slowLimit = Int64(config.slowRequestThreshold * 1e9)
        let now = monotonicNanos()
        for (pid, slotIndex) in workers where !timedOut.contains(pid) {
            let slot = scoreboard.slot(slotIndex)
            let start = slot.requestStart
            guard start != 0 else { continue }
            if now - start > slowLimit && slot.state == .busy && slowLogged[pid] != start { nameSlowRequest(pid, slot, since: start, now: now) }
            guard now - start > limit else { continue }
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

    /// PHP-FPM's slowlog without secrets: once per request past PERCH_SLOW_REQUEST, who serves what.
    private func nameSlowRequest(_ pid: pid_t, _ slot: Scoreboard.Slot, since start: Int64, now: Int64) {
        slowLogged[pid] = start
        let path = slot.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        logger.warning(
            "slow request",
            metadata: [
                "pid": "\(pid)", "method": "\(slot.method)", "path": "\(path)",
                "request_id": "\(slot.requestID.isEmpty ? "-" : slot.requestID)", "seconds": "\(Double(now - start) / 1e9)"
            ])
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
            noteRetired(pid: pid, slotIndex: slotIndex, resident: ResidentMemory.bytes(of: pid))
            slowLogged[pid] = nil
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
        setenv(Master.replacementsVariable, Scoreboard.Replacement.allCases.map { "\(scoreboard.replacements($0))" }.joined(separator: ","), 1)
        command.exec()
        logger.error("reload failed: cannot exec", metadata: ["path": "\(command.path)", "error": "\(errnoText())"])
        unsetenv(Listener.reloadVariable)
        unsetenv(Master.retiringVariable)
        unsetenv(Handoff.reloadVariable)
        unsetenv(Master.replacementsVariable)
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

    /// After a reload's exec: the previous generation serves on until one of our workers does
    /// (noteWorkersServing), so that new workers that cannot start never leave the socket unserved.
    private func adoptRetiringWorkers() {
        if let counts = ProcessEnvironment()[Master.replacementsVariable] {
            unsetenv(Master.replacementsVariable)
            for (reason, count) in zip(Scoreboard.Replacement.allCases, counts.split(separator: ",")) {
                scoreboard.countReplacements(reason, UInt64(count) ?? 0)
            }
        }
        guard let list = ProcessEnvironment()[Master.retiringVariable] else { return }
        unsetenv(Master.retiringVariable)
        previousGeneration = list.split(separator: ",").compactMap { pid_t($0) }
        for pid in previousGeneration { retiring[pid] = .max }
        if wanted.isEmpty && !previousGeneration.isEmpty { wanted.insert(0) }  // ondemand: one worker proves the new binary
        logger.notice("reloaded: the previous workers serve until the new ones are ready", metadata: ["pids": "\(previousGeneration.sorted())"])
    }

    private func reopenLogs() {
        if let path = config.logFile { LogFile.reopen(path) }
        signalAll(SIGUSR1)
        logger.info("log files reopened")
    }
}
