/// The HTML of /docs (Swagger UI) and /redoc (ReDoc), as FastAPI's get_swagger_ui_html and get_redoc_html
/// write them, with configurable asset URLs, Subresource Integrity on pinned assets, and a Content-Security-Policy
/// for each page (`swaggerUIPolicy`, `redocPolicy`).
public enum DocsPages {
    /// Swagger UI's start-up script. Constant (the OpenAPI URL comes from the page, `data-url`) so the policy can
    /// allow exactly this inline script by its hash, `swaggerInitHash` (a test recomputes it).
    static let swaggerInit = """

        const ui = SwaggerUIBundle({
            url: document.getElementById('swagger-ui').dataset.url,
            "dom_id": "#swagger-ui",
            "layout": "BaseLayout",
            "deepLinking": true,
            "showExtensions": true,
            "showCommonExtensions": true,
            presets: [
                SwaggerUIBundle.presets.apis,
                SwaggerUIBundle.SwaggerUIStandalonePreset
            ],
        })

        """
    /// base64(SHA-256(swaggerInit)), as CSP's 'sha256-…' source wants it.
    static let swaggerInitHash = "ctKXeKyk7cFz55vchyCuPKD4Q5YIgnXkE4qbm2B7DRQ="

    public static func swaggerUI(title: String, openAPIURL: String, config: DocsConfiguration) -> String {
        """
        <!DOCTYPE html>
        <html>
        <head>
        <link type="text/css" rel="stylesheet" href="\(htmlEscaped(config.swaggerCSSURL))"\(integrity(config.swaggerCSSIntegrity))>
        <link rel="shortcut icon" href="\(htmlEscaped(config.faviconURL))">
        <title>\(htmlEscaped(title)) - Swagger UI</title>
        </head>
        <body>
        <div id="swagger-ui" data-url="\(htmlEscaped(openAPIURL))">
        </div>
        <script src="\(htmlEscaped(config.swaggerJSURL))"\(integrity(config.swaggerJSIntegrity))></script>
        <!-- `SwaggerUIBundle` is now available on the page -->
        <script>\(swaggerInit)</script>
        </body>
        </html>
        """
    }

    /// Scripts only from the asset host plus the start-up script's hash; styles from the asset host and inline (Swagger
    /// UI sets element styles); the spec and the token request to this origin only; no framing, no forms, no base.
    public static func swaggerUIPolicy(_ config: DocsConfiguration) -> String {
        "default-src 'none'; script-src \(origin(config.swaggerJSURL)) 'sha256-\(swaggerInitHash)'; "
            + "style-src \(origin(config.swaggerCSSURL)) 'unsafe-inline'; img-src 'self' data: \(origin(config.faviconURL)); "
            + "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }

    /// ReDoc: its script from the asset host, its styles inline (styled-components), its search in a blob: worker.
    public static func redocPolicy(_ config: DocsConfiguration) -> String {
        "default-src 'none'; script-src \(origin(config.redocJSURL)); style-src 'unsafe-inline'; "
            + "img-src 'self' data: \(origin(config.faviconURL)); font-src 'self' data:; connect-src 'self'; worker-src blob:; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }

    /// The CSP source for an asset URL: its scheme and host when absolute, this origin when relative.
    static func origin(_ url: String) -> String {
        let parts = url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].hasSuffix(":"), parts[1].isEmpty else { return "'self'" }
        let host = parts[2].prefix { $0 != "?" && $0 != "#" }
        return "\(parts[0])//\(host)"
    }

    /// ` integrity="…" crossorigin="anonymous"` for a pinned asset, nothing for one without a hash.
    static func integrity(_ hash: String?) -> String {
        hash.map { " integrity=\"\(htmlEscaped($0))\" crossorigin=\"anonymous\"" } ?? ""
    }

    public static func redoc(title: String, openAPIURL: String, config: DocsConfiguration) -> String {
        """
        <!DOCTYPE html>
        <html>
        <head>
        <title>\(htmlEscaped(title)) - ReDoc</title>
        <!-- needed for adaptive design -->
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="shortcut icon" href="\(htmlEscaped(config.faviconURL))">
        <!--
        ReDoc doesn't change outer page styles
        -->
        <style>
          body {
            margin: 0;
            padding: 0;
          }
        </style>
        </head>
        <body>
        <noscript>
            ReDoc requires Javascript to function. Please enable it to browse the documentation.
        </noscript>
        <redoc spec-url="\(htmlEscaped(openAPIURL))"></redoc>
        <script src="\(htmlEscaped(config.redocJSURL))"\(integrity(config.redocJSIntegrity))> </script>
        </body>
        </html>
        """
    }
}

/// Text made safe inside HTML: element content, a quoted attribute, or a single-quoted JS string in a page.
/// (The docs pages and the HTML part of the app's mails use it.)
public func htmlEscaped(_ text: String) -> String {
    var out = ""
    for c in text {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}
