import HTTPTypes

/// Says no early under overload: a request that already waited longer than `maxMillis` for a worker (the
/// web server's `X-Request-Start`, see Request.queueMicros) is answered at once with 503 and `Retry-After`,
/// before routing, authentication or any database work: by then its client has most likely given up, and
/// a late answer would only make the requests behind it wait longer still.
struct QueueLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxMicros: Int64

    init(maxMillis: Int) { maxMicros = maxMillis > 0 ? Int64(maxMillis) * 1000 : .max }

    static var overloaded: HTTPError {
        HTTPError(.serviceUnavailable, detail: "The server is overloaded; try again shortly", headers: [.retryAfter: "1"])
    }

    func handle(_ request: Request, context: Context, next: Responder<Context>) throws -> Response {
        if let waited = request.queueMicros, waited > maxMicros { throw Self.overloaded }
        return try next(request, context)
    }
}
