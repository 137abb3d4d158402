import Foundation
import Testing
import TestSupport
import Web

@Suite struct OpenAPITests {
    let app = makeDemoApp()

    func python(_ arguments: [String]) throws -> (Int32, String) {
        try Subprocess.run((["python3"] + arguments).map { "'\($0)'" }.joined(separator: " "))
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
            ("/api/v1/search", ["get"]), ("/files/{name}", ["get"]), ("/files/static", ["get"]), ("/admin/stats", ["get"]),
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
        #expect(userCreate["properties"]?["password"] == ["type": "string", "minLength": 8, "maxLength": 128, "format": "password", "writeOnly": true, "title": "Password"])
        #expect(userCreate["properties"]?["full_name"] == ["anyOf": [["type": "string", "maxLength": 100], ["type": "null"]], "title": "Full Name", "default": nil])
        #expect(userCreate["examples"]?[0]?["email"] == "ada@example.com")
        #expect(schemas["PostCreate"]?["properties"]?["published"]?["default"] == false)
        #expect(schemas["PostCreate"]?["properties"]?["title"]?["minLength"] == 1)
        #expect(schemas["Widget"]?["properties"]?["tags"] == ["type": "array", "items": ["type": "string", "maxLength": 5], "maxItems": 3, "title": "Tags", "default": []])
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
        #expect(user["parameters"] == [["name": "id", "in": "path", "required": true,
                                        "schema": ["type": "integer", "exclusiveMinimum": 0, "title": "Id"], "description": "The user id"]])
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
        #expect(docs.text.contains("url: '/openapi.json'"))
        #expect(docs.text.contains("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"))
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
    }
}
