import HTTPTypes
import Logging

/// The whole web stack for one app: resolves the request id, makes the app's context, runs the fixed
/// middleware (request id, access log, security headers, CORS, error mapping, body limit, then the app's
/// own global middleware) and the router. Error mapping sits inside CORS and security headers so error
/// answers carry their headers too. `respond` never throws: the FastCGI bridge and the test client call it.
public final class Application<Context: RequestContext> {
    public let router: Router<Context>
    public let configuration: WebConfiguration
    /// The OpenAPI document and its encoded bytes, generated on first use (a pool worker that is never
    /// asked for /openapi.json never runs the generator, nor maps its code).
    public var openAPIDocument: JSONValue { openAPI.document }
    public var openAPIBytes: [UInt8] { openAPI.bytes }
    private let openAPI: OpenAPICache
    private let logger: Logger
    private let makeContext: (Request, String, Logger) -> Context
    /// Called directly (not through the chain's closures and existentials), so that it is compiled for the
    /// app's context and its steps can be inlined.
    private let fixed: FixedMiddleware<Context>
    /// The app's own middleware and the router.
    private var responder: Responder<Context>!

    public init(
        router: Router<Context>, configuration: WebConfiguration = WebConfiguration(), logger: Logger,
        middleware: [any RouterMiddleware<Context>] = [],
        makeContext: @escaping (_ request: Request, _ requestID: String, _ logger: Logger) -> Context
    ) {
        self.router = router
        self.configuration = configuration
        self.logger = logger
        self.makeContext = makeContext
        openAPI = OpenAPICache { [routes = router.routes, info = configuration.openAPI] in OpenAPIGenerator.document(routes: routes, info: info) }
        fixed = FixedMiddleware(
            securityHeaders: SecurityHeadersMiddleware { [router] in router.isSensitive($0) },
            cors: CORSMiddleware(configuration.cors),
            queueLimit: QueueLimitMiddleware(maxMillis: configuration.maxQueueMillis),
            bodyLimit: BodyLimitMiddleware(limit: configuration.maxBodySize))
        if configuration.docs.enabled { registerDocs() }
        responder = chain(middleware) { [router] in try router.respond($0, context: $1) }
    }

    public func respond(to request: Request) -> Response {
        respond(to: request, requestID: RequestID.resolve(request))
    }

    /// For a caller that already resolved the request id (`RequestID.resolve`), which spares a second header
    /// lookup and check per request.
    public func respond(to request: Request, requestID id: String) -> Response {
        var requestLogger = logger
        requestLogger[metadataKey: "request_id"] = .string(id)
        let context = makeContext(request, id, requestLogger)
        do {
            return try fixed.handle(request, context: context, next: responder)
        } catch {
            // Only reachable if a middleware outside error mapping throws; still never leak anything.
            requestLogger.error("unhandled error outside error mapping", metadata: ["error": "\(String(reflecting: error))"])
            var r = HTTPError.internalServerError.response
            r.headerFields[.xRequestID] = id
            r.headerFields[.xContentTypeOptions] = "nosniff"
            return r
        }
    }

    private func registerDocs() {
        let docs = configuration.docs
        let hidden = RouteDoc(includeInSchema: false)
        let openAPI = self.openAPI
        let title = configuration.openAPI.title
        router.get(docs.openAPIPath, hidden) { _, _ in
            Response(status: .ok, headerFields: [.contentType: Response.jsonContentType], body: openAPI.bytes)
        }
        let policy = HTTPField.Name("Content-Security-Policy")!
        var swagger = Response.html(DocsPages.swaggerUI(title: title, openAPIURL: docs.openAPIPath, config: docs))
        swagger.headerFields[policy] = DocsPages.swaggerUIPolicy(docs)
        router.get(docs.swaggerPath, hidden) { _, _ in swagger }
        var redoc = Response.html(DocsPages.redoc(title: title, openAPIURL: docs.openAPIPath, config: docs))
        redoc.headerFields[policy] = DocsPages.redocPolicy(docs)
        router.get(docs.redocPath, hidden) { _, _ in redoc }
        for (name, asset) in docs.assets {
            let file = Response(
                status: .ok,
                headerFields: [.contentType: asset.contentType, .cacheControl: "public, max-age=86400"], body: asset.bytes)
            router.get(DocsConfiguration.assetsPath + "/" + name, hidden) { _, _ in file }
        }
    }
}

/// The fixed middleware, outermost first, as one step: each link of the chain is an escaping closure called
/// through the protocol, and cost about 300 instructions a request in calls and copies of the request and
/// context. Here each passes a closure literal to the next one's `handle`, which the compiler can inline.
struct FixedMiddleware<Context: RequestContext>: RouterMiddleware {
    let requestID = RequestIDMiddleware<Context>()
    let accessLog = AccessLogMiddleware<Context>()
    let securityHeaders: SecurityHeadersMiddleware<Context>
    let cors: CORSMiddleware<Context>
    let errors = ErrorMiddleware<Context>()
    let queueLimit: QueueLimitMiddleware<Context>
    let bodyLimit: BodyLimitMiddleware<Context>

    func handle(_ request: Request, context: Context, next: Responder<Context>) throws -> Response {
        try requestID.handle(request, context: context) { request, context in
            try accessLog.handle(request, context: context) { request, context in
                try securityHeaders.handle(request, context: context) { request, context in
                    try cors.handle(request, context: context) { request, context in
                        try errors.handle(request, context: context) { request, context in
                            try queueLimit.handle(request, context: context) { request, context in
                                try bodyLimit.handle(request, context: context, next: next)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The document generated once, when first asked for, from the routes as they were at start-up.
final class OpenAPICache {
    private let make: () -> JSONValue
    private(set) lazy var document: JSONValue = make()
    private(set) lazy var bytes: [UInt8] = document.encoded()
    init(_ make: @escaping () -> JSONValue) { self.make = make }
}
