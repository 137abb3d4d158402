/// The web layer's knobs; the app fills them from its environment configuration.
public struct WebConfiguration: Sendable {
    /// Largest accepted body (API.md: 1 MiB by default).
    public var maxBodySize: Int
    public var cors: CORSConfiguration
    public var docs: DocsConfiguration
    public var openAPI: OpenAPIInfo
    /// A request that waited longer than this for a worker gets a fast 503 (QueueLimitMiddleware); 0: never.
    public var maxQueueMillis: Int

    public init(
        maxBodySize: Int = 1 << 20, cors: CORSConfiguration = CORSConfiguration(), docs: DocsConfiguration = DocsConfiguration(),
        openAPI: OpenAPIInfo = OpenAPIInfo(), maxQueueMillis: Int = 0
    ) {
        self.maxBodySize = maxBodySize
        self.cors = cors
        self.docs = docs
        self.openAPI = openAPI
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

    public init(
        allowedOrigins: [String] = [], allowedMethods: [String] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allowedHeaders: [String] = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "X-Request-ID"],
        exposedHeaders: [String] = ["ETag", "Location", "Retry-After", "X-Request-ID"], maxAge: Int = 600
    ) {
        self.allowedOrigins = allowedOrigins
        self.allowedMethods = allowedMethods
        self.allowedHeaders = allowedHeaders
        self.exposedHeaders = exposedHeaders
        self.maxAge = maxAge
    }

    func allows(_ origin: String) -> Bool { allowedOrigins.contains(origin) || allowedOrigins.contains("*") }
}

/// Where /docs and /redoc load their assets from: by default exact versions on jsDelivr, each with its Subresource
/// Integrity hash (the browser refuses a file that differs); point at local copies offline (no hashes then).
///
/// The hashes are sha384 of the very files of those versions. To pin new versions, take the files from the npm
/// packages (or PyPI's drf-spectacular-sidecar, which ships both; its METADATA names the versions) and run
/// `openssl dgst -sha384 -binary <file> | openssl base64 -A` on swagger-ui-bundle.js, swagger-ui.css and
/// redoc.standalone.js; deploy/README.md has the steps.
public struct DocsConfiguration: Sendable {
    public static let swaggerUIVersion = "5.33.1"
    public static let redocVersion = "2.5.4"
    public static let swaggerBase = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@\(swaggerUIVersion)"

    public var enabled: Bool
    public var openAPIPath: String
    public var swaggerPath: String
    public var redocPath: String
    public var swaggerJSURL: String
    public var swaggerCSSURL: String
    public var redocJSURL: String
    public var faviconURL: String
    /// `integrity` values ("sha384-…") for the three assets; nil loads the asset without a check.
    public var swaggerJSIntegrity: String?
    public var swaggerCSSIntegrity: String?
    public var redocJSIntegrity: String?
    /// Files this application serves itself under `assetsPath` (name → file), e.g. the pinned copies in
    /// /usr/share/perch/docs-assets; empty when the pages load their assets from elsewhere.
    public var assets: [String: DocsAsset] = [:]
    public static let assetsPath = "/docs-assets"
    /// The files `bundled(_:)` needs; favicon.png is served when present.
    public static let assetNames = ["swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"]

    public init(
        enabled: Bool = true, openAPIPath: String = "/openapi.json", swaggerPath: String = "/docs", redocPath: String = "/redoc",
        swaggerJSURL: String = swaggerBase + "/swagger-ui-bundle.js",
        swaggerCSSURL: String = swaggerBase + "/swagger-ui.css",
        redocJSURL: String = "https://cdn.jsdelivr.net/npm/redoc@\(redocVersion)/bundles/redoc.standalone.js",
        faviconURL: String = "https://fastapi.tiangolo.com/img/favicon.png",
        swaggerJSIntegrity: String? = "sha384-ZPehFMQommnnuaZ4rpxgkgTT2DKFVp4hZC/7pLit+9Lek9T1YGSo23eHFbvNkXkw",
        swaggerCSSIntegrity: String? = "sha384-Ov4/wv3j2bmct8cDc5X4ngJZohVPzEmc6uDPH8WeljUxO5vtoykvMEfbu9Vh6RaW",
        redocJSIntegrity: String? = "sha384-w447zOpYfw/1Tv/5AK9NfHTlQIqE3RVR6KY62jCyy9zNDgO64cMwGGP1Fj0zJVf5"
    ) {
        self.enabled = enabled
        self.openAPIPath = openAPIPath
        self.swaggerPath = swaggerPath
        self.redocPath = redocPath
        self.swaggerJSURL = swaggerJSURL
        self.swaggerCSSURL = swaggerCSSURL
        self.redocJSURL = redocJSURL
        self.faviconURL = faviconURL
        self.swaggerJSIntegrity = swaggerJSIntegrity
        self.swaggerCSSIntegrity = swaggerCSSIntegrity
        self.redocJSIntegrity = redocJSIntegrity
    }

    /// Asset URLs under one base (e.g. "/static"): swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js, favicon.png.
    /// No integrity hashes: the local copies are whatever version the operator installed.
    public static func local(base: String) -> DocsConfiguration {
        DocsConfiguration(
            swaggerJSURL: base + "/swagger-ui-bundle.js", swaggerCSSURL: base + "/swagger-ui.css",
            redocJSURL: base + "/redoc.standalone.js", faviconURL: base + "/favicon.png",
            swaggerJSIntegrity: nil, swaggerCSSIntegrity: nil, redocJSIntegrity: nil)
    }

    /// The pinned versions' files served by this application under `assetsPath` (offline, same origin), with the
    /// same integrity hashes as on the CDN: the files are byte for byte those versions (deploy/docs-assets.sh checks).
    public static func bundled(_ assets: [String: DocsAsset]) -> DocsConfiguration {
        let base = assetsPath
        var config = DocsConfiguration(
            swaggerJSURL: base + "/swagger-ui-bundle.js", swaggerCSSURL: base + "/swagger-ui.css",
            redocJSURL: base + "/redoc.standalone.js",
            faviconURL: assets["favicon.png"] == nil ? "data:," : base + "/favicon.png")
        config.assets = assets
        return config
    }
}

/// A static file of the docs pages, held in memory (read once at start, before the workers fork, so they share it).
public struct DocsAsset: Sendable {
    public var contentType: String
    public var bytes: [UInt8]
    public init(contentType: String, bytes: [UInt8]) {
        self.contentType = contentType
        self.bytes = bytes
    }

    /// The content type for a docs asset's file name.
    public static func contentType(for name: String) -> String {
        if name.hasSuffix(".js") { return "text/javascript; charset=utf-8" }
        if name.hasSuffix(".css") { return "text/css; charset=utf-8" }
        if name.hasSuffix(".png") { return "image/png" }
        return "application/octet-stream"
    }
}

public struct OpenAPIInfo: Sendable {
    public var title: String
    public var version: String
    public var description: String?
    /// The OAuth2 password flow's token URL (API.md's login route).
    public var tokenURL: String
    /// The OAuth2 scopes the password flow offers, each with its description, in the document's order.
    public var scopes: [(name: String, description: String)]

    public init(
        title: String = "perch", version: String = "0.1.0", description: String? = nil, tokenURL: String = "/api/v1/auth/login",
        scopes: [(name: String, description: String)] = []
    ) {
        self.title = title
        self.version = version
        self.description = description
        self.tokenURL = tokenURL
        self.scopes = scopes
    }
}
