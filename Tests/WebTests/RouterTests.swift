import HTTPTypes
import TestSupport
import Testing
import Web

@Suite struct RouterTests {
    let client = demoClient()

    @Test func typedPathParameter() throws {
        let r = try client.get("/api/v1/users/42", headers: [.authorization: "Bearer t"])
        #expect(r.status == .ok)
        #expect(try r.json() == ["id": 42])
    }

    @Test func nonIntegerIdIs422IntParsing() throws {
        let r = try client.get("/api/v1/users/abc", headers: [.authorization: "Bearer t"])
        #expect(r.status == .unprocessableContent)
        #expect(
            try r.json() == [
                "detail": [
                    [
                        "type": "int_parsing", "loc": ["path", "id"],
                        "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "abc"
                    ]
                ]
            ])
    }

    @Test func nonPositiveIdIs422GreaterThan() throws {
        let r = try client.get("/api/v1/users/0", headers: [.authorization: "Bearer t"])
        #expect(r.status == .unprocessableContent)
        let issue = try #require(try r.json()["detail"]?[0])
        #expect(issue["type"] == "greater_than")
        #expect(issue["loc"] == ["path", "id"])
        #expect(issue["ctx"] == ["gt": 0])
    }

    @Test func hugeIdIs422() throws {
        let r = try client.get("/api/v1/users/99999999999999999999999", headers: [.authorization: "Bearer t"])
        #expect(r.status == .unprocessableContent)
        #expect(try r.json()["detail"]?[0]?["type"] == "int_parsing_size")
    }

    /// Plain digits take a shortcut (up to 18 of them); anything else the general parse: both agree on the edges.
    @Test(arguments: [
        ("007", "7"), ("+5", "5"), ("123456789012345678", "123456789012345678"), ("9223372036854775807", "9223372036854775807"),
        ("00000000000000000042", "42"), ("-3", "greater_than"), ("0", "greater_than"), ("000", "greater_than"), ("4a", "int_parsing"),
        ("a4", "int_parsing"), ("9223372036854775808", "int_parsing_size")
    ])
    func idSpellings(segment: String, expected: String) throws {
        let r = try client.get("/api/v1/users/\(segment)", headers: [.authorization: "Bearer t"])
        if let id = Int64(expected) {
            #expect(r.status == .ok)
            #expect(try r.json() == ["id": .int(id)])
        } else {
            #expect(r.status == .unprocessableContent)
            #expect(try r.json()["detail"]?[0]?["type"] == .string(expected))
        }
    }

    @Test func unknownPathIs404() throws {
        let r = try client.get("/nope")
        #expect(r.status == .notFound)
        #expect(r.text == #"{"detail":"Not Found"}"#)
        #expect(try client.get("/api/v1/users/1/unknown").status == .notFound)
        #expect(try client.get("/api/v1/health/").status == .notFound)
    }

    @Test func otherMethodIs405WithAllow() throws {
        let r = try client.execute(.post, "/api/v1/posts/3", json: [:])
        #expect(r.status == .methodNotAllowed)
        #expect(r.text == #"{"detail":"Method Not Allowed"}"#)
        #expect(r.headers[.allow] == "GET, HEAD, PUT, DELETE")
        let o = try client.execute(.options, "/api/v1/health")
        #expect(o.status == .methodNotAllowed)
        #expect(o.headers[.allow] == "GET, HEAD")
    }

    @Test func headRunsGetWithoutBody() throws {
        let r = try client.execute(.head, "/api/v1/health")
        #expect(r.status == .ok)
        #expect(r.body.isEmpty)
    }

    @Test func staticBeatsParameter() throws {
        #expect(try client.get("/files/static").text == "static")
        #expect(try client.get("/files/other").text == "other")
        // /users/me is static, /users/{id} a parameter: "me" never reaches the int check.
        #expect(try client.get("/api/v1/users/me", headers: [.authorization: "Bearer tok"]).json() == ["user": "tok"])
        // A static branch that leads nowhere falls back to the parameter branch.
        #expect(try client.get("/api/v1/users/7/posts", headers: [.authorization: "Bearer t"]).json() == ["posts_of": 7])
    }

    @Test func percentDecodedSegments() throws {
        #expect(try client.get("/files/a%20b%2Fc").text == "a b/c")
    }

    @Test func groupsShareMiddlewareAndPrefix() throws {
        let r = try client.get("/admin/stats")
        #expect(r.status == .ok)
        #expect(r.headers[HTTPField.Name("X-Group")!] == "admin")
        #expect(try client.get("/files/x").headers[HTTPField.Name("X-Group")!] == nil)
    }

    @Test func declaredSecurityIsEnforcedAndHandsTheCallerOver() throws {
        let unauth = try client.get("/api/v1/users/me")
        #expect(unauth.status == .unauthorized)
        #expect(unauth.headers[.wwwAuthenticate] == "Bearer")
        #expect(try client.get("/api/v1/users/me", headers: [.authorization: "Bearer ada"]).json() == ["user": "ada"])
        // A route that declares no security is public, in the same group.
        #expect(try client.execute(.post, "/api/v1/users", json: ["email": "a@b.co", "password": "12345678"]).status == .created)
    }

    /// FastAPI's order: the route's security is checked before its body, query or path is validated, so an
    /// anonymous caller learns nothing about a protected route's inputs.
    @Test func securityComesBeforeValidation() throws {
        #expect(try client.execute(.post, "/api/v1/users/me/password", json: ["unknown": 1]).status == .unauthorized)
        #expect(try client.execute(.post, "/api/v1/users/me/password", raw: "{not json", contentType: "application/json").status == .unauthorized)
        #expect(try client.execute(.put, "/api/v1/posts/0", raw: "x", contentType: "text/plain").status == .unauthorized)
        let bearer: HTTPFields = [.authorization: "Bearer ada"]
        #expect(try client.execute(.post, "/api/v1/users/me/password", json: ["unknown": 1], headers: bearer).status == .unprocessableContent)
        #expect(try client.execute(.put, "/api/v1/posts/0", raw: "x", contentType: "text/plain", headers: bearer).status == .unsupportedMediaType)
        #expect(try client.execute(.put, "/api/v1/posts/0", json: ["title": "t"], headers: bearer).status == .unprocessableContent)
    }

    @Test func queryStringDoesNotAffectRouting() throws {
        #expect(try client.get("/api/v1/health?x=1").status == .ok)
    }
}
