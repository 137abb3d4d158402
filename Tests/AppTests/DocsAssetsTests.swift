import App
import Foundation
import HTTPTypes
import TestSupport
import Testing
import Web

/// /docs and /redoc offline: the Swagger UI and ReDoc files in PERCH_DOCS_ASSETS_DIR are served by perch itself
/// and the pages point at them (with the pinned integrity hashes); a folder missing files, or no files with the
/// CDN fallback turned off, is a configuration problem. (DocsBrowserTests renders the pages in Chromium.)
@Suite struct DocsAssetsTests {
    static let base = ["PERCH_ENV": "development", "PERCH_JWT_SIGNING_KEY": String(repeating: "Q", count: 42) + "A"]

    static func folder(_ files: [String: String]) throws -> String {
        let directory = Paths.makeTemporaryDirectory("perch-docs-assets")
        for (name, text) in files { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
        return directory
    }

    static func problems(_ environment: [String: String]) -> [String] {
        do {
            _ = try AppConfiguration.load(environment: base.merging(environment) { $1 })
            return []
        } catch let error as AppConfigurationError {
            return error.problems
        } catch {
            return ["\(error)"]
        }
    }

    @Test func installedAssetsAreServedAndUsedWithTheirPinnedHashes() throws {
        let directory = try Self.folder([
            "swagger-ui-bundle.js": "var SwaggerUIBundle;", "swagger-ui.css": "body{}", "redoc.standalone.js": "var Redoc;"
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let app = try TestApp(environment: ["PERCH_DOCS_ASSETS_DIR": directory])
        let client = app.client()
        let docs = try client.get("/docs")
        #expect(docs.text.contains(#"<script src="/docs-assets/swagger-ui-bundle.js" integrity="sha384-"#))
        #expect(docs.text.contains(#"href="/docs-assets/swagger-ui.css" integrity="sha384-"#))
        #expect(!docs.text.contains("jsdelivr"))
        #expect(docs.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self' 'sha256-") == true)
        #expect(try client.get("/redoc").text.contains(#"<script src="/docs-assets/redoc.standalone.js" integrity="sha384-"#))
        let script = try client.get("/docs-assets/swagger-ui-bundle.js")
        #expect(script.status == .ok && script.text == "var SwaggerUIBundle;")
        #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
        #expect(try client.get("/docs-assets/swagger-ui.css").headers[.contentType] == "text/css; charset=utf-8")
        #expect(try client.get("/docs-assets/favicon.png").status == .notFound)
        #expect(try client.get("/docs-assets/../README.md").status == .notFound)
    }

    @Test func withoutInstalledAssetsTheCDNIsTheFallbackUnlessTurnedOff() throws {
        let empty = try Self.folder([:])
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let partial = try Self.folder(["swagger-ui.css": "body{}"])
        defer { try? FileManager.default.removeItem(atPath: partial) }
        // No PERCH_DOCS_ASSETS_DIR, and none beside the test binary: jsDelivr with SRI (the WebTests check the page).
        #expect(Self.problems([:]).isEmpty)
        #expect(Self.problems(["PERCH_DOCS_CDN_FALLBACK": "false"]).contains { $0.hasPrefix("PERCH_DOCS_CDN_FALLBACK=false: no Swagger UI") })
        #expect(Self.problems(["PERCH_DOCS_CDN_FALLBACK": "false", "PERCH_DOCS": "false"]).isEmpty)
        #expect(Self.problems(["PERCH_DOCS_ASSETS_DIR": empty]).contains { $0.hasPrefix("PERCH_DOCS_ASSETS_DIR: no Swagger UI") })
        #expect(Self.problems(["PERCH_DOCS_ASSETS_DIR": partial]).contains { $0.contains("lacks swagger-ui-bundle.js, redoc.standalone.js") })
        #expect(Self.problems(["PERCH_DOCS_ASSETS_DIR": empty, "PERCH_DOCS_ASSETS_URL": "/static"]).isEmpty)
    }
}
