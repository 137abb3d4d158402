import Foundation
import TestSupport
import Testing

/// /docs and /redoc rendered by a real browser (Debian's headless Chromium) with every host but this machine
/// unreachable: with the pinned assets installed (deploy/docs-assets.sh, as the package does) the rendered
/// page lists every operation of the OpenAPI document; with the CDN as the only source it lists none, which
/// shows that the browser really was offline.
@Suite(.serialized) struct DocsBrowserTests {
    /// The folder deploy/docs-assets.sh fills (its download is cached under .build, so this is quick on reruns).
    static func assetsDirectory() throws -> String {
        let directory = Paths.packageRoot + "/.build/docs-assets"
        let result = try run(["/bin/bash", Paths.packageRoot + "/deploy/docs-assets.sh", directory], seconds: 300)
        guard result.status == 0 else { throw SupportError("deploy/docs-assets.sh failed: \(result.output)") }
        return directory
    }

    /// The page's DOM after its scripts ran, as Chromium's --dump-dom prints it. Outside hosts are unreachable:
    /// every name but 127.0.0.1 resolves to nothing, and any connection but to loopback (which Chromium never proxies)
    /// goes to a proxy that refuses (port 9).
    static func renderedDOM(_ url: String) throws -> String {
        let profile = Paths.makeTemporaryDirectory("perch-chromium")
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let dom = profile + "/dom.html"
        let chromium = [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=\(profile)",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--proxy-server=http://127.0.0.1:9",
            "--virtual-time-budget=20000", "--dump-dom", url
        ]
        let quoted = chromium.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let result = try run(["/bin/sh", "-c", "\(quoted) > '\(dom)' 2> '\(profile)/stderr'"], seconds: 120)
        let text = (try? String(contentsOfFile: dom, encoding: .utf8)) ?? ""
        guard result.status == 0, !text.isEmpty else {
            let stderr = (try? String(contentsOfFile: profile + "/stderr", encoding: .utf8)) ?? ""
            throw SupportError("chromium failed (\(result.status)): \(stderr.suffix(2000))")
        }
        return text
    }

    /// Every operation of the document: (method, path, operationId).
    static func operations(_ app: TestApp) throws -> [(method: String, path: String, id: String)] {
        let response = try app.client().get("/openapi.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var found: [(String, String, String)] = []
        for (path, item) in paths {
            for (method, operation) in item {
                guard let operation = operation as? [String: Any], let id = operation["operationId"] as? String else { continue }
                found.append((method, path, id))
            }
        }
        return found.sorted { $0.2 < $1.2 }
    }

    @Test func swaggerUIAndReDocRenderEveryOperationOffline() throws {
        let app = try TestApp(.live, environment: ["PERCH_DOCS_ASSETS_DIR": try Self.assetsDirectory()])
        let port = try #require(app.livePort)
        let operations = try Self.operations(app)
        #expect(operations.count >= 15, "\(operations.count) operations")

        let swagger = try Self.renderedDOM("http://127.0.0.1:\(port)/docs")
        #expect(swagger.contains("class=\"swagger-ui\""), "Swagger UI did not render")
        for op in operations {
            // Swagger UI: one block per operation, its method in the class and its path in data-path.
            #expect(swagger.contains("opblock-\(op.method)") && swagger.contains("data-path=\"\(op.path)\""), "/docs lacks \(op.method) \(op.path)")
            #expect(swagger.contains(op.id), "/docs lacks \(op.id)")
        }

        let redoc = try Self.renderedDOM("http://127.0.0.1:\(port)/redoc")
        for op in operations {
            // ReDoc: a section per operation, named by its operationId.
            #expect(redoc.contains("operation/\(op.id)\""), "/redoc lacks \(op.id)")
        }
    }

    /// The negative control: with no local assets the pages point at the CDN, which this browser cannot reach.
    @Test func withoutLocalAssetsTheOfflineBrowserRendersNothing() throws {
        let app = try TestApp(.live)
        let port = try #require(app.livePort)
        let swagger = try Self.renderedDOM("http://127.0.0.1:\(port)/docs")
        #expect(swagger.contains("cdn.jsdelivr.net"))
        #expect(!swagger.contains("opblock-summary"), "Swagger UI rendered without its assets: the browser was not offline")
    }
}
