/// 413 when the declared Content-Length or the body itself exceeds the limit.
public struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Int
    public init(limit: Int) { self.limit = limit }
    public func handle(_ request: Request, context: Context, next: Responder<Context>) throws -> Response {
        let declared = request.headerFields.value(of: .contentLength).flatMap { Int($0) } ?? 0
        if declared > limit || request.body.count > limit {
            throw HTTPError(.contentTooLarge, detail: "Request body too large")
        }
        return try next(request, context)
    }
}
