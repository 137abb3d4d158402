import FoundationEssentials
import HTTPTypes
import TestSupport
import Testing

@testable import Web

@Suite struct ValidationTests {
    let client = demoClient()

    func detail(_ r: TestResponse) throws -> [JSONValue] {
        #expect(r.status == .unprocessableContent)
        return try #require(try r.json()["detail"]?.arrayValue)
    }

    func post(_ path: String, _ json: JSONValue) throws -> TestResponse {
        try client.execute(.post, path, json: json, headers: [.authorization: "Bearer t"])
    }

    @Test func validBodyDecodes() throws {
        let r = try post("/api/v1/users", ["email": "ada@example.com", "password": "correct horse", "full_name": nil])
        #expect(r.status == .created)
        #expect(
            try r.json() == [
                "id": 1, "email": "ada@example.com", "full_name": nil, "is_active": true,
                "created_at": "2026-09-21T14:13:20.123456Z"
            ])
        #expect(r.headers[.location] == "/api/v1/users/1")
    }

    @Test func everyProblemReportedAtOnce() throws {
        let d = try detail(
            post(
                "/api/v1/users",
                ["email": "not-an-email", "password": "short", "full_name": JSONValue.string(String(repeating: "x", count: 101)), "admin": true]))
        #expect(d.count == 4)
        #expect(
            d[0] == [
                "type": "value_error", "loc": ["body", "email"],
                "msg": "value is not a valid email address: An email address must have an @-sign.",
                "input": "not-an-email", "ctx": ["reason": "An email address must have an @-sign."]
            ])
        // The password is secret: no input echoed.
        #expect(d[1] == ["type": "string_too_short", "loc": ["body", "password"], "msg": "String should have at least 8 characters", "ctx": ["min_length": 8]])
        #expect(d[2]["type"] == "string_too_long")
        #expect(d[2]["ctx"] == ["max_length": 100])
        #expect(d[2]["msg"] == "String should have at most 100 characters")
        #expect(d[3] == ["type": "extra_forbidden", "loc": ["body", "admin"], "msg": "Extra inputs are not permitted", "input": true])
    }

    /// `^literal$` is compared without the regex engine; anything else goes through Swift's Regex. Both must
    /// answer like a regex search would.
    @Test(arguments: [
        ("^password$", "password", true), ("^password$", "password2", false), ("^password$", "Password", false),
        ("^password$", "", false), ("^[a-z]+-\\d{2}$", "abc-42", true), ("^[a-z]+-\\d{2}$", "abc-4", false),
        ("a.c", "xxabcxx", true), ("a.c", "ac", false), ("^$", "", true), ("^$", "x", false)
    ])
    func patternsMatchLikeARegexSearch(pattern: String, text: String, matches: Bool) throws {
        var issues: [ValidationIssue] = []
        let decoded = try FieldKind<String>.string(pattern: pattern).decode(.text(text), ["form", "f"], &issues)
        #expect((decoded != nil) == matches)
        #expect(issues.map(\.type) == (matches ? [] : ["string_pattern_mismatch"]))
    }

    @Test func missingFields() throws {
        let d = try detail(post("/api/v1/users", [:]))
        #expect(
            d == [
                ["type": "missing", "loc": ["body", "email"], "msg": "Field required"],
                ["type": "missing", "loc": ["body", "password"], "msg": "Field required"]
            ])
    }

    @Test func missingBody() throws {
        let r = try client.execute(.post, "/api/v1/users", headers: [.contentType: "application/json"], body: [])
        #expect(try detail(r) == [["type": "missing", "loc": ["body"], "msg": "Field required", "input": nil]])
    }

    @Test func secretsNeverEchoed() throws {
        for body: JSONValue in [
            ["email": "a@b.co", "password": "x"], ["email": "a@b.co", "password": 12_345_678],
            ["email": "a@b.co", "password": .string(String(repeating: "s3cr3t", count: 30))]
        ] {
            let r = try post("/api/v1/users", body)
            #expect(r.status == .unprocessableContent)
            #expect(!r.text.contains("s3cr3t") && !r.text.contains("12345678") && !r.text.contains("\"x\""))
            #expect(try detail(r)[0]["input"] == nil)
        }
        let r = try post("/api/v1/users/me/password", ["current_password": 5, "new_password": "tiny-pw"])
        #expect(try detail(r).allSatisfy { $0["input"] == nil })
        #expect(!r.text.contains("tiny-pw"))
    }

    @Test func crossFieldCheckInInit() throws {
        let d = try detail(post("/api/v1/users/me/password", ["current_password": "same-password", "new_password": "same-password"]))
        #expect(
            d == [
                [
                    "type": "value_error", "loc": ["body", "new_password"], "msg": "Value error, new password must differ",
                    "ctx": ["error": "new password must differ"]
                ]
            ])
    }

    @Test func blankAndLengthConstraints() throws {
        let blank = try detail(client.execute(.put, "/api/v1/posts/1", json: ["title": "   ", "content": ""], headers: [.authorization: "Bearer t"]))
        #expect(
            blank == [
                [
                    "type": "value_error", "loc": ["body", "title"], "msg": "Value error, must not be blank", "input": "   ",
                    "ctx": ["error": "must not be blank"]
                ]
            ])
        let empty = try detail(client.execute(.put, "/api/v1/posts/1", json: ["title": "", "content": ""], headers: [.authorization: "Bearer t"]))
        #expect(empty[0]["type"] == "string_too_short")
        #expect(empty[0]["msg"] == "String should have at least 1 character")
        // Length counts characters (code points), not bytes.
        let ok = try client.execute(
            .put, "/api/v1/posts/1", json: ["title": .string(String(repeating: "é", count: 200)), "content": ""],
            headers: [.authorization: "Bearer t"])
        #expect(ok.status == .ok)
    }

    @Test func defaultsApply() throws {
        let r = try client.execute(.put, "/api/v1/posts/1", json: ["title": "t", "content": "c"], headers: [.authorization: "Bearer t"])
        #expect(r.status == .ok)
    }

    @Test func wrongJSONTypes() throws {
        let d = try detail(post("/api/v1/widgets", ["name": 5, "count": "3", "flag": 0.5, "ratio": "0.5", "tags": "x", "owner": [1], "kind": "c"]))
        let types = d.compactMap { $0["type"]?.stringValue }
        #expect(types == ["string_type", "int_type", "bool_type", "float_type", "list_type", "model_attributes_type", "enum"])
        #expect(d[0]["msg"] == "Input should be a valid string")
        #expect(d[1]["msg"] == "Input should be a valid integer")
        #expect(d[2]["msg"] == "Input should be a valid boolean")
        #expect(d[6]["msg"] == "Input should be 'a' or 'b'")
    }

    /// Only a JSON boolean is a boolean (the schema's type); the error types are Pydantic v2's: a string or an
    /// integral number cannot be interpreted (`bool_parsing`), any other value is not a boolean at all (`bool_type`).
    @Test(
        arguments: [
            ("true", nil), ("false", nil),
            ("\"maybe\"", "bool_parsing"), ("\"true\"", "bool_parsing"), ("\"\"", "bool_parsing"), ("0", "bool_parsing"), ("2", "bool_parsing"),
            ("-1", "bool_parsing"), ("1.0", "bool_parsing"),
            ("0.5", "bool_type"), ("1e100", "bool_type"), ("12345678901234567890", "bool_type"), ("null", "bool_type"), ("[]", "bool_type"), ("{}", "bool_type")
        ] as [(String, String?)])
    func jsonBooleansAsPydantic(flag: String, type: String?) throws {
        let r = try client.execute(.post, "/api/v1/widgets", raw: #"{"name":"ok","count":1,"flag":"# + flag + "}", contentType: "application/json")
        if let type {
            let d = try detail(r)
            #expect(d.count == 1 && d[0]["type"]?.stringValue == type && d[0]["loc"] == ["body", "flag"], "\(flag): \(d)")
            let msg = type == "bool_parsing" ? "Input should be a valid boolean, unable to interpret input" : "Input should be a valid boolean"
            #expect(d[0]["msg"]?.stringValue == msg)
        } else {
            #expect(r.status == .ok, "\(flag)")
        }
    }

    /// A 422 never echoes a secret: not for an unknown member named like one, not for a value that holds one.
    @Test func secretsAreNeverEchoed() throws {
        let d = try detail(
            post(
                "/api/v1/widgets",
                [
                    "name": "ok", "count": 1, "flag": true, "password": "hunter2-secret",
                    "new_password": "np-secret", "Current_Password": "cp-secret", "token": "tk-secret",
                    "refresh_token": "rt-secret", "creds": ["list": [["password": "nested-secret"]]], "colour": "red"
                ]))
        #expect(d.count == 7)
        for issue in d where issue["loc"] != ["body", "colour"] {
            #expect(issue["type"] == "extra_forbidden" && issue.objectValue?.contains { $0.0 == "input" } == false, "\(issue)")
        }
        #expect(d.last == ["type": "extra_forbidden", "loc": ["body", "colour"], "msg": "Extra inputs are not permitted", "input": "red"])
        let raw = try client.execute(.post, "/api/v1/widgets", json: ["name": "ok", "count": 1, "flag": true, "password": "hunter2-secret"])
        #expect(!raw.text.contains("secret"))
    }

    @Test func integerPrecision() throws {
        let frac = try detail(post("/api/v1/widgets", ["name": "ok", "count": 1.5, "flag": true]))
        #expect(frac[0]["type"] == "int_from_float")
        #expect(try post("/api/v1/widgets", ["name": "ok", "count": 2.0, "flag": true]).status == .ok)
        let big = try client.execute(
            .post, "/api/v1/widgets", raw: #"{"name":"ok","count":123456789012345678901234567890,"flag":true}"#, contentType: "application/json")
        #expect(try detail(big)[0]["type"] == "int_parsing_size")
        let inf = try client.execute(.post, "/api/v1/widgets", raw: #"{"name":"ok","count":1e400,"flag":true}"#, contentType: "application/json")
        #expect(try detail(inf)[0]["type"] == "finite_number")
        let boolAsInt = try detail(post("/api/v1/widgets", ["name": "ok", "count": true, "flag": true]))
        #expect(boolAsInt[0]["type"] == "int_type")
    }

    @Test func integerRanges() throws {
        let low = try detail(post("/api/v1/widgets", ["name": "ok", "count": -1, "flag": true]))
        #expect(
            low == [
                ["type": "greater_than_equal", "loc": ["body", "count"], "msg": "Input should be greater than or equal to 0", "input": -1, "ctx": ["ge": 0]]
            ])
        let high = try detail(post("/api/v1/widgets", ["name": "ok", "count": 11, "flag": true]))
        #expect(
            high == [["type": "less_than_equal", "loc": ["body", "count"], "msg": "Input should be less than or equal to 10", "input": 11, "ctx": ["le": 10]]])
    }

    @Test func nestedLocations() throws {
        let d = try detail(post("/api/v1/widgets", ["name": "ok", "count": 1, "flag": true, "tags": ["a", 2, "toolong"], "owner": ["id": 0, "x": 1]]))
        let locs = d.map { $0["loc"]! }
        #expect(locs == [["body", "tags", 1], ["body", "tags", 2], ["body", "owner", "id"], ["body", "owner", "full_name"], ["body", "owner", "x"]])
        let many = try detail(post("/api/v1/widgets", ["name": "ok", "count": 1, "flag": true, "tags": ["a", "b", "c", "d"]]))
        #expect(many[0]["type"] == "too_long")
    }

    @Test func bodyNotAnObject() throws {
        for raw in ["[]", "1", "\"x\"", "null", "true"] {
            let d = try detail(client.execute(.post, "/api/v1/widgets", raw: raw, contentType: "application/json"))
            #expect(d.count == 1)
            #expect(d[0]["type"] == "model_attributes_type")
            #expect(d[0]["loc"] == ["body"])
        }
    }

    @Test func malformedJSON() throws {
        for raw in ["{", "{\"name\": }", "{'a': 1}", "{\"a\":1,}", "[1 2]", "nul", "{\"a\":\"\u{01}\"}", "{} x", "{\"a\":\"\\ud800\"}"] {
            let d = try detail(client.execute(.post, "/api/v1/widgets", raw: raw, contentType: "application/json"))
            #expect(d.count == 1)
            #expect(d[0]["type"] == "json_invalid")
            #expect(d[0]["msg"] == "JSON decode error")
            #expect(d[0]["loc"]?[0] == "body")
            #expect(d[0]["loc"]?[1]?.intValue != nil)
        }
        let invalidUTF8 = try client.execute(.post, "/api/v1/widgets", headers: [.contentType: "application/json"], body: [0x7B, 0xFF, 0x7D])
        #expect(try detail(invalidUTF8)[0]["type"] == "json_invalid")
    }

    @Test func deepNestingIsRejectedNotCrashed() throws {
        let raw = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let d = try detail(client.execute(.post, "/api/v1/widgets", raw: raw, contentType: "application/json"))
        #expect(d[0]["type"] == "json_invalid")
        // 150 levels is fine for the parser; the schema then says it is not an object.
        let ok = String(repeating: "[", count: 150) + String(repeating: "]", count: 150)
        #expect(try detail(client.execute(.post, "/api/v1/widgets", raw: ok, contentType: "application/json"))[0]["type"] == "model_attributes_type")
    }

    @Test func formBodies() throws {
        let ok = try client.execute(
            .post, "/api/v1/auth/login", form: [("username", "ada@example.com"), ("password", "p w&=+"), ("grant_type", "password"), ("extra", "ignored")])
        #expect(ok.status == .ok)
        #expect(try ok.json() == ["user": "ada@example.com", "scope": "", "grant_type": "password"])
        let bad = try client.execute(.post, "/api/v1/auth/login", form: [("password", "hunter22"), ("grant_type", "token")])
        let d = try detail(bad)
        #expect(
            d == [
                ["type": "missing", "loc": ["body", "username"], "msg": "Field required"],
                [
                    "type": "string_pattern_mismatch", "loc": ["body", "grant_type"], "msg": "String should match pattern '^password$'",
                    "input": "token", "ctx": ["pattern": "^password$"]
                ]
            ])
        #expect(!bad.text.contains("hunter22"))
        let empty = try client.execute(.post, "/api/v1/auth/login", headers: [.contentType: "application/x-www-form-urlencoded"], body: [])
        #expect(try detail(empty).count == 2)
    }

    @Test func queryParameters() throws {
        #expect(try client.get("/api/v1/posts").json() == ["limit": 20, "cursor": nil, "author_id": nil])
        #expect(try client.get("/api/v1/posts?limit=5&cursor=abc%3D&author_id=9").json() == ["limit": 5, "cursor": "abc=", "author_id": 9])
        let d = try detail(client.get("/api/v1/posts?limit=0&author_id=x"))
        #expect(
            d == [
                ["type": "greater_than_equal", "loc": ["query", "limit"], "msg": "Input should be greater than or equal to 1", "input": "0", "ctx": ["ge": 1]],
                [
                    "type": "int_parsing", "loc": ["query", "author_id"], "msg": "Input should be a valid integer, unable to parse string as an integer",
                    "input": "x"
                ]
            ])
        #expect(try detail(client.get("/api/v1/posts?limit=101"))[0]["type"] == "less_than_equal")
        #expect(try detail(client.get("/api/v1/posts?author_id=-3"))[0]["type"] == "greater_than")
    }

    @Test func textBooleans() throws {
        struct Flags: SchemaDecodable {
            let on: Bool
            static var schema: ObjectSchema<Flags> { ObjectSchema("Flags") { Field("on", \.on, .bool) } }
            init(_ v: Validated<Flags>) { on = v[\.on] }
        }
        #expect(try Flags.schema.decode(text: [("on", "yes")], loc: ["query"]).on)
        #expect(try !Flags.schema.decode(text: [("on", "0")], loc: ["query"]).on)
        #expect(
            throws: ValidationError(
                type: "bool_parsing", loc: ["query", "on"], msg: "Input should be a valid boolean, unable to interpret input", input: "maybe")
        ) {
            try Flags.schema.decode(text: [("on", "maybe")], loc: ["query"])
        }
    }

    @Test(arguments: [
        ("plainaddress", "An email address must have an @-sign."),
        ("a@b@c.com", "The email address is not valid. It must have exactly one @-sign."),
        ("@example.com", "There must be something before the @-sign."),
        ("ada@", "There must be something after the @-sign."),
        ("ada@localhost", "The part after the @-sign is not valid. It should have a period."),
        ("a..b@example.com", "An email address cannot have two periods in a row."),
        ("a b@example.com", "The email address contains invalid characters before the @-sign: ' '."),
        ("ada@exa_mple.com", "The part after the @-sign contains invalid characters: '_'.")
    ])
    func emailFormat(address: String, reason: String) throws {
        let d = try detail(post("/api/v1/users", ["email": JSONValue.string(address), "password": "12345678"]))
        #expect(d[0]["msg"] == .string("value is not a valid email address: " + reason))
    }

    @Test func emailLengthLimit() throws {
        let long = String(repeating: "a", count: 60) + "@" + String(repeating: "b", count: 190) + ".com"
        #expect(try detail(post("/api/v1/users", ["email": JSONValue.string(long), "password": "12345678"]))[0]["type"] == "string_too_long")
        #expect(try post("/api/v1/users", ["email": "o'neil+tag@sub.example.co.uk", "password": "12345678"]).status == .created)
    }
}

/// Fields read a struct's stored properties at their offsets, and anything else through the key path; both
/// must give the same JSON.
@Suite struct FieldReadingTests {
    struct Inner {
        var count: Int64
        var note: String?
    }
    struct Stored: SchemaEncodable {
        var flag: Bool
        var name: String
        var inner: Inner
        var twice: Int64 { inner.count * 2 }
        static let schema = ObjectSchema<Stored>("Stored") {
            Field("flag", \.flag, .bool)
            Field("name", \.name, .string())
            Field("count", \.inner.count, .int())
            OptionalField("note", \.inner.note, .string(), required: true)
            Field("twice", \.twice, .int())
        }
    }
    final class Boxed: SchemaEncodable {
        let name: String
        let note: String?
        init(name: String, note: String?) {
            self.name = name
            self.note = note
        }
        static let schema = ObjectSchema<Boxed>("Boxed") {
            Field("name", \.name, .string())
            OptionalField("note", \.note, .string(), required: true)
        }
    }

    struct Everything: SchemaEncodable {
        var stored: Stored
        var list: [Stored]
        var when: Date
        var ratio: Double
        var extra: JSONValue
        var kind: String
        var small: Int
        var maybe: Stored?
        static let schema = ObjectSchema<Everything>("Everything") {
            Field("stored", \.stored, .object())
            Field("list", \.list, .array(.object()))
            Field("when", \.when, .dateTime)
            Field("ratio", \.ratio, .number())
            Field("extra", \.extra, .any)
            Field("kind", \.kind, .oneOf(["a", "b"]))
            Field("small", \.small, .int())
            OptionalField("maybe", \.maybe, .object(), required: true)
        }
    }

    /// Responses are written straight from the schema; the bytes must be `encode`'s JSON, written.
    @Test func writtenBytesAreTheEncodedJSON() {
        let stored = Stored(flag: true, name: "q\"\\\n<&>", inner: Inner(count: -4_611_686_018_427_387_904, note: "ü"))  // twice is Int64.min
        for value in [
            Everything(
                stored: stored, list: [], when: Date(timeIntervalSince1970: 1_795_000_000.123456), ratio: 0.5,
                extra: ["a": [1, "x", .null]], kind: "a", small: -7, maybe: nil),
            Everything(
                stored: stored, list: [stored, stored], when: Date(timeIntervalSince1970: 0), ratio: .nan,
                extra: .null, kind: "b", small: .max, maybe: stored)
        ] {
            var written: [UInt8] = []
            Everything.schema.write(value, into: &written)
            #expect(String(decoding: written, as: UTF8.self) == Everything.schema.encode(value).encodedString)
        }
        var boxed: [UInt8] = []
        Boxed.schema.write(Boxed(name: "b", note: nil), into: &boxed)
        #expect(String(decoding: boxed, as: UTF8.self) == #"{"name":"b","note":null}"#)
    }

    @Test func storedNestedComputedAndClassPropertiesEncodeAlike() {
        let stored = Stored(flag: true, name: "ünï <x>", inner: Inner(count: 21, note: nil))
        #expect(Stored.schema.encode(stored).encodedString == #"{"flag":true,"name":"ünï \u003cx\u003e","count":21,"note":null,"twice":42}"#)
        let noted = Stored(flag: false, name: String(repeating: "long ", count: 10), inner: Inner(count: -1, note: "n"))
        #expect(Stored.schema.encode(noted) == .object([("flag", false), ("name", .string(noted.name)), ("count", -1), ("note", "n"), ("twice", -2)]))
        #expect(Boxed.schema.encode(Boxed(name: "b", note: "c")).encodedString == #"{"name":"b","note":"c"}"#)
    }
}
