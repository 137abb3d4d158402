import FoundationEssentials
import Glibc

/// The pool status as JSON, in PHP-FPM's vocabulary (snake_case), built from the scoreboard.
enum StatusPage {
    /// `listenQueue`: connections waiting in the socket's backlog and its capacity (ListenQueue), when known.
    static func render(_ scoreboard: Scoreboard, config: PoolConfiguration, listenQueue: (waiting: Int, capacity: Int)? = nil) -> [UInt8] {
        let now = Int64(time(nil))
        let nowNanos = monotonicNanos()
        let figures = PoolFigures(scoreboard)
        let processes = figures.live.map { slot in
            let running = slot.requestStart != 0
            return Process(
                pid: Int(slot.pid), state: slot.state.name, startTime: slot.startedUnix, requests: slot.requests,
                requestDurationMs: Double(running ? nowNanos - slot.requestStart : slot.lastDurationNanos) / 1e6,
                requestMethod: running ? slot.method : nil, requestUri: running ? slot.uri : nil,
                requestId: running ? slot.requestID : nil, requestQueueMs: slot.queueMicros.map { Double($0) / 1e3 })
        }
        let document = Document(
            pool: config.poolName, version: config.version, processManager: "static", startTime: scoreboard.startedUnix,
            startSince: now - scoreboard.startedUnix,
            acceptedConn: figures.accepted,
            idleProcesses: figures.live.count - figures.active, activeProcesses: figures.active, totalProcesses: figures.live.count,
            maxActiveProcesses: figures.maxActive, maxChildrenReached: figures.maxChildrenReached, slowRequests: figures.slowRequests,
            listenQueue: listenQueue?.waiting, listenQueueLen: listenQueue?.capacity,
            maxQueueMs: Double(figures.maxQueueMicros) / 1e3,
            passwordHashesInProgress: figures.passwordHashesInProgress,
            processes: processes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = (try? encoder.encode(document)) ?? Data("{}".utf8)
        return Array(data)
    }

    // Property names become PHP-FPM's snake_case keys; absent request fields are left out, as PHP-FPM does.
    private struct Document: Encodable {
        let pool: String
        let version: String?
        let processManager: String
        let startTime: Int64
        let startSince: Int64
        let acceptedConn: UInt64
        let idleProcesses: Int
        let activeProcesses: Int
        let totalProcesses: Int
        let maxActiveProcesses: UInt64
        let maxChildrenReached: UInt64
        let slowRequests: UInt64
        /// PHP-FPM's `listen queue` and `listen queue len`: connections waiting for a worker, and room for them.
        let listenQueue: Int?
        let listenQueueLen: Int?
        /// The longest any request waited for a worker (X-Request-Start), since the pool started.
        let maxQueueMs: Double
        /// Workers holding a pool-wide hash permit right now (PERCH_HASH_CONCURRENCY caps it).
        let passwordHashesInProgress: Int
        let processes: [Process]
    }

    private struct Process: Encodable {
        let pid: Int
        let state: String
        let startTime: Int64
        let requests: UInt64
        let requestDurationMs: Double
        let requestMethod: String?
        let requestUri: String?
        let requestId: String?
        /// How long the current or last request waited for a worker, when the web server said (X-Request-Start).
        let requestQueueMs: Double?
    }
}
