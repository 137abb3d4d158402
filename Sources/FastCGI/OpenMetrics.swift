import Glibc

/// The pool's figures as the status page reports them, read once from the scoreboard (JSON and OpenMetrics).
struct PoolFigures {
    let live: [Scoreboard.Slot]
    let active: Int
    let accepted: UInt64
    let maxActive: UInt64
    let maxChildrenReached: UInt64
    let slowRequests: UInt64
    let maxQueueMicros: Int64
    let passwordHashesInProgress: Int

    init(_ scoreboard: Scoreboard) {
        let slots = scoreboard.slots
        live = slots.filter { $0.pid != 0 }
        active = live.filter { $0.state == .reading || $0.state == .busy }.count
        accepted = slots.reduce(0) { $0 + $1.accepted }
        maxActive = slots.map(\.maxActive).max() ?? 0
        maxChildrenReached = slots.reduce(0) { $0 + $1.allBusy }
        slowRequests = slots.reduce(0) { $0 + $1.slowRequests }
        maxQueueMicros = slots.map(\.maxQueueMicros).max() ?? 0
        passwordHashesInProgress = SharedPermits.held(in: scoreboard)
    }
}

/// `GET <status path>?openmetrics`: the status page as OpenMetrics text (what Prometheus scrapes), PHP-FPM's
/// pool figures under a `perch_` prefix; `&full` adds one series per worker. Any worker answers for the whole
/// pool, since every figure comes from the shared scoreboard.
enum OpenMetrics {
    /// `?openmetrics`: OpenMetrics 1.0; `?prometheus`: the same figures in Prometheus' older text format 0.0.4
    /// (what `promtool check metrics` and pre-OpenMetrics scrapers read).
    enum Format {
        case openMetrics, prometheusText
        var contentType: String {
            self == .openMetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8" : "text/plain; version=0.0.4; charset=utf-8"
        }
    }

    static func render(
        _ scoreboard: Scoreboard, config: PoolConfiguration, listenQueue: (waiting: Int, capacity: Int)?, full: Bool,
        format: Format = .openMetrics
    ) -> [UInt8] {
        let figures = PoolFigures(scoreboard)
        let pool = "pool=\"\(escaped(config.poolName))\""
        var text = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(suffix: String, labels: String, value: String)]) {
            // The text format names a counter's family with its `_total` and has no `info` type (a gauge of 1).
            switch (format, type) {
            case (.prometheusText, "counter"): text += "# TYPE \(name)_total counter\n# HELP \(name)_total \(help)\n"
            case (.prometheusText, "info"): text += "# TYPE \(name)_info gauge\n# HELP \(name)_info \(help)\n"
            default: text += "# TYPE \(name) \(type)\n# HELP \(name) \(help)\n"
            }
            for sample in samples { text += "\(name)\(sample.suffix){\(sample.labels)} \(sample.value)\n" }
        }
        func one(_ name: String, _ type: String, _ help: String, _ value: String) {
            family(name, type, help, [(type == "counter" ? "_total" : "", pool, value)])
        }
        family("perch_build", "info", "The running version.", [("_info", "\(pool),version=\"\(escaped(config.version ?? "unknown"))\"", "1")])
        one("perch_start_time_seconds", "gauge", "When the pool started (Unix time).", "\(scoreboard.startedUnix)")
        one("perch_accepted_connections", "counter", "Connections accepted by the pool since it started.", "\(figures.accepted)")
        if let listenQueue {
            one("perch_listen_queue", "gauge", "Connections waiting in the socket's backlog for a worker.", "\(listenQueue.waiting)")
            one("perch_listen_queue_length", "gauge", "Room in the socket's backlog.", "\(listenQueue.capacity)")
        }
        one("perch_idle_processes", "gauge", "Workers waiting for a connection.", "\(figures.live.count - figures.active)")
        one("perch_active_processes", "gauge", "Workers reading or serving a request.", "\(figures.active)")
        one("perch_total_processes", "gauge", "Live workers.", "\(figures.live.count)")
        one("perch_max_active_processes", "gauge", "The most workers active at once since the pool started.", "\(figures.maxActive)")
        one("perch_max_children_reached", "counter", "Times every worker was busy when a connection came.", "\(figures.maxChildrenReached)")
        one("perch_slow_requests", "counter", "Requests that ran past PERCH_SLOW_REQUEST.", "\(figures.slowRequests)")
        one(
            "perch_max_queue_seconds", "gauge", "The longest a request waited for a worker (X-Request-Start) since the pool started.",
            seconds(figures.maxQueueMicros * 1_000))
        family(
            "perch_worker_replacements", "counter", "Workers replaced by a new one, by reason.",
            Scoreboard.Replacement.allCases.map { ("_total", "\(pool),reason=\"\($0.name)\"", "\(scoreboard.replacements($0))") })
        one("perch_password_hashes_in_progress", "gauge", "Workers holding a pool-wide password-hash permit.", "\(figures.passwordHashesInProgress)")
        scoreboard.metrics.render(pool: pool, family: family)
        if full {
            let nowNanos = monotonicNanos()
            let workers = figures.live.map { slot in (slot, "\(pool),pid=\"\(slot.pid)\"") }
            family(
                "perch_process_state", "gauge", "1 for each worker's current state.",
                workers.map { ("", "\($0.1),state=\"\($0.0.state.name)\"", "1") })
            family(
                "perch_process_requests", "counter", "Requests served by the worker process.",
                workers.map { ("_total", $0.1, "\($0.0.requests)") })
            family(
                "perch_process_resident_memory_bytes", "gauge", "The worker's resident memory.",
                workers.compactMap { worker in ResidentMemory.bytes(of: worker.0.pid).map { ("", worker.1, "\($0)") } })
            family(
                "perch_process_request_duration_seconds", "gauge", "The current request's time so far, or the last request's duration.",
                workers.map { worker in
                    let running = worker.0.requestStart != 0
                    return ("", worker.1, seconds(running ? nowNanos - worker.0.requestStart : worker.0.lastDurationNanos))
                })
            family(
                "perch_process_start_time_seconds", "gauge", "When the worker started (Unix time).",
                workers.map { ("", $0.1, "\($0.0.startedUnix)") })
        }
        if format == .openMetrics { text += "# EOF\n" }
        return Array(text.utf8)
    }

    static func seconds(_ nanos: Int64) -> String {
        let whole = nanos / 1_000_000_000
        let fraction = nanos % 1_000_000_000
        let digits = String(fraction)
        return "\(whole)." + String(repeating: "0", count: 9 - digits.count) + digits
    }

    /// Label values escape backslash, quote and newline (the pool name and version are the operator's text).
    static func escaped(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
