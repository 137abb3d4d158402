import Glibc

/// How the process manager runs: PHP-FPM's pool settings, in this service's words.
/// The app fills it from the environment; this module never reads configuration itself.
public struct PoolConfiguration: Sendable {
    /// Where to listen when no socket is inherited: nil means "inherited or CGI".
    public var listen: ListenAddress?
    public var socketOwner: String?
    public var socketGroup: String?
    public var socketMode: mode_t = 0o660
    public var backlog: Int32 = 511
    /// Client addresses allowed on a TCP socket (FCGI_WEB_SERVER_ADDRS); empty means any.
    public var allowedClients: [String] = []

    /// Four per core: a worker waits on MariaDB for much of a request, and writes kept scaling past one per
    /// core in the benchmark (README, Configuration), while each worker costs about 3-4 MB and a database
    /// connection.
    public var workers: Int = 4 * max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    /// How the pool sizes itself (PHP-FPM's `pm`); `workers` is the hard maximum in every mode.
    public var mode: PoolMode = .static
    /// dynamic: workers at start, and the idle workers kept between these bounds (checked once a second).
    public var startWorkers: Int = 2
    public var minSpareWorkers: Int = 1
    public var maxSpareWorkers: Int = 3
    /// dynamic: workers forked per second while short of idle ones, doubling each second up to this.
    public var maxSpawnRate: Int = 32
    /// ondemand: an idle worker leaves after this long (seconds).
    public var idleTimeout: Double = 10
    /// A worker is replaced after about this many requests (0: never), each with its own jitter.
    public var maxRequests: Int = 100_000
    public var maxRequestsJitter: Int = 10_000
    /// A worker whose resident memory after a request exceeds this is replaced (bytes; 0: never).
    public var maxWorkerMemory: Int = 0
    /// A worker older than this (plus its own random jitter) is replaced after its request (seconds; 0: never).
    public var maxWorkerLifetime: Double = 0
    public var maxWorkerLifetimeJitter: Double = 0
    /// Workers in a row that die at start before the master backs off from forking.
    public var crashLoopThreshold: Int = 5
    /// A request running longer is killed with its worker (seconds).
    public var requestTimeout: Double = 30
    /// Requests slower than this count as slow in the status (seconds).
    public var slowRequestThreshold: Double = 5
    /// How long TERM waits for in-flight requests, and HUP for retiring workers (seconds).
    public var gracefulTimeout: Double = 30
    /// How long the pool (the master, or a single worker) keeps an idle nginx keep-conn connection (seconds).
    /// Set nginx's upstream `keepalive_timeout` below it, so that nginx, not perch, closes idle connections.
    public var keepAliveIdle: Double = 75
    /// Request bodies above this are answered 413 by the handler without being read.
    public var bodyLimit: Int = 1 << 20

    /// The pool status path (off when nil), answered only for `statusAllowed` client addresses.
    public var statusPath: String?
    public var statusAllowed: [String] = ["127.0.0.1", "::1"]
    public var poolName: String = "perch"
    /// The service's version, shown on the status page and in the start-up log line (the app sets it).
    public var version: String?
    /// Log file reopened on USR1 (nil: stderr as inherited).
    public var logFile: String?
    /// The app's routes, for the request duration histogram: `FastCGIResponse.route` indexes this list.
    public var metricRoutes: [MetricRoute] = []

    public init() {}
}

/// PHP-FPM's process manager modes.
public enum PoolMode: String, Sendable {
    /// Always `workers` workers.
    case `static`
    /// Between `minSpareWorkers` and `maxSpareWorkers` idle workers, at most `workers` in all.
    case dynamic
    /// No worker until a connection arrives; idle workers leave after `idleTimeout`.
    case ondemand
}

/// A socket to bind: a unix socket path or a TCP host and port.
public enum ListenAddress: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: UInt16)

    /// Parses `/path`, `unix:/path`, `host:port` or `[v6]:port`.
    public init(parsing text: String) throws {
        if text.hasPrefix("unix:") {
            self = .unix(path: String(text.dropFirst(5)))
        } else if text.hasPrefix("/") || text.hasPrefix(".") {
            self = .unix(path: text)
        } else if let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 {
            var host = String(text[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw ConfigurationError("listen address \"\(text)\" has no host") }
            self = .tcp(host: host, port: port)
        } else {
            throw ConfigurationError("listen address \"\(text)\" is neither a socket path (/run/perch.sock) nor host:port (127.0.0.1:9000)")
        }
        if case .unix(let path) = self, path.isEmpty || path.utf8.count > 107 {
            throw ConfigurationError("unix socket path \"\(path)\" must be 1 to 107 bytes")
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): return "unix:\(path)"
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
