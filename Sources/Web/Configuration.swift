/// The web layer's knobs; the app fills them from its environment configuration.
public struct WebConfiguration: Sendable {
    /// Largest accepted body (API.md: 1 MiB by default).
    public var maxBodySize: Int
    public var cors: CORSConfiguration
    public var docs: DocsConfiguration
    public var openAPI: OpenAPIInfo
    /// A request that waited longer than this for a worker gets a fast 503 (QueueLimitMiddleware); 0: never.
    public var maxQueueMillis: Int

    public init(maxBodySize: Int = 1 << 20, cors: CORSConfiguration = CORSConfiguration(), docs: DocsConfiguration = DocsConfiguration(),
                openAPI: OpenAPIInfo = OpenAPIInfo(), maxQueueMillis: Int = 0) {
        self.maxBodySize = maxBodySize; self.cors = cors; self.docs = docs; self.openAPI = openAPI
        self.maxQueueMillis = maxQueueMillis
    }
}

public struct CORSConfiguration: Sendable {
    /// Exact origins (`https://app.example.com`); `*` allows any. None by default.
    public var allowedOrigins: [String]
    public var allowedMethods: [String]
    public var allowedHeaders: [String]
    public var exposedHeaders: [String]
    public var maxAge: Int

    public init(allowedOrigins: [String] = [], allowedMethods: [String] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                allowedHeaders: [String] = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "X-Request-ID"],
                exposedHeaders: [String] = ["ETag", "Location", "Retry-After", "X-Request-ID"], maxAge: Int = 600) {
        self.allowedOrigins = allowedOrigins; self.allowedMethods = allowedMethods; self.allowedHeaders = allowedHeaders
        self.exposedHeaders = exposedHeaders; self.maxAge = maxAge
    }

    func allows(_ origin: String) -> Bool { allowedOrigins.contains(origin) || allowedOrigins.contains("*") }
}

/// Where /docs and /redoc load their assets from (FastAPI's CDN by default; point at local copies offline).
public struct DocsConfiguration: Sendable {
    public var enabled: Bool
    public var openAPIPath: String
    public var swaggerPath: String
    public var redocPath: String
    public var swaggerJSURL: String
    public var swaggerCSSURL: String
    public var redocJSURL: String
    public var faviconURL: String

    public init(enabled: Bool = true, openAPIPath: String = "/openapi.json", swaggerPath: String = "/docs", redocPath: String = "/redoc",
                swaggerJSURL: String = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js",
                swaggerCSSURL: String = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css",
                redocJSURL: String = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js",
                faviconURL: String = "https://fastapi.tiangolo.com/img/favicon.png") {
        self.enabled = enabled; self.openAPIPath = openAPIPath; self.swaggerPath = swaggerPath; self.redocPath = redocPath
        self.swaggerJSURL = swaggerJSURL; self.swaggerCSSURL = swaggerCSSURL; self.redocJSURL = redocJSURL; self.faviconURL = faviconURL
    }

    /// Asset URLs under one base (e.g. "/static"): swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js, favicon.png.
    public static func local(base: String) -> DocsConfiguration {
        DocsConfiguration(swaggerJSURL: base + "/swagger-ui-bundle.js", swaggerCSSURL: base + "/swagger-ui.css",
                          redocJSURL: base + "/redoc.standalone.js", faviconURL: base + "/favicon.png")
    }
}

public struct OpenAPIInfo: Sendable {
    public var title: String
    public var version: String
    public var description: String?
    /// The OAuth2 password flow's token URL (API.md's login route).
    public var tokenURL: String

    public init(title: String = "perch", version: String = "0.1.0", description: String? = nil, tokenURL: String = "/api/v1/auth/login") {
        self.title = title; self.version = version; self.description = description; self.tokenURL = tokenURL
    }
}
