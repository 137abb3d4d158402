import Foundation
import HTTPTypes
import MariaDB
import TestSupport
import Testing
import Web

@testable import App

/// The remaining rows of API.md's Posts section: 401/404 on writes, superuser edits, stale If-Match on
/// PUT and DELETE, validation bounds, the caller's own list, and the plan of every page query.
@Suite struct PostsRulesTests {
    typealias World = PostsTests.World

    func ids(_ response: TestResponse) throws -> [Int64] {
        (try response.json()["items"]?.arrayValue ?? []).compactMap { $0["id"]?.intValue }
    }

    @Test func anonymousWritesAre401AndMissingPostsAre404() throws {
        let w = try World()
        let path = "/api/v1/posts/\(try w.id(try w.create()))"
        let client = w.app.client()
        #expect(try client.execute(.put, path, json: ["title": "x", "content": "y", "published": true]).status == .unauthorized)
        #expect(try client.execute(.patch, path, json: ["title": "x"]).status == .unauthorized)
        #expect(try client.delete(path).status == .unauthorized)
        #expect(try client.get("/api/v1/users/me/posts").status == .unauthorized)
        let missing = "/api/v1/posts/999999"
        #expect(try client.get(missing).status == .notFound)
        #expect(try client.execute(.put, missing, json: ["title": "x", "content": "y", "published": true], headers: w.bearer(w.admin)).status == .notFound)
        #expect(try client.execute(.patch, missing, json: ["title": "x"], headers: w.bearer(w.admin)).status == .notFound)
        #expect(try client.delete(missing, headers: w.bearer(w.admin)).status == .notFound)
        #expect(try client.get(path).json()["title"]?.stringValue == "Hello", "nothing changed")
    }

    @Test func superuserReplacesAndDeletesAnotherUsersPost() throws {
        let w = try World()
        let created = try w.create()
        let path = "/api/v1/posts/\(try w.id(created))"
        let replaced = try w.app.client().execute(.put, path, json: ["title": "By admin", "content": "New", "published": false], headers: w.bearer(w.admin))
        #expect(replaced.status == .ok)
        #expect(try replaced.json()["author_id"]?.intValue == w.authorID, "the author stays the author")
        #expect(try replaced.json()["published"] == .bool(false))
        #expect(replaced.headers[.eTag] != nil && replaced.headers[.eTag] != created.headers[.eTag])
        #expect(try ids(try w.app.client().get("/api/v1/posts")).isEmpty, "unpublished posts leave the public list")
        #expect(try w.app.client().get(path, headers: w.bearer(w.other)).status == .notFound)
        #expect(try w.app.client().delete(path, headers: w.bearer(w.admin)).status == .noContent)
        #expect(try w.app.client().get(path, headers: w.bearer(w.admin)).status == .notFound)
    }

    @Test func staleIfMatchOnPutAndDeleteIs412AndChangesNothing() throws {
        let w = try World()
        let created = try w.create()
        let path = "/api/v1/posts/\(try w.id(created))"
        let stale = try #require(created.headers[.eTag])
        #expect(try w.app.client().execute(.patch, path, json: ["content": "v2"], headers: w.bearer(w.author)).status == .ok)
        var headers = w.bearer(w.author)
        headers[.ifMatch] = stale
        #expect(try w.app.client().execute(.put, path, json: ["title": "x", "content": "y", "published": true], headers: headers).status == .preconditionFailed)
        #expect(try w.app.client().delete(path, headers: headers).status == .preconditionFailed)
        let current = try w.app.client().get(path)
        #expect(current.status == .ok)
        #expect(try current.json()["title"]?.stringValue == "Hello")
        #expect(try current.json()["content"]?.stringValue == "v2")
        // The current tag is accepted, and every write bumps it.
        headers[.ifMatch] = current.headers[.eTag]
        let replaced = try w.app.client().execute(.put, path, json: ["title": "x", "content": "y", "published": true], headers: headers)
        #expect(replaced.status == .ok)
        #expect(replaced.headers[.eTag] != current.headers[.eTag])
        headers[.ifMatch] = replaced.headers[.eTag]
        #expect(try w.app.client().delete(path, headers: headers).status == .noContent)
    }

    @Test(arguments: [
        ("", "string_too_short"), ("   ", "value_error"), (String(repeating: "t", count: 201), "string_too_long")
    ])
    func titleBounds(_ title: String, _ type: String) throws {
        let w = try World()
        let response = try w.app.client().execute(.post, "/api/v1/posts", json: ["title": .string(title), "content": "c"], headers: w.bearer(w.author))
        #expect(response.status == .unprocessableContent)
        let issues = try response.json()["detail"]?.arrayValue ?? []
        #expect(issues.contains { $0["loc"] == ["body", "title"] && $0["type"]?.stringValue == type }, "\(response.text)")
    }

    @Test func limitsOfLengthAreInclusiveAndPublishedDefaultsToFalse() throws {
        let w = try World()
        let response = try w.app.client().execute(
            .post, "/api/v1/posts",
            json: [
                "title": .string(String(repeating: "é", count: 200)), "content": .string(String(repeating: "x", count: 100_000))
            ], headers: w.bearer(w.author))
        #expect(response.status == .created)
        #expect(try response.json()["published"] == .bool(false))
        #expect(try response.json()["title"]?.stringValue?.count == 200)
    }

    @Test func badQueryValuesAre422() throws {
        let w = try World()
        for query in ["author_id=0", "author_id=-3", "limit=abc", "cursor=%2F%2F"] {
            #expect(try w.app.client().get("/api/v1/posts?\(query)").status == .unprocessableContent, "\(query)")
        }
        let forged = try w.app.client().get("/api/v1/users/me/posts?cursor=garbage", headers: w.bearer(w.author))
        #expect(forged.status == .unprocessableContent)
        let detail = try forged.json()["detail"]?.arrayValue?.first
        #expect(detail?["loc"] == ["query", "cursor"])
        #expect(detail?["type"]?.stringValue == "value_error")
    }

    @Test func myPostsArePagedAndOnlyMine() throws {
        let w = try World()
        var expected: [Int64] = []
        for n in 0..<5 { expected.insert(try w.id(try w.create("mine \(n)", published: n.isMultiple(of: 2))), at: 0) }
        _ = try w.app.client().execute(.post, "/api/v1/posts", json: ["title": "theirs", "content": "c", "published": true], headers: w.bearer(w.other))
        var seen: [Int64] = []
        var cursor: String?
        repeat {
            let page = try w.app.client().get("/api/v1/users/me/posts?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), headers: w.bearer(w.author))
            #expect(page.status == .ok)
            seen += try ids(page)
            cursor = try page.json()["next_cursor"]?.stringValue
        } while cursor != nil
        #expect(seen == expected)
        let publicList = try ids(try w.app.client().get("/api/v1/posts?author_id=\(w.authorID)"))
        #expect(publicList == expected.enumerated().filter { $0.offset.isMultiple(of: 2) }.map(\.element), "only published, newest first")
    }

    @Test func patchKeepsWhatIsAbsentOrNullAndValidatesWhatIsGiven() throws {
        let w = try World()
        let path = "/api/v1/posts/\(try w.id(try w.create()))"
        let kept = try w.app.client().execute(.patch, path, json: ["title": .null, "published": false], headers: w.bearer(w.author))
        #expect(kept.status == .ok)
        #expect(try kept.json()["title"]?.stringValue == "Hello")
        #expect(try kept.json()["content"]?.stringValue == "Body")
        #expect(try kept.json()["published"] == .bool(false))
        let bad = try w.app.client().execute(.patch, path, json: ["title": " ", "author_id": 5], headers: w.bearer(w.author))
        #expect(bad.status == .unprocessableContent)
        let types = Set((try bad.json()["detail"]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue })
        #expect(types == ["value_error", "extra_forbidden"], "\(bad.text)")
        #expect(try w.app.client().get(path, headers: w.bearer(w.author)).json()["title"]?.stringValue == "Hello")
    }

    @Test func etagIsStrongAndStableUntilAWrite() throws {
        let w = try World()
        let created = try w.create()
        let path = "/api/v1/posts/\(try w.id(created))"
        let tag = try #require(created.headers[.eTag])
        #expect(tag == "\"p\(try w.id(created))-v1\"")  // the post's id and version: p<id>-v<version>
        #expect(try w.app.client().get(path).headers[.eTag] == tag)
        #expect(try w.app.client().get(path, headers: [.ifNoneMatch: "\"other\", \(tag)"]).status == .notModified)
        #expect(try w.app.client().get(path, headers: [.ifNoneMatch: "\"other\""]).status == .ok)
        // Another post never shares the tag.
        #expect(try w.create().headers[.eTag] != tag)
    }

    @Test func anInvalidTokenOnAnOptionalBearerReadIs401() throws {
        let w = try World()
        let path = "/api/v1/posts/\(try w.id(try w.create()))"
        #expect(try w.app.client().get(path, headers: w.bearer("not-a-token")).status == .unauthorized)
    }

    /// The version check and the write are one statement: a writer holding an old version changes nothing.
    @Test func updateWithAStaleVersionChangesNothing() throws {
        let w = try World()
        let repository = PostRepository(db: w.app.connection)
        let post = try repository.create(authorID: w.authorID, title: "a", content: "b", published: true, now: Date())
        #expect(try repository.update(id: post.id, version: post.version, title: "first", content: "b", published: true, now: Date()))
        #expect(try !repository.update(id: post.id, version: post.version, title: "second", content: "b", published: true, now: Date()))
        #expect(try !repository.delete(id: post.id, version: post.version))
        let current = try #require(try repository.find(id: post.id))
        #expect(current.title == "first")
        #expect(current.version == post.version + 1)
        #expect(current.authorName == "Author")
    }

    /// Posts that share a created_at (to the microsecond, odd values included) are ordered by id and
    /// cross page boundaries without a gap or a repeat.
    @Test func tiesOnCreatedAtPageByID() throws {
        let w = try World()
        let instants = [1_700_000_000.999999, 1_700_000_000.123457, 1_700_000_000.000001]
        var expected: [(Double, Int64)] = []
        for instant in instants {
            for _ in 0..<3 {
                let id = try w.app.connection.execute(
                    """
                    INSERT INTO posts (author_id, title, content, published, version, created_at, updated_at)
                    VALUES (?, 't', 'c', TRUE, 1, ?, ?)
                    """, [.int(w.authorID), .date(Date(timeIntervalSince1970: instant)), .date(Date())]
                ).lastInsertID
                expected.append((instant, id))
            }
        }
        let newestFirst = expected.sorted { ($0.0, $0.1) > ($1.0, $1.1) }.map(\.1)
        for limit in [1, 2, 4] {
            var seen: [Int64] = []
            var cursor: String?
            repeat {
                let page = try w.app.client().get("/api/v1/posts?limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(page.status == .ok)
                seen += try ids(page)
                cursor = try page.json()["next_cursor"]?.stringValue
            } while cursor != nil && seen.count <= newestFirst.count
            #expect(seen == newestFirst, "limit \(limit)")
        }
    }

    /// Every shape of the real page statement uses an index and needs no filesort.
    @Test func everyPageStatementUsesAnIndexWithoutFilesort() throws {
        let w = try World()
        try seedPages(w)
        _ = try w.app.connection.query("ANALYZE TABLE users, posts")
        try expectIndexedPlans(w)
    }

    /// The same when InnoDB's statistics still say the tables are empty, as they do for a while after a
    /// fresh table fills up: the optimizer then put users first and sorted every post (30 req/s in the bench).
    @Test func pageStatementsKeepTheirPlanOnStaleStatistics() throws {
        let w = try World()
        // posts' statistics taken on the empty table and kept (no background recalculation to race with);
        // users' up to date, as in the benchmark after seeding.
        try w.app.connection.execute("ALTER TABLE posts STATS_AUTO_RECALC = 0")
        _ = try w.app.connection.query("ANALYZE TABLE posts")
        try seedPages(w)
        _ = try w.app.connection.query("ANALYZE TABLE users")
        try expectIndexedPlans(w)
    }

    /// 500 more users and 3,000 posts, spread over two authors and drafts: enough that a full scan is not the
    /// cheap plan (with only a handful of users MariaDB joins them from a buffer, which forces a filesort no
    /// real table would see), and more posts than users, as on any real site.
    private func seedPages(_ w: World) throws {
        let other = try w.app.makeUser(email: "second@example.com")
        try w.app.connection.execute(
            """
            INSERT INTO users (email, hashed_password, created_at, updated_at)
            SELECT CONCAT('seed', seq, '@example.com'), 'x', NOW(6), NOW(6) FROM seq_1_to_500
            """)
        try w.app.connection.execute(
            """
            INSERT INTO posts (author_id, title, content, published, version, created_at, updated_at)
            SELECT IF(seq % 2 = 0, ?, ?), 't', 'c', seq % 3 != 0, 1, FROM_UNIXTIME(1700000000 + seq), NOW(6) FROM seq_0_to_2999
            """, [.int(w.authorID), .int(other)])
    }

    /// Every page statement reads posts first, through an index, with no temporary table or filesort.
    private func expectIndexedPlans(_ w: World) throws {
        let cursor = PageCursor(createdAt: Date(timeIntervalSince1970: 1_700_000_150), id: 150)
        let scopes: [PostRepository.Scope] = [.published(authorID: nil), .published(authorID: w.authorID), .author(w.authorID)]
        for scope in scopes {
            for after in [nil, cursor] {
                let statement = PostRepository.pageStatement(scope, limit: 21, after: after)
                let plan = try w.app.connection.query("EXPLAIN " + statement.sql, statement.binds)
                let summary = plan.map { row in
                    ["table", "type", "key", "rows", "Extra"].map { (try? row.get($0, as: String?.self)) ?? "-" }.joined(separator: " ")
                }
                // A users row fixed by the author filter (const) is read once, before anything: that is fine.
                let driving = plan.first { (try? $0.get("type", as: String.self)) != "const" }
                #expect((try? driving?.get("table", as: String.self)) == "p", "\(scope) \(after as Any): posts first: \(summary)")
                let posts = try #require(plan.first { (try? $0.get("table", as: String.self)) == "p" })
                #expect(try posts.get("key", as: String?.self) != nil, "\(scope) \(after as Any): no index: \(summary)")
                let extras = plan.map { (try? $0.get("Extra", as: String?.self)) ?? nil }.compactMap { $0 }.joined(separator: "; ")
                #expect(!extras.contains("filesort") && !extras.contains("temporary"), "\(scope) \(after as Any): \(summary)")
            }
        }
    }
}
