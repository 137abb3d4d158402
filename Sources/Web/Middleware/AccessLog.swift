import Logging

/// One structured line per request: id (from the logger's metadata), method, path, status, duration, bytes.
public struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}
    public func handle(_ request: Request, context: Context, next: Responder<Context>) throws -> Response {
        // Above info nothing is written: no clock is read either (two reads and the Duration's Int128
        // arithmetic cost about 550 instructions a request).
        guard context.logger.logLevel <= .info else { return try next(request, context) }
        let clock = ContinuousClock()
        let start = clock.now
        let response = try next(request, context)
        let elapsed = clock.now - start
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        let entry = AccessLogEntry(
            method: request.method.rawValue, path: request.path, status: response.status.code,
            durationMicros: max(0, micros), bytes: response.body.count, queueMicros: request.queueMicros)
        if let writer = context.logger.handler as? AccessLogWriter {
            writer.logAccess(entry)
        } else {
            context.logger.info("request", metadata: entry.metadata)
        }
        return response
    }
}

/// One request's access line.
public struct AccessLogEntry {
    public var method: String
    public var path: String
    public var status: Int
    /// How long the app took (>= 0); logged as milliseconds with three decimals, `duration_ms=12.345`.
    public var durationMicros: Int64
    public var bytes: Int
    /// How long it waited for a worker (X-Request-Start), logged as `queue_ms=` when the server sent it.
    public var queueMicros: Int64?

    public init(method: String, path: String, status: Int, durationMicros: Int64, bytes: Int, queueMicros: Int64? = nil) {
        self.method = method
        self.path = path
        self.status = status
        self.durationMicros = durationMicros
        self.bytes = bytes
        self.queueMicros = queueMicros
    }

    /// 1234 µs -> "1.234", without going through Double's printing.
    public var durationMS: String { Self.milliseconds(durationMicros) }

    static func milliseconds(_ micros: Int64) -> String {
        let fraction = String(micros % 1000)
        return String(micros / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// As log metadata, sorted by key.
    public var fields: [(key: String, value: String)] {
        var fields = [("bytes", String(bytes)), ("duration_ms", durationMS), ("method", method), ("path", path)]
        if let queueMicros { fields.append(("queue_ms", Self.milliseconds(queueMicros))) }
        fields.append(("status", String(status)))
        return fields
    }

    public var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        for (key, value) in fields { metadata[key] = .string(value) }
        return metadata
    }
}

/// A log handler that writes access lines from the entry itself; the middleware then makes no metadata
/// dictionary per request. The line must be the one `logger.info("request", metadata: entry.metadata)` gives.
public protocol AccessLogWriter {
    func logAccess(_ entry: AccessLogEntry)
}
