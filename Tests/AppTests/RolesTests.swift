import App
import Foundation
import HTTPTypes
import Sodium
import TestSupport
import Testing
import Web

/// Roles, permissions and OAuth2 scopes: every guarded route against every kind of caller.
@Suite struct RolesTests {
    /// The callers of the table: a token of each role, a token narrowed to `posts:write` of an admin, and a
    /// token granting nothing (a member who asked for no scope at login).
    enum Caller: String, CaseIterable {
        case anonymous, member, moderator, admin, narrowedAdmin, noScope
    }

    /// A route and what a request to it needs made first (a fresh user or post, so that a DELETE in one row
    /// does not change the next).
    struct Case {
        let method: HTTPRequest.Method
        /// The template as the OpenAPI document names it.
        let template: String
        let target: Target
        let body: JSONValue?
        /// The status per caller.
        let expected: [Caller: HTTPResponse.Status]
    }

    enum Target { case none, otherUser, ownAccount, othersPublishedPost, othersDraft, ownPost, mySession }

    static func statuses(
        _ anonymous: HTTPResponse.Status, member: HTTPResponse.Status, moderator: HTTPResponse.Status, admin: HTTPResponse.Status,
        narrowedAdmin: HTTPResponse.Status? = nil, noScope: HTTPResponse.Status? = nil
    ) -> [Caller: HTTPResponse.Status] {
        [
            .anonymous: anonymous, .member: member, .moderator: moderator, .admin: admin,
            .narrowedAdmin: narrowedAdmin ?? member, .noScope: noScope ?? member
        ]
    }

    static let post: JSONValue = ["title": "T", "content": "C", "published": true]
    static let table: [Case] = [
        Case(
            method: .get, template: "/api/v1/roles", target: .none, body: nil, expected: statuses(.unauthorized, member: .ok, moderator: .ok, admin: .ok)
        ),
        Case(
            method: .get, template: "/api/v1/users", target: .none, body: nil,
            expected: statuses(.unauthorized, member: .forbidden, moderator: .forbidden, admin: .ok)),
        Case(
            method: .get, template: "/api/v1/users/{id}", target: .otherUser, body: nil,
            expected: statuses(.unauthorized, member: .forbidden, moderator: .forbidden, admin: .ok)),
        Case(
            method: .get, template: "/api/v1/users/{id}", target: .ownAccount, body: nil,
            expected: statuses(.unauthorized, member: .ok, moderator: .ok, admin: .ok)),
        Case(
            method: .patch, template: "/api/v1/users/{id}", target: .otherUser, body: ["full_name": "X"],
            expected: statuses(.unauthorized, member: .forbidden, moderator: .forbidden, admin: .ok)),
        Case(
            method: .delete, template: "/api/v1/users/{id}", target: .otherUser, body: nil,
            expected: statuses(.unauthorized, member: .forbidden, moderator: .forbidden, admin: .noContent)),
        Case(
            method: .get, template: "/api/v1/users/{id}/roles", target: .otherUser, body: nil,
            expected: statuses(.unauthorized, member: .forbidden, moderator: .forbidden, admin: .ok)),
        Case(
            method: .get, template: "/api/v1/users/{id}/roles", target: .ownAccount, body: nil,
            expected: statuses(.unauthorized, member: .ok, moderator: .ok, admin: .ok)),
        Case(
            method: .put, template: "/api/v1/users/{id}/roles", target: .otherUser, body: ["roles": ["moderator"]],
            expected: statuses(.unauthorized, member: .forbidden, moderator: .forbidden, admin: .ok)),
        Case(
            method: .put, template: "/api/v1/users/{id}/roles", target: .ownAccount, body: ["roles": ["member"]],
            expected: statuses(.unauthorized, member: .forbidden, moderator: .forbidden, admin: .forbidden)),
        Case(method: .get, template: "/api/v1/users/me", target: .none, body: nil, expected: statuses(.unauthorized, member: .ok, moderator: .ok, admin: .ok)),
        Case(
            method: .patch, template: "/api/v1/users/me", target: .none, body: ["full_name": "Me"],
            expected: statuses(.unauthorized, member: .ok, moderator: .ok, admin: .ok)),
        Case(
            method: .post, template: "/api/v1/users/me/password", target: .none, body: ["current_password": "wrong password", "new_password": "new password 1"],
            expected: statuses(.unauthorized, member: .badRequest, moderator: .badRequest, admin: .badRequest)),
        Case(
            method: .post, template: "/api/v1/users/me/verify-email", target: .none, body: nil,
            expected: statuses(.unauthorized, member: .accepted, moderator: .accepted, admin: .accepted)),
        Case(
            method: .get, template: "/api/v1/users/me/posts", target: .none, body: nil,
            expected: statuses(.unauthorized, member: .ok, moderator: .ok, admin: .ok)),
        Case(
            method: .post, template: "/api/v1/posts", target: .none, body: post,
            expected: statuses(.unauthorized, member: .created, moderator: .created, admin: .created, narrowedAdmin: .created, noScope: .forbidden)),
        Case(
            method: .get, template: "/api/v1/posts/{id}", target: .othersPublishedPost, body: nil,
            expected: statuses(.ok, member: .ok, moderator: .ok, admin: .ok)),
        Case(
            method: .get, template: "/api/v1/posts/{id}", target: .othersDraft, body: nil,
            expected: statuses(.notFound, member: .notFound, moderator: .ok, admin: .ok)),
        Case(
            method: .put, template: "/api/v1/posts/{id}", target: .othersPublishedPost, body: post,
            expected: statuses(.unauthorized, member: .forbidden, moderator: .ok, admin: .ok)),
        Case(
            method: .patch, template: "/api/v1/posts/{id}", target: .othersPublishedPost, body: ["published": false],
            expected: statuses(.unauthorized, member: .forbidden, moderator: .ok, admin: .ok)),
        Case(
            method: .patch, template: "/api/v1/posts/{id}", target: .othersDraft, body: ["title": "Edited"],
            expected: statuses(.unauthorized, member: .notFound, moderator: .ok, admin: .ok)),
        Case(
            method: .delete, template: "/api/v1/posts/{id}", target: .othersPublishedPost, body: nil,
            expected: statuses(.unauthorized, member: .forbidden, moderator: .noContent, admin: .noContent)),
        Case(
            method: .patch, template: "/api/v1/posts/{id}", target: .ownPost, body: ["title": "Mine"],
            expected: statuses(.unauthorized, member: .ok, moderator: .ok, admin: .ok, narrowedAdmin: .ok, noScope: .forbidden)),
        Case(
            method: .delete, template: "/api/v1/posts/{id}", target: .ownPost, body: nil,
            expected: statuses(.unauthorized, member: .noContent, moderator: .noContent, admin: .noContent, noScope: .forbidden)),
        Case(
            method: .delete, template: "/api/v1/users/{id}/sessions", target: .otherUser, body: nil,
            expected: statuses(.unauthorized, member: .forbidden, moderator: .forbidden, admin: .noContent)),
        Case(
            method: .get, template: "/api/v1/users/me/sessions", target: .none, body: nil,
            expected: statuses(.unauthorized, member: .ok, moderator: .ok, admin: .ok)),
        Case(
            method: .delete, template: "/api/v1/users/me/sessions/{id}", target: .otherUser, body: nil,
            expected: statuses(.unauthorized, member: .notFound, moderator: .notFound, admin: .notFound)),
        Case(
            method: .post, template: "/api/v1/auth/logout-all", target: .mySession, body: nil,
            expected: statuses(.unauthorized, member: .noContent, moderator: .noContent, admin: .noContent)),
        Case(
            method: .post, template: "/api/v1/auth/logout", target: .mySession, body: nil,
            expected: statuses(.unauthorized, member: .noContent, moderator: .noContent, admin: .noContent)),
        Case(
            method: .delete, template: "/api/v1/users/me", target: .mySession, body: nil,
            expected: statuses(.unauthorized, member: .noContent, moderator: .noContent, admin: .forbidden, narrowedAdmin: .forbidden))
    ]

    /// Route × caller → status, for every operation the OpenAPI document says needs a token.
    @Test func everyGuardedRouteAnswersEachCallerAsItsPermissionsSay() throws {
        let app = try TestApp()
        let guarded = Set(
            (app.application.openAPIDocument["paths"]?.objectValue ?? []).flatMap { path, item in
                (item.objectValue ?? []).filter { $0.1["security"] != nil }.map { "\($0.0.uppercased()) \(path)" }
            })
        #expect(Set(Self.table.map { "\($0.method.rawValue) \($0.template)" }) == guarded, "a guarded route without rows, or a row for no route")

        let author = try app.makeUser(email: "author@example.com")
        let authorToken = try app.accessToken(for: author)
        var n = 0
        for row in Self.table {
            for caller in Caller.allCases {
                n += 1
                // Each request gets its own caller and targets, so rows never interfere.
                let (callerID, token) = try Self.caller(caller, app, n)
                var path = row.template
                switch row.target {
                case .none, .mySession: break
                case .otherUser: path = path.replacingOccurrences(of: "{id}", with: "\(try app.makeUser(email: "target\(n)@example.com"))")
                case .ownAccount: path = path.replacingOccurrences(of: "{id}", with: "\(callerID ?? 1)")
                case .othersPublishedPost, .othersDraft, .ownPost:
                    let owner = row.target == .ownPost ? (token ?? authorToken) : authorToken
                    let created = try app.client().execute(
                        .post, "/api/v1/posts", json: ["title": "P", "content": "C", "published": .bool(row.target != .othersDraft)],
                        headers: bearer(row.target == .ownPost && caller == .noScope ? try app.accessToken(for: callerID!) : owner))
                    path = path.replacingOccurrences(of: "{id}", with: "\(try #require(try created.json()["id"]?.intValue))")
                }
                let headers: HTTPFields = token.map(bearer) ?? [:]
                let response =
                    try row.body.map { try app.client().execute(row.method, path, json: $0, headers: headers) }
                    ?? app.client().execute(row.method, path, headers: headers)
                #expect(response.status == row.expected[caller], "\(row.method) \(path) as \(caller): \(response.status) \(response.text)")
                if response.status == .forbidden, response.text == #"{"detail":"Not enough permissions"}"# {
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix(#"Bearer error="insufficient_scope", scope=""#) == true)
                }
            }
        }
    }

    /// A fresh user of the caller's kind and a token for them (nil for anonymous).
    static func caller(_ kind: Caller, _ app: TestApp, _ n: Int) throws -> (Int64?, String?) {
        let email = "\(kind.rawValue)\(n)@example.com"
        switch kind {
        case .anonymous: return (nil, nil)
        case .member:
            let id = try app.makeUser(email: email)
            return (id, try app.accessToken(for: id, scope: "posts:write"))
        case .moderator:
            let id = try app.makeUser(email: email, roles: [.moderator])
            return (id, try app.accessToken(for: id, scope: "posts:write posts:moderate"))
        case .admin:
            let id = try app.makeUser(email: email, superuser: true)
            return (id, try app.accessToken(for: id, scope: "posts:write posts:moderate users:read users:admin"))
        case .narrowedAdmin:
            let id = try app.makeUser(email: email, superuser: true)
            return (id, try app.accessToken(for: id, scope: "posts:write"))
        case .noScope:
            let id = try app.makeUser(email: email)
            return (id, try app.accessToken(for: id, scope: ""))
        }
    }

    @Test func loginGrantsTheUsersPermissionsAndNarrowsToTheAskedScope() throws {
        let app = try TestApp()
        try app.makeUser(email: "mod@example.com", roles: [.member, .moderator])
        let full = try app.login("mod@example.com")
        #expect(full.status == .ok)
        #expect(try full.json()["scope"] == "posts:write posts:moderate")
        #expect(try Self.claims(of: full, app).scope == "posts:write posts:moderate")

        // Asking for less gets less; asking for more than the user has, or unknown codes, gets the intersection.
        let narrow = try app.client().execute(
            .post, "/api/v1/auth/login",
            form: [("username", "mod@example.com"), ("password", testPassword), ("scope", "posts:write users:admin nonsense")])
        #expect(try narrow.json()["scope"] == "posts:write")
        let access = try #require(try narrow.json()["access_token"]?.stringValue)
        let draft = try app.client().execute(
            .post, "/api/v1/posts", json: ["title": "D", "content": "C"], headers: bearer(try app.accessToken(for: try app.makeUser(email: "a@example.com"))))
        let draftPath = "/api/v1/posts/\(try #require(try draft.json()["id"]?.intValue))"
        #expect(try app.client().get(draftPath, headers: bearer(access)).status == .notFound)
        #expect(try app.client().get(draftPath, headers: bearer(try #require(try full.json()["access_token"]?.stringValue))).status == .ok)

        // A refresh keeps the narrowed grant.
        let refreshed = try app.refresh(try #require(try narrow.json()["refresh_token"]?.stringValue))
        #expect(refreshed.status == .ok)
        #expect(try refreshed.json()["scope"] == "posts:write")
    }

    @Test func aRoleTakenAwayStopsWorkingAtTheNextRequest() throws {
        let app = try TestApp()
        let admin = try app.accessToken(for: try app.makeUser(email: "root@example.com", superuser: true))
        let modID = try app.makeUser(email: "mod@example.com", roles: [.member, .moderator])
        let modToken = try #require(try app.login("mod@example.com").json()["access_token"]?.stringValue)
        let author = try app.accessToken(for: try app.makeUser(email: "author@example.com"))
        let created = try app.client().execute(.post, "/api/v1/posts", json: ["title": "T", "content": "C", "published": true], headers: bearer(author))
        let path = "/api/v1/posts/\(try #require(try created.json()["id"]?.intValue))"
        #expect(try app.client().execute(.patch, path, json: ["title": "Moderated"], headers: bearer(modToken)).status == .ok)

        let set = try app.client().execute(.put, "/api/v1/users/\(modID)/roles", json: ["roles": ["member"]], headers: bearer(admin))
        #expect(set.status == .ok)
        #expect(try set.json() == ["roles": ["member"]])
        // The same, still valid token: the moderation is gone, with RFC 6750's challenge.
        let refused = try app.client().execute(.patch, path, json: ["title": "Again"], headers: bearer(modToken))
        #expect(refused.status == .forbidden)
        #expect(refused.text == #"{"detail":"Not enough permissions"}"#)
        #expect(refused.headers[.wwwAuthenticate] == #"Bearer error="insufficient_scope", scope="posts:moderate""#)
        // Given back, the token's scope counts again (it never asked for less).
        #expect(try app.client().execute(.put, "/api/v1/users/\(modID)/roles", json: ["roles": ["moderator"]], headers: bearer(admin)).status == .ok)
        #expect(try app.client().execute(.patch, path, json: ["title": "Again"], headers: bearer(modToken)).status == .ok)
    }

    @Test func rolesEndpointsAnswerTheirShapesAndAdminIsSuperuser() throws {
        let app = try TestApp()
        let adminID = try app.makeUser(email: "root@example.com", superuser: true)
        let admin = try app.accessToken(for: adminID)
        let roles = try app.client().get("/api/v1/roles", headers: bearer(admin))
        #expect(
            try roles.json() == [
                "items": [
                    ["name": "member", "permissions": ["posts:write"]],
                    ["name": "moderator", "permissions": ["posts:write", "posts:moderate"]],
                    ["name": "admin", "permissions": ["posts:write", "posts:moderate", "users:read", "users:admin"]]
                ]
            ])
        let userID = try app.makeUser(email: "ada@example.com")
        let own = try app.client().get("/api/v1/users/\(userID)/roles", headers: bearer(try app.accessToken(for: userID)))
        #expect(try own.json() == ["roles": ["member"]])
        #expect(try app.client().get("/api/v1/users/\(adminID)/roles", headers: bearer(admin)).json() == ["roles": ["member", "admin"]])

        // admin is is_superuser, both ways.
        let promote = try app.client().execute(.put, "/api/v1/users/\(userID)/roles", json: ["roles": ["admin"]], headers: bearer(admin))
        #expect(try promote.json() == ["roles": ["admin"]])
        #expect(try app.client().get("/api/v1/users/\(userID)", headers: bearer(admin)).json()["is_superuser"] == true)
        _ = try app.client().execute(.patch, "/api/v1/users/\(userID)", json: ["is_superuser": false], headers: bearer(admin))
        #expect(try app.client().get("/api/v1/users/\(userID)/roles", headers: bearer(admin)).json() == ["roles": []])

        // Bad bodies: unknown names, none at all; an unknown user.
        let unknown = try app.client().execute(.put, "/api/v1/users/\(userID)/roles", json: ["roles": ["root"]], headers: bearer(admin))
        #expect(unknown.status == .unprocessableContent)
        #expect(try app.client().execute(.put, "/api/v1/users/\(userID)/roles", json: ["roles": []], headers: bearer(admin)).status == .unprocessableContent)
        #expect(try app.client().execute(.put, "/api/v1/users/999999/roles", json: ["roles": ["member"]], headers: bearer(admin)).status == .notFound)
        #expect(try app.client().get("/api/v1/users/999999/roles", headers: bearer(admin)).status == .notFound)
        let selfChange = try app.client().execute(.put, "/api/v1/users/\(adminID)/roles", json: ["roles": ["member"]], headers: bearer(admin))
        #expect(selfChange.status == .forbidden)
    }

    @Test func theOpenAPIDocumentDeclaresTheScopes() throws {
        let app = try TestApp()
        let doc = app.application.openAPIDocument
        let flow = doc["components"]?["securitySchemes"]?["OAuth2PasswordBearer"]?["flows"]?["password"]
        #expect(flow?["scopes"]?.objectValue?.map(\.0) == ["posts:write", "posts:moderate", "users:read", "users:admin"])
        #expect(doc["paths"]?["/api/v1/users"]?["get"]?["security"]?[0] == ["OAuth2PasswordBearer": ["users:read"]])
        #expect(doc["paths"]?["/api/v1/posts"]?["post"]?["security"]?[0] == ["OAuth2PasswordBearer": ["posts:write"]])
        #expect(doc["paths"]?["/api/v1/users/{id}/roles"]?["put"]?["security"]?[0] == ["OAuth2PasswordBearer": ["users:admin"]])
        #expect(doc["paths"]?["/api/v1/users/me"]?["get"]?["security"]?[0] == ["OAuth2PasswordBearer": []])
        #expect(doc["paths"]?["/api/v1/users"]?["get"]?["responses"]?["403"]?["headers"]?["WWW-Authenticate"] != nil)
    }

    static func claims(of login: TestResponse, _ app: TestApp) throws -> JWTClaims {
        let token = try #require(try login.json()["access_token"]?.stringValue)
        return try app.services.config.auth.signer.verify(token, now: Date())
    }
}
