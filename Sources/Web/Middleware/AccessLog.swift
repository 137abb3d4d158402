import Logging

/// One structured line per request: id (from the logger's metadata), method, path, status, duration, bytes.
public struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}
    public func handle(_ request: Request, context: Context, next: Responder<Context>) throws -> Response {
        let clock = ContinuousClock()
        let start = clock.now
        let response = try next(request, context)
        let elapsed = clock.now - start
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        context.logger.info("request", metadata: [
            "method": .string(request.method.rawValue),
            "path": .string(request.path),
            "status": .string(String(response.status.code)),
            "duration_ms": .string(Self.milliseconds(micros)),
            "bytes": .string(String(response.body.count)),
        ])
        return response
    }

    /// 1234 µs -> "1.234" (ms with three decimals), without going through Double's printing.
    static func milliseconds(_ micros: Int64) -> String {
        let fraction = String(micros % 1000)
        return String(micros / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
