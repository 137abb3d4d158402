import HTTPTypes
import TestSupport
import Testing

@testable import Web

@Suite struct ErrorTests {
    @Test func unexpectedErrorIsExact500AndLogged() throws {
        let logs = LogStore()
        let client = demoClient(logs: logs)
        let r = try client.get("/boom", headers: [.xRequestID: "trace-500"])
        #expect(r.status == .internalServerError)
        #expect(r.text == #"{"detail":"Internal Server Error"}"#)
        #expect(r.headers[.contentType] == "application/json; charset=utf-8")
        #expect(!r.text.contains("db password"))
        let line = try #require(logs.entries.first { $0.level == .error })
        #expect(line.metadata["request_id"] == "trace-500")
        #expect(line.metadata["error"]?.contains("Boom") == true)
    }

    @Test func httpErrorCarriesStatusDetailHeaders() throws {
        let r = try demoClient().get("/teapot")
        #expect(r.status.code == 418)
        #expect(r.text == #"{"detail":"short and stout"}"#)
        #expect(r.headers[.retryAfter] == "5")
    }
}

@Suite struct MediaTypeTests {
    @Test(arguments: [
        ("application/json", "application/json", true), ("Application/JSON; charset=utf-8", "application/json", true),
        (" \tapplication/problem+json ;x=1", "application/problem+json", true), ("text/json", "text/json", false),
        ("", "", false), (";", "", false), ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded", false)
    ])
    func mediaTypeIsTrimmedLoweredAndWithoutParameters(header: String, type: String, json: Bool) {
        let request = Request(method: .post, uri: "/", headerFields: [.contentType: header])
        #expect(request.contentType == type)
        #expect(request.isJSON == json)
        #expect(request.isForm == (type == "application/x-www-form-urlencoded"))
    }

    @Test func noHeaderNoType() {
        #expect(Request(method: .post, uri: "/").contentType == nil)
    }
}

@Suite struct MiddlewareTests {
    @Test(arguments: [(Int64(0), "0.000"), (5, "0.005"), (1_234, "1.234"), (60_010, "60.010"), (1_000_000, "1000.000")])
    func accessLogDurationIsMillisecondsWithThreeDecimals(micros: Int64, text: String) {
        #expect(AccessLogEntry(method: "GET", path: "/", status: 200, durationMicros: micros, bytes: 0).durationMS == text)
    }

    @Test func requestIDEchoedWhenValid() throws {
        let client = demoClient()
        let id = "abc.DEF_123-" + String(repeating: "x", count: 116)
        #expect(try client.get("/api/v1/health", headers: [.xRequestID: id]).headers[.xRequestID] == id)
    }

    @Test(arguments: ["", "has space", "semi;colon", "ünï", String(repeating: "x", count: 129)])
    func requestIDReplacedWhenInvalid(_ given: String) throws {
        let r = try demoClient().get("/api/v1/health", headers: given.isEmpty ? [:] : [.xRequestID: given])
        let id = try #require(r.headers[.xRequestID])
        #expect(id != given)
        #expect(id.count == 32 && RequestID.isValid(id))
    }

    @Test func generatedRequestIDsAreLowerCaseHexAndDiffer() {
        let ids = (0..<20).map { _ in RequestID.generate() }
        #expect(ids.allSatisfy { $0.utf8.count == 32 && $0.allSatisfy { "0123456789abcdef".contains($0) } })
        #expect(Set(ids).count == ids.count)
        #expect(Set(ids.joined()) == Set("0123456789abcdef"))  // every digit is used (640 random digits)
    }

    @Test func requestIDOnErrorsAndInLogs() throws {
        let logs = LogStore()
        let client = demoClient(logs: logs)
        let r = try client.get("/nope")
        let id = try #require(r.headers[.xRequestID])
        #expect(try client.get("/nope").headers[.xRequestID] != id)
        let access = try #require(logs.entries.first { $0.message == "request" })
        #expect(access.metadata["request_id"] == id)
        #expect(access.metadata["method"] == "GET")
        #expect(access.metadata["path"] == "/nope")
        #expect(access.metadata["status"] == "404")
        #expect(access.metadata["bytes"] == "22")
        #expect(access.metadata["duration_ms"].flatMap(Double.init) != nil)
    }

    @Test func accessLogOneLinePerRequest() throws {
        let logs = LogStore()
        let client = demoClient(logs: logs)
        for _ in 0..<3 { _ = try client.get("/api/v1/health?token=secret") }
        let lines = logs.entries.filter { $0.message == "request" }
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0.metadata["path"] == "/api/v1/health" })
    }

    @Test func securityHeaders() throws {
        let client = demoClient()
        let plain = try client.get("/api/v1/health")
        #expect(plain.headers[.xContentTypeOptions] == "nosniff")
        #expect(plain.headers[.cacheControl] == nil)
        #expect(try client.get("/nope").headers[.xContentTypeOptions] == "nosniff")
        #expect(try client.get("/boom").headers[.xContentTypeOptions] == "nosniff")
        #expect(try client.get("/api/v1/health", headers: [.authorization: "Bearer x"]).headers[.cacheControl] == "no-store")
        let login = try client.execute(.post, "/api/v1/auth/login", form: [("username", "a"), ("password", "b")])
        #expect(login.headers[.cacheControl] == "no-store")
        // Errors from a sensitive route are no-store too.
        #expect(try client.execute(.post, "/api/v1/auth/login", form: []).headers[.cacheControl] == "no-store")
    }

    @Test func bodyLimit() throws {
        let client = demoClient(WebConfiguration(maxBodySize: 64))
        let big = try client.execute(
            .post, "/api/v1/widgets", raw: "{\"name\":\"" + String(repeating: "x", count: 100) + "\"}", contentType: "application/json")
        #expect(big.status == .contentTooLarge)
        #expect(try big.json()["detail"]?.stringValue != nil)
        let declared = try client.execute(
            .post, "/api/v1/widgets", headers: [.contentLength: "1000000", .contentType: "application/json"], body: Array("{}".utf8))
        #expect(declared.status == .contentTooLarge)
        #expect(try client.execute(.post, "/api/v1/widgets", json: ["name": "ok", "count": 1, "flag": true]).status == .ok)
        // Default: 1 MiB.
        let mib = try demoClient().execute(
            .post, "/api/v1/widgets", headers: [.contentType: "application/json"], body: [UInt8](repeating: 0x20, count: (1 << 20) + 1))
        #expect(mib.status == .contentTooLarge)
    }

    @Test func unsupportedMediaType() throws {
        let client = demoClient()
        let r = try client.execute(.post, "/api/v1/widgets", raw: "name=x", contentType: "application/x-www-form-urlencoded")
        #expect(r.status == .unsupportedMediaType)
        #expect(r.text == #"{"detail":"Unsupported Media Type"}"#)
        #expect(try client.execute(.post, "/api/v1/widgets", raw: "{}", contentType: "text/plain").status == .unsupportedMediaType)
        #expect(try client.execute(.post, "/api/v1/auth/login", json: ["username": "a", "password": "b"]).status == .unsupportedMediaType)
        // A body on a route that takes none.
        #expect(
            try client.execute(.delete, "/api/v1/posts/1", raw: "{}", contentType: "application/json", headers: [.authorization: "Bearer t"]).status
                == .unsupportedMediaType)
        // Parameters and +json suffixes are fine; no Content-Type is read as JSON.
        #expect(
            try client.execute(.post, "/api/v1/widgets", raw: #"{"name":"ok","count":1,"flag":true}"#, contentType: "Application/JSON; charset=utf-8").status
                == .ok)
        #expect(
            try client.execute(.post, "/api/v1/widgets", raw: #"{"name":"ok","count":1,"flag":true}"#, contentType: "application/merge-patch+json").status
                == .ok)
        #expect(try client.execute(.post, "/api/v1/widgets", raw: #"{"name":"ok","count":1,"flag":true}"#, contentType: nil).status == .ok)
    }

    let corsConfig = WebConfiguration(cors: CORSConfiguration(allowedOrigins: ["https://app.example.com"]))

    @Test func corsPreflightFromAllowedOrigin() throws {
        let r = try demoClient(corsConfig).execute(
            .options, "/api/v1/posts/1",
            headers: [
                .origin: "https://app.example.com", .accessControlRequestMethod: "PUT", .accessControlRequestHeaders: "authorization, content-type"
            ])
        #expect(r.status == .noContent)
        #expect(r.headers[.accessControlAllowOrigin] == "https://app.example.com")
        #expect(r.headers[.accessControlAllowMethods]?.contains("PUT") == true)
        #expect(r.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
        #expect(r.headers[.accessControlMaxAge] == "600")
        #expect(r.headers[.vary] == "Origin")
        #expect(r.headers[.xContentTypeOptions] == "nosniff")
        #expect(r.body.isEmpty)
    }

    @Test func corsSimpleRequestAllowedAndRefused() throws {
        let client = demoClient(corsConfig)
        let ok = try client.get("/api/v1/health", headers: [.origin: "https://app.example.com"])
        #expect(ok.headers[.accessControlAllowOrigin] == "https://app.example.com")
        #expect(ok.headers[.vary] == "Origin")
        // Errors carry CORS headers too, so browsers can read them.
        #expect(try client.get("/nope", headers: [.origin: "https://app.example.com"]).headers[.accessControlAllowOrigin] == "https://app.example.com")
        let refused = try client.get("/api/v1/health", headers: [.origin: "https://evil.example.com"])
        #expect(refused.status == .ok)
        #expect(refused.headers[.accessControlAllowOrigin] == nil)
        let refusedPreflight = try client.execute(
            .options, "/api/v1/health", headers: [.origin: "https://evil.example.com", .accessControlRequestMethod: "GET"])
        #expect(refusedPreflight.status != .noContent)
        #expect(refusedPreflight.headers.contains { $0.name.canonicalName.hasPrefix("access-control-") } == false)
        // No origins configured (the default): nothing.
        #expect(try demoClient().get("/api/v1/health", headers: [.origin: "https://app.example.com"]).headers[.accessControlAllowOrigin] == nil)
    }
}

@Suite struct ConditionalTests {
    let client = demoClient()

    @Test func etagFormattingAndParsing() {
        #expect(ETag("abc").description == "\"abc\"")
        #expect(ETag("abc", weak: true).description == "W/\"abc\"")
        #expect(ETag.parse("W/\"x\"") == ETag("x", weak: true))
        #expect(ETag.parse("x") == nil)
        #expect(ETag.parseList("\"a\", W/\"b\" , bad") == [ETag("a"), ETag("b", weak: true)])
        #expect(ETag.parseList(" * ") == nil)
        #expect(ETag.strong(hashing: Array("a".utf8)) != ETag.strong(hashing: Array("b".utf8)))
        #expect(ETag.strong(hashing: Array("a".utf8)) == ETag.strong(hashing: Array("a".utf8)))
    }

    @Test func ifNoneMatchGives304() throws {
        let first = try client.get("/api/v1/posts/7")
        #expect(first.status == .ok)
        let tag = try #require(first.headers[.eTag])
        #expect(tag == demoPostETag.description)
        let again = try client.get("/api/v1/posts/7", headers: [.ifNoneMatch: tag])
        #expect(again.status == .notModified)
        #expect(again.body.isEmpty)
        #expect(again.headers[.eTag] == tag)
        #expect(try client.get("/api/v1/posts/7", headers: [.ifNoneMatch: "\"other\", W/\"post-7-v3\""]).status == .notModified)
        #expect(try client.get("/api/v1/posts/7", headers: [.ifNoneMatch: "*"]).status == .notModified)
        #expect(try client.get("/api/v1/posts/7", headers: [.ifNoneMatch: "\"other\""]).status == .ok)
    }

    @Test func ifMatchGives412() throws {
        let body: JSONValue = ["title": "t", "content": "c"]
        let auth: HTTPFields = [.authorization: "Bearer t"]
        let stale = try client.execute(.put, "/api/v1/posts/7", json: body, headers: auth + [.ifMatch: "\"post-7-v2\""])
        #expect(stale.status == .preconditionFailed)
        #expect(stale.text == #"{"detail":"Precondition Failed"}"#)
        // Weak tags never match strongly.
        #expect(try client.execute(.put, "/api/v1/posts/7", json: body, headers: auth + [.ifMatch: "W/\"post-7-v3\""]).status == .preconditionFailed)
        let fresh = try client.execute(.put, "/api/v1/posts/7", json: body, headers: auth + [.ifMatch: "\"post-7-v3\""])
        #expect(fresh.status == .ok)
        #expect(fresh.headers[.eTag] == "\"post-7-v4\"")
        #expect(try client.execute(.put, "/api/v1/posts/7", json: body, headers: auth + [.ifMatch: "*"]).status == .ok)
        #expect(try client.execute(.put, "/api/v1/posts/7", json: body, headers: auth).status == .ok)
    }
}

func + (a: HTTPFields, b: HTTPFields) -> HTTPFields {
    var out = a
    out.append(contentsOf: b)
    return out
}

/// PERCH_MAX_QUEUE_TIME: a request that waited too long for a worker gets a fast 503, before the router.
@Suite struct QueueLimitTests {
    func request(_ path: String, waitedMillis: Int64?) -> Request {
        var request = Request(method: .get, uri: path)
        request.queueMicros = waitedMillis.map { $0 * 1000 }
        return request
    }

    @Test func overLimitIs503WithRetryAfterBeforeTheRoute() throws {
        let logs = LogStore()
        let app = makeDemoApp(WebConfiguration(maxQueueMillis: 200), logs: logs)
        // /boom would answer 500: the route never runs.
        let refused = app.respond(to: request("/boom", waitedMillis: 201))
        #expect(refused.status == .serviceUnavailable)
        #expect(refused.headerFields[.retryAfter] == "1")
        #expect(refused.headerFields[.xRequestID] != nil)
        #expect(refused.headerFields[.xContentTypeOptions] == "nosniff")
        #expect(String(decoding: refused.body, as: UTF8.self).hasPrefix(#"{"detail":"The server is overloaded"#))
        let access = try #require(logs.entries.first { $0.message == "request" })
        #expect(access.metadata["queue_ms"] == "201.000")
        #expect(access.metadata["status"] == "503")
        // Within the limit, or without X-Request-Start, nothing changes.
        #expect(app.respond(to: request("/api/v1/health", waitedMillis: 200)).status == .ok)
        #expect(app.respond(to: request("/api/v1/health", waitedMillis: nil)).status == .ok)
        #expect(logs.entries.filter { $0.message == "request" }.last?.metadata["queue_ms"] == nil)
    }

    @Test func zeroNeverRefuses() {
        let app = makeDemoApp(WebConfiguration(maxQueueMillis: 0))
        #expect(app.respond(to: request("/api/v1/health", waitedMillis: 3_600_000)).status == .ok)
    }
}
