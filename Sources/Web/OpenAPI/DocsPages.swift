/// The HTML of /docs (Swagger UI) and /redoc (ReDoc), as FastAPI's get_swagger_ui_html and get_redoc_html
/// write them, with configurable asset URLs.
public enum DocsPages {
    public static func swaggerUI(title: String, openAPIURL: String, config: DocsConfiguration) -> String {
        """
        <!DOCTYPE html>
        <html>
        <head>
        <link type="text/css" rel="stylesheet" href="\(escape(config.swaggerCSSURL))">
        <link rel="shortcut icon" href="\(escape(config.faviconURL))">
        <title>\(escape(title)) - Swagger UI</title>
        </head>
        <body>
        <div id="swagger-ui">
        </div>
        <script src="\(escape(config.swaggerJSURL))"></script>
        <!-- `SwaggerUIBundle` is now available on the page -->
        <script>
        const ui = SwaggerUIBundle({
            url: '\(escape(openAPIURL))',
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
        </script>
        </body>
        </html>
        """
    }

    public static func redoc(title: String, openAPIURL: String, config: DocsConfiguration) -> String {
        """
        <!DOCTYPE html>
        <html>
        <head>
        <title>\(escape(title)) - ReDoc</title>
        <!-- needed for adaptive design -->
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="shortcut icon" href="\(escape(config.faviconURL))">
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
        <redoc spec-url="\(escape(openAPIURL))"></redoc>
        <script src="\(escape(config.redocJSURL))"> </script>
        </body>
        </html>
        """
    }

    /// Escapes text for an HTML attribute or a single-quoted JS string inside the page.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
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
}
