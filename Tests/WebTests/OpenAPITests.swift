import Foundation
import HTTPTypes
import Sodium
import TestSupport
import Testing
import Web

@Suite struct OpenAPITests {
    let app = makeDemoApp()

    func python(_ arguments: [String]) throws -> (Int32, String) {
        let result = try run(["/usr/bin/env", "python3"] + arguments)
        return (result.status, result.output)
    }

    @Test func documentValidatesAsOpenAPI31() throws {
        let (importStatus, importOut) = try python(["-c", "import openapi_spec_validator"])
        try #require(importStatus == 0, "python3 module openapi_spec_validator is missing: run `pip install openapi-spec-validator` (\(importOut))")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("perch-openapi-\(UUID().uuidString).json")
        try Data(app.openAPIBytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, out) = try python(["-m", "openapi_spec_validator", file.path])
        #expect(status == 0, "openapi-spec-validator: \(out)")
        #expect(out.contains("OK"))
    }

    @Test func servedOnceAndIdentical() throws {
        let client = InProcessTestClient(app)
        let r = try client.get("/openapi.json")
        #expect(r.status == .ok)
        #expect(r.headers[.contentType] == "application/json; charset=utf-8")
        #expect(r.body == app.openAPIBytes)
        #expect(try r.json() == app.openAPIDocument)
    }

    @Test func holdsEveryRouteWithConstraints() throws {
        let doc = app.openAPIDocument
        #expect(doc["openapi"] == "3.1.0")
        let paths = try #require(doc["paths"])
        let expected: [(String, [String])] = [
            ("/api/v1/health", ["get"]), ("/api/v1/users", ["post"]), ("/api/v1/users/me", ["get"]), ("/api/v1/users/me/password", ["post"]),
            ("/api/v1/users/{id}", ["get"]), ("/api/v1/users/{id}/posts", ["get"]), ("/api/v1/auth/login", ["post"]),
            ("/api/v1/posts", ["get"]), ("/api/v1/posts/{id}", ["get", "put", "delete"]), ("/api/v1/widgets", ["post"]),
            ("/api/v1/search", ["get"]), ("/files/{name}", ["get"]), ("/files/static", ["get"]), ("/admin/stats", ["get"])
        ]
        #expect(paths.objectValue?.map(\.0).sorted() == expected.map(\.0).sorted())
        for (path, methods) in expected {
            #expect(paths[path]?.objectValue?.map(\.0).sorted() == methods.sorted(), "\(path)")
        }
        #expect(paths["/boom"] == nil && paths["/docs"] == nil && paths["/openapi.json"] == nil)

        let schemas = try #require(doc["components"]?["schemas"])
        let userCreate = try #require(schemas["UserCreate"])
        #expect(userCreate["required"] == ["email", "password"])
        #expect(userCreate["additionalProperties"] == false)
        #expect(userCreate["properties"]?["email"] == ["type": "string", "maxLength": 254, "format": "email", "title": "Email", "description": "Login email"])
        #expect(
            userCreate["properties"]?["password"] == [
                "type": "string", "minLength": 8, "maxLength": 128, "format": "password", "writeOnly": true, "title": "Password"
            ])
        #expect(
            userCreate["properties"]?["full_name"] == ["anyOf": [["type": "string", "maxLength": 100], ["type": "null"]], "title": "Full Name", "default": nil])
        #expect(userCreate["examples"]?[0]?["email"] == "ada@example.com")
        #expect(schemas["PostCreate"]?["properties"]?["published"]?["default"] == false)
        #expect(schemas["PostCreate"]?["properties"]?["title"]?["minLength"] == 1)
        #expect(
            schemas["Widget"]?["properties"]?["tags"] == [
                "type": "array", "items": ["type": "string", "maxLength": 5], "maxItems": 3, "title": "Tags", "default": []
            ])
        #expect(schemas["Widget"]?["properties"]?["kind"]?["enum"] == ["a", "b"])
        #expect(schemas["PostPublic"]?["properties"]?["author"]?["$ref"] == "#/components/schemas/Author")
        #expect(schemas["UserPublic"]?["required"] == ["id", "email", "full_name", "is_active", "created_at"])
        #expect(schemas["UserPublic"]?["properties"]?["created_at"]?["format"] == "date-time")
        #expect(schemas["HTTPValidationError"] != nil && schemas["ValidationError"] != nil && schemas["HTTPError"] != nil)

        let signUp = try #require(paths["/api/v1/users"]?["post"])
        #expect(signUp["tags"] == ["users"])
        #expect(signUp["summary"] == "Sign up")
        #expect(signUp["operationId"] == "post_api_v1_users")
        #expect(signUp["security"] == nil)
        #expect(signUp["requestBody"]?["content"]?["application/json"]?["schema"] == ["$ref": "#/components/schemas/UserCreate"])
        #expect(signUp["responses"]?["201"]?["content"]?["application/json"]?["schema"] == ["$ref": "#/components/schemas/UserPublic"])
        #expect(signUp["responses"]?["201"]?["headers"]?["Location"] != nil)
        #expect(signUp["responses"]?["409"]?["content"]?["application/json"]?["schema"] == ["$ref": "#/components/schemas/HTTPError"])
        #expect(signUp["responses"]?["422"]?["content"]?["application/json"]?["schema"] == ["$ref": "#/components/schemas/HTTPValidationError"])
        #expect(signUp["responses"]?["415"] != nil && signUp["responses"]?["413"] != nil)

        let me = try #require(paths["/api/v1/users/me"]?["get"])
        #expect(me["security"] == [["OAuth2PasswordBearer": []], ["HTTPBearer": []]])
        #expect(me["responses"]?["401"] != nil)

        let user = try #require(paths["/api/v1/users/{id}"]?["get"])
        #expect(
            user["parameters"] == [
                [
                    "name": "id", "in": "path", "required": true,
                    "schema": ["type": "integer", "exclusiveMinimum": 0, "title": "Id"], "description": "The user id"
                ]
            ])
        #expect(user["responses"]?["404"] != nil)

        let list = try #require(paths["/api/v1/posts"]?["get"])
        let params = try #require(list["parameters"]?.arrayValue)
        #expect(params.map { $0["name"]! } == ["limit", "cursor", "author_id"])
        #expect(params[0]["in"] == "query" && params[0]["required"] == false)
        #expect(params[0]["schema"] == ["type": "integer", "minimum": 1, "maximum": 100, "title": "Limit", "description": "Page size", "default": 20])
        #expect(params[2]["schema"]?["anyOf"]?[0] == ["type": "integer", "exclusiveMinimum": 0])

        let login = try #require(paths["/api/v1/auth/login"]?["post"])
        #expect(login["requestBody"]?["content"]?["application/x-www-form-urlencoded"]?["schema"] == ["$ref": "#/components/schemas/LoginForm"])
        #expect(login["tags"] == ["auth"])

        #expect(paths["/api/v1/posts/{id}"]?["get"]?["security"]?.arrayValue?.count == 3)
        #expect(paths["/api/v1/posts/{id}"]?["get"]?["responses"]?["304"] != nil)
        #expect(paths["/api/v1/health"]?["get"]?["responses"]?["200"]?["content"]?["application/json"]?["example"] == ["status": "ok"])

        let schemes = try #require(doc["components"]?["securitySchemes"])
        #expect(schemes["OAuth2PasswordBearer"]?["flows"]?["password"]?["tokenUrl"] == "/api/v1/auth/login")
        #expect(schemes["HTTPBearer"] == ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"])
    }

    @Test func docsPagesPointAtOpenAPI() throws {
        let client = InProcessTestClient(app)
        let docs = try client.get("/docs")
        #expect(docs.status == .ok)
        #expect(docs.headers[.contentType] == "text/html; charset=utf-8")
        #expect(docs.text.contains(#"<div id="swagger-ui" data-url="/openapi.json">"#))
        #expect(docs.text.contains("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.33.1/swagger-ui-bundle.js"))
        #expect(docs.text.contains("SwaggerUIBundle"))
        let redoc = try client.get("/redoc")
        #expect(redoc.status == .ok)
        #expect(redoc.text.contains("<redoc spec-url=\"/openapi.json\"></redoc>"))
        #expect(redoc.text.contains("redoc.standalone.js"))
    }

    @Test func assetURLsConfigurable() throws {
        let client = demoClient(WebConfiguration(docs: .local(base: "/static/docs")))
        #expect(try client.get("/docs").text.contains("src=\"/static/docs/swagger-ui-bundle.js\""))
        #expect(try client.get("/docs").text.contains("href=\"/static/docs/swagger-ui.css\""))
        #expect(try client.get("/redoc").text.contains("src=\"/static/docs/redoc.standalone.js\""))
        #expect(try demoClient(WebConfiguration(docs: DocsConfiguration(enabled: false))).get("/docs").status == .notFound)
        // Local copies carry no hashes (whatever version the operator installed), and the policy allows this origin.
        let local = try client.get("/docs")
        #expect(!local.text.contains("integrity="))
        #expect(local.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self' 'sha256-") == true)
    }

    /// /docs and /redoc load exact versions with Subresource Integrity (the hashes are sha384 of those versions'
    /// files, see DocsConfiguration), and each page has a Content-Security-Policy that allows its inline script by hash.
    @Test func docsPinAssetsWithIntegrityAndAPolicy() throws {
        let client = InProcessTestClient(app)
        let csp = HTTPField.Name("Content-Security-Policy")!
        let docs = try client.get("/docs")
        #expect(
            docs.text.contains(
                #"<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.33.1/swagger-ui-bundle.js" integrity="sha384-ZPehFMQommnnuaZ4rpxgkgTT2DKFVp4hZC/7pLit+9Lek9T1YGSo23eHFbvNkXkw" crossorigin="anonymous"></script>"#
            ))
        #expect(
            docs.text.contains(
                #"<link type="text/css" rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.33.1/swagger-ui.css" integrity="sha384-Ov4/wv3j2bmct8cDc5X4ngJZohVPzEmc6uDPH8WeljUxO5vtoykvMEfbu9Vh6RaW" crossorigin="anonymous">"#
            ))
        #expect(!docs.text.contains("@5/"))
        let inline = try #require(docs.text.components(separatedBy: "<script>").last?.components(separatedBy: "</script>").first)
        let inlineHash = Data(sha256(Array(inline.utf8))).base64EncodedString()
        let docsPolicy = try #require(docs.headers[csp])
        #expect(docsPolicy.hasPrefix("default-src 'none'; script-src https://cdn.jsdelivr.net 'sha256-\(inlineHash)'; "), "\(docsPolicy)")
        #expect(docsPolicy.contains("connect-src 'self'") && docsPolicy.contains("frame-ancestors 'none'") && !docsPolicy.contains("unsafe-eval"))
        let redoc = try client.get("/redoc")
        #expect(
            redoc.text.contains(
                #"<script src="https://cdn.jsdelivr.net/npm/redoc@2.5.4/bundles/redoc.standalone.js" integrity="sha384-w447zOpYfw/1Tv/5AK9NfHTlQIqE3RVR6KY62jCyy9zNDgO64cMwGGP1Fj0zJVf5" crossorigin="anonymous"> </script>"#
            ))
        let redocPolicy = try #require(redoc.headers[csp])
        #expect(redocPolicy.hasPrefix("default-src 'none'; script-src https://cdn.jsdelivr.net; "), "\(redocPolicy)")
        #expect(redocPolicy.contains("worker-src blob:") && !redocPolicy.contains("unsafe-eval"))
        #expect(try client.get("/openapi.json").headers[csp] == nil)
    }
}
