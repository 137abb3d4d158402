import App
import Foundation
import HTTPTypes
import TestSupport
import Testing
import Web

@Suite struct PostsTests {
    struct World {
        let app: TestApp
        let author: String, other: String, admin: String
        let authorID: Int64
        init(_ transport: TestTransport = .inProcess) throws {
            app = try TestApp(transport)
            authorID = try app.makeUser(email: "author@example.com", fullName: "Author")
            author = try app.accessToken(for: authorID)
            other = try app.accessToken(for: try app.makeUser(email: "other@example.com"))
            admin = try app.accessToken(for: try app.makeUser(email: "admin@example.com", superuser: true))
        }
        func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }
        func create(_ title: String = "Hello", published: Bool = true) throws -> TestResponse {
            try app.client().execute(
                .post, "/api/v1/posts", json: ["title": .string(title), "content": "Body", "published": .bool(published)], headers: bearer(author))
        }
        func id(_ response: TestResponse) throws -> Int64 {
            try #require(try response.json()["id"].flatMap { if case .int(let v) = $0 { return v } else { return nil } })
        }
    }

    @Test(arguments: TestTransport.allCases)
    func createReturns201WithLocationETagAndNoEmail(_ transport: TestTransport) throws {
        let w = try World(transport)
        let created = try w.create()
        #expect(created.status == .created)
        let id = try w.id(created)
        #expect(created.headers[.location] == "/api/v1/posts/\(id)")
        #expect(created.headers[.eTag] != nil)
        #expect(try created.json()["author"]?["full_name"]?.stringValue == "Author")
        #expect(!created.text.contains("author@example.com"))
        #expect(try w.app.client().execute(.post, "/api/v1/posts", json: ["title": "x", "content": "y"]).status == .unauthorized)
    }

    @Test func validationReportsEveryProblem() throws {
        let w = try World()
        let bad = try w.app.client().execute(
            .post, "/api/v1/posts", json: ["title": "   ", "content": .string(String(repeating: "x", count: 100_001)), "extra": 1], headers: w.bearer(w.author))
        #expect(bad.status == .unprocessableContent)
        let types = Set((try bad.json()["detail"]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue })
        #expect(types.contains("extra_forbidden"))
        #expect(types.contains("string_too_long"))
        #expect(types.count >= 3, "\(bad.text)")
    }

    @Test func draftsAreVisibleToAuthorAndSuperuserOnly() throws {
        let w = try World()
        let id = try w.id(try w.create(published: false))
        let path = "/api/v1/posts/\(id)"
        #expect(try w.app.client().get(path, headers: w.bearer(w.author)).status == .ok)
        #expect(try w.app.client().get(path, headers: w.bearer(w.admin)).status == .ok)
        #expect(try w.app.client().get(path, headers: w.bearer(w.other)).status == .notFound)
        #expect(try w.app.client().get(path).status == .notFound)
        #expect(try w.app.client().execute(.patch, path, json: ["title": "x"], headers: w.bearer(w.other)).status == .notFound)
        let list = try w.app.client().get("/api/v1/posts")
        #expect(try list.json()["items"]?.arrayValue?.isEmpty == true, "drafts are not listed")
        let mine = try w.app.client().get("/api/v1/users/me/posts", headers: w.bearer(w.author))
        #expect(try mine.json()["items"]?.arrayValue?.count == 1, "the author's own list includes drafts")
    }

    @Test func othersGet403OnPublishedPostsAndAuthorsCanEdit() throws {
        let w = try World()
        let id = try w.id(try w.create())
        let path = "/api/v1/posts/\(id)"
        #expect(
            try w.app.client().execute(.put, path, json: ["title": "x", "content": "y", "published": true], headers: w.bearer(w.other)).status == .forbidden)
        #expect(try w.app.client().delete(path, headers: w.bearer(w.other)).status == .forbidden)
        let missingField = try w.app.client().execute(.put, path, json: ["title": "x"], headers: w.bearer(w.author))
        #expect(missingField.status == .unprocessableContent, "PUT needs every field")
        let patched = try w.app.client().execute(.patch, path, json: ["content": "Edited"], headers: w.bearer(w.author))
        #expect(patched.status == .ok)
        #expect(try patched.json()["title"]?.stringValue == "Hello")
        #expect(try patched.json()["content"]?.stringValue == "Edited")
        #expect(try w.app.client().execute(.patch, path, json: ["published": false], headers: w.bearer(w.admin)).status == .ok)
        #expect(try w.app.client().delete(path, headers: w.bearer(w.author)).status == .noContent)
        #expect(try w.app.client().get(path, headers: w.bearer(w.author)).status == .notFound)
    }

    @Test(arguments: TestTransport.allCases)
    func etagsGive304AndStopLostUpdates(_ transport: TestTransport) throws {
        let w = try World(transport)
        let created = try w.create()
        let path = "/api/v1/posts/\(try w.id(created))"
        let etag = try #require(created.headers[.eTag])
        let cached = try w.app.client().get(path, headers: [.ifNoneMatch: etag])
        #expect(cached.status == .notModified)
        // Two editors read the same version; the second write is refused and changes nothing.
        var headers = w.bearer(w.author)
        headers[.ifMatch] = etag
        let first = try w.app.client().execute(.patch, path, json: ["title": "First"], headers: headers)
        #expect(first.status == .ok)
        #expect(first.headers[.eTag] != etag)
        let second = try w.app.client().execute(.patch, path, json: ["title": "Second"], headers: headers)
        #expect(second.status == .preconditionFailed)
        #expect(try w.app.client().get(path).json()["title"]?.stringValue == "First")
        #expect(try w.app.client().get(path, headers: [.ifNoneMatch: etag]).status == .ok, "the old tag no longer matches")
    }

    @Test func pagesNeverSkipOrRepeatWhilePostsAreAdded() throws {
        let w = try World()
        var expected: [Int64] = []
        for n in 0..<25 { expected.insert(try w.id(try w.create("post \(n)")), at: 0) }
        var seen: [Int64] = []
        var cursor: String?
        repeat {
            let page = try w.app.client().get("/api/v1/posts?limit=7" + (cursor.map { "&cursor=\($0)" } ?? ""))
            #expect(page.status == .ok)
            seen += (try page.json()["items"]?.arrayValue ?? []).compactMap { if case .int(let v)? = $0["id"] { return v } else { return nil } }
            cursor = try page.json()["next_cursor"]?.stringValue
            _ = try w.create("added while paging")  // newer than every page: must not appear later
        } while cursor != nil
        #expect(seen == expected)
    }

    @Test(arguments: ["garbage", "MTIz", Base64URLCursor.forged, String(repeating: "A", count: 100)])
    func forgedOrMalformedCursorsAre422(_ cursor: String) throws {
        let w = try World()
        let response = try w.app.client().get("/api/v1/posts?cursor=\(cursor)")
        #expect(response.status == .unprocessableContent)
        #expect(response.text.contains("cursor"))
    }

    @Test func authorFilterAndLimitBounds() throws {
        let w = try World()
        _ = try w.create()
        #expect(try w.app.client().get("/api/v1/posts?author_id=\(w.authorID)").json()["items"]?.arrayValue?.count == 1)
        #expect(try w.app.client().get("/api/v1/posts?author_id=999999").json()["items"]?.arrayValue?.count == 0)
        #expect(try w.app.client().get("/api/v1/posts?limit=0").status == .unprocessableContent)
        #expect(try w.app.client().get("/api/v1/posts?limit=101").status == .unprocessableContent)
        #expect(try w.app.client().get("/api/v1/posts/abc").status == .unprocessableContent)
    }

    @Test func deletingAUserDeletesTheirPosts() throws {
        let w = try World()
        let path = "/api/v1/posts/\(try w.id(try w.create()))"
        try w.app.connection.execute("DELETE FROM users WHERE id = ?", [.int(w.authorID)])
        #expect(try w.app.client().get(path).status == .notFound)
    }
}

enum Base64URLCursor {
    /// Well-formed base64url of something that is not "micros:id".
    static let forged = "MTIzOmFiYw"  // "123:abc"
}
