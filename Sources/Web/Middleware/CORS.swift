import HTTPTypes

/// CORS from configuration: a preflight from an allowed origin is answered 204 with the
/// Access-Control-Allow-* headers and Max-Age; other answers to allowed origins carry
/// Access-Control-Allow-Origin; other origins get no CORS headers at all.
public struct CORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let config: CORSConfiguration
    public init(_ config: CORSConfiguration) { self.config = config }

    public func handle(_ request: Request, context: Context, next: Responder<Context>) throws -> Response {
        guard let origin = request.headerFields.value(of: .origin), config.allows(origin) else { return try next(request, context) }
        if request.method == .options, request.headerFields[.accessControlRequestMethod] != nil {
            var fields = HTTPFields()
            fields[.accessControlAllowOrigin] = origin
            fields[.accessControlAllowMethods] = config.allowedMethods.joined(separator: ", ")
            fields[.accessControlAllowHeaders] = config.allowedHeaders.joined(separator: ", ")
            fields[.accessControlMaxAge] = String(config.maxAge)
            fields[.vary] = "Origin"
            return Response(status: .noContent, headerFields: fields)
        }
        var response = try next(request, context)
        response.headerFields[.accessControlAllowOrigin] = origin
        if !config.exposedHeaders.isEmpty {
            response.headerFields[.accessControlExposeHeaders] = config.exposedHeaders.joined(separator: ", ")
        }
        response.headerFields.append(HTTPField(name: .vary, value: "Origin"))
        return response
    }
}
