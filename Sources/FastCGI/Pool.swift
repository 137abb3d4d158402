import Glibc
import Logging

/// The entry point: finds the socket (inherited, spawned on fd 0, or configured) and runs the right shape
/// of server: a master with a pool, a single worker when a web server spawned us, or one CGI request.
public enum Pool {
    /// `makeHandler` runs in each worker after fork (and once in check-only mode, to validate a reload); it gets
    /// the pool-wide permits of the worker's scoreboard slot (nil for a single CGI request and the check).
    /// `beforeFork` runs once in a pool's master, before the first fork: what it loads, workers share. Not after
    /// a reload's re-exec, where the old workers have stopped accepting and the new ones should start at once
    /// (with the database check there, CI's reload-under-writes test saw a 502 about one run in three).
    public static func run(
        config: PoolConfiguration, logger: Logger, beforeFork: () -> Void = {},
        makeHandler: @escaping (SharedPermits?) throws -> FastCGIHandler
    ) throws -> Int32 {
        if Command.isCheckOnly {
            _ = try makeHandler(nil)
            return 0
        }
        if let path = config.logFile { LogFile.reopen(path) }
        guard let listener = try Listener.resolve(config) else {
            let env = ProcessEnvironment()
            guard env["GATEWAY_INTERFACE"] != nil || env["REQUEST_METHOD"] != nil else {
                throw ConfigurationError(
                    "nothing to serve on: no inherited socket (systemd, fd 0) and PERCH_LISTEN is not set; to run as CGI the web server sets GATEWAY_INTERFACE")
            }
            return CGI.serveOne(try makeHandler(nil), bodyLimit: config.bodyLimit)
        }
        if listener.origin == .spawned {
            // mod_fcgid and friends send one request at a time per process and manage processes themselves.
            let scoreboard = try Scoreboard(slots: 1, metricRoutes: config.metricRoutes)
            scoreboard.slot(0).assign(pid: getpid())
            let worker = Worker(
                listener: listener, config: config, scoreboard: scoreboard, slot: 0,
                handler: try makeHandler(SharedPermits(scoreboard: scoreboard, slot: 0)), logger: logger)
            _ = worker.run()
            return 0
        }
        if listener.origin != .reloaded { beforeFork() }
        let master = try Master(listener: listener, config: config, command: Command(), logger: logger, makeHandler: makeHandler)
        return master.run()
    }
}
