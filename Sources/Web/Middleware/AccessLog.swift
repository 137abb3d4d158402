import Logging

/// One structured line per request: id (from the logger's metadata), method, path, status, duration, bytes.
public struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}
    public func handle(_ request: Request, context: Context, next: Responder<Context>) throws -> Response {
        let clock = ContinuousClock()
        let start = clock.now
        let response = try next(request, context)
        let elapsed = clock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        context.logger.info("request", metadata: [
            "method": "\(request.method.rawValue)",
            "path": "\(request.path)",
            "status": "\(response.status.code)",
            "duration_ms": "\((ms * 1000).rounded() / 1000)",
            "bytes": "\(response.body.count)",
        ])
        return response
    }
}
