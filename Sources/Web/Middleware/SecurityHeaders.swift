/// `X-Content-Type-Options: nosniff` on every answer; `Cache-Control: no-store` on answers to requests
/// carrying Authorization and on routes flagged sensitive (API.md: /api/v1/auth).
public struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let isSensitive: (Request) -> Bool
    public init(isSensitive: @escaping (Request) -> Bool = { _ in false }) { self.isSensitive = isSensitive }

    public func handle(_ request: Request, context: Context, next: Responder<Context>) throws -> Response {
        var response = try next(request, context)
        // One copy of a shared response's fields, with room for this header, Cache-Control and the request id
        // added on the way out, instead of a copy and then growth at each.
        response.headerFields.reserveCapacity(response.headerFields.count + 3)
        response.headerFields.set(.noSniff)
        if request.headerFields.contains(.authorization) || (response.route?.sensitive ?? isSensitive(request)) {
            response.headerFields.set(.noStore)
        }
        return response
    }
}
