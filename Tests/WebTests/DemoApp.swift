import Foundation
import HTTPTypes
import Logging
import TestSupport
import Web

// A tiny app on the web layer, for these tests only: a few schemas and routes exercising every feature.

struct DemoContext: RequestContext {
    var requestID: String
    var logger: Logger
}

struct UserCreate: SchemaDecodable {
    let email: String
    let password: String
    let fullName: String?

    static let schema = ObjectSchema<UserCreate>("UserCreate", example: ["email": "ada@example.com", "password": "correct horse", "full_name": "Ada"]) {
        Field("email", \.email, .email(maxLength: 254), description: "Login email")
        Field("password", \.password, .string(min: 8, max: 128), secret: true)
        OptionalField("full_name", \.fullName, .string(max: 100))
    }
    init(_ v: Validated<UserCreate>) {
        email = v[\.email]
        password = v[\.password]
        fullName = v[\.fullName]
    }
}

struct UserPublic: SchemaEncodable {
    let id: Int64
    let email: String
    let fullName: String?
    let isActive: Bool
    let createdAt: Date

    static let schema = ObjectSchema<UserPublic>("UserPublic") {
        Field("id", \.id, .id)
        Field("email", \.email, .email())
        OptionalField("full_name", \.fullName, .string(max: 100), required: true)
        Field("is_active", \.isActive, .bool)
        Field("created_at", \.createdAt, .dateTime)
    }
}

struct PasswordChange: SchemaDecodable {
    let currentPassword: String
    let newPassword: String
    static let schema = ObjectSchema<PasswordChange>("PasswordChange") {
        Field("current_password", \.currentPassword, .string(min: 1, max: 128), secret: true)
        Field("new_password", \.newPassword, .string(min: 8, max: 128), secret: true)
    }
    init(_ v: Validated<PasswordChange>) throws {
        currentPassword = v[\.currentPassword]
        newPassword = v[\.newPassword]
        if currentPassword == newPassword {
            throw ValidationError.valueError("new password must differ", loc: ["body", "new_password"])
        }
    }
}

struct Author: SchemaDecodable {
    let id: Int64
    let fullName: String?
    static let schema = ObjectSchema<Author>("Author") {
        Field("id", \.id, .id)
        OptionalField("full_name", \.fullName, .string(max: 100), required: true)
    }
    init(_ v: Validated<Author>) {
        id = v[\.id]
        fullName = v[\.fullName]
    }
    init(id: Int64, fullName: String?) {
        self.id = id
        self.fullName = fullName
    }
}

struct PostCreate: SchemaDecodable {
    let title: String
    let content: String
    let published: Bool
    static let schema = ObjectSchema<PostCreate>("PostCreate") {
        Field("title", \.title, .string(min: 1, max: 200, notBlank: true))
        Field("content", \.content, .string(max: 100_000))
        Field("published", \.published, .bool, default: false)
    }
    init(_ v: Validated<PostCreate>) {
        title = v[\.title]
        content = v[\.content]
        published = v[\.published]
    }
}

struct PostPublic: SchemaEncodable {
    let id: Int64
    let title: String
    let author: Author
    static let schema = ObjectSchema<PostPublic>("PostPublic") {
        Field("id", \.id, .id)
        Field("title", \.title, .string())
        Field("author", \.author, .object())
    }
}

struct PostPage: SchemaEncodable {
    let items: [PostPublic]
    let nextCursor: String?
    static let schema = ObjectSchema<PostPage>("PostPage") {
        Field("items", \.items, .array(.object()))
        OptionalField("next_cursor", \.nextCursor, .string(), required: true)
    }
}

struct ListQuery: SchemaDecodable {
    let limit: Int
    let cursor: String?
    let authorID: Int64?
    static let schema = ObjectSchema<ListQuery>("ListQuery") {
        Field("limit", \.limit, .int(min: 1, max: 100), default: 20, description: "Page size")
        OptionalField("cursor", \.cursor, .string(max: 200))
        OptionalField("author_id", \.authorID, .id)
    }
    init(_ v: Validated<ListQuery>) {
        limit = v[\.limit]
        cursor = v[\.cursor]
        authorID = v[\.authorID]
    }
}

struct LoginForm: SchemaDecodable {
    let username: String
    let password: String
    let grantType: String?
    let scope: String
    static let schema = ObjectSchema<LoginForm>("LoginForm") {
        Field("username", \.username, .string(min: 1))
        Field("password", \.password, .string(min: 1), secret: true)
        OptionalField("grant_type", \.grantType, .string(pattern: "^password$"))
        Field("scope", \.scope, .string(), default: "")
    }
    init(_ v: Validated<LoginForm>) {
        username = v[\.username]
        password = v[\.password]
        grantType = v[\.grantType]
        scope = v[\.scope]
    }
}

/// Every kind at once, for type-error and property tests.
struct Widget: SchemaDecodable {
    let name: String
    let count: Int
    let flag: Bool
    let ratio: Double?
    let tags: [String]
    let owner: Author?
    let kind: String
    static let schema = ObjectSchema<Widget>("Widget") {
        Field("name", \.name, .string(min: 2, max: 10))
        Field("count", \.count, .int(min: 0, max: 10))
        Field("flag", \.flag, .bool)
        OptionalField("ratio", \.ratio, .number(min: 0, max: 1))
        Field("tags", \.tags, .array(.string(max: 5), maxItems: 3), default: [])
        OptionalField("owner", \.owner, .object())
        Field("kind", \.kind, .oneOf(["a", "b"]), default: "a")
    }
    init(_ v: Validated<Widget>) {
        name = v[\.name]
        count = v[\.count]
        flag = v[\.flag]
        ratio = v[\.ratio]
        tags = v[\.tags]
        owner = v[\.owner]
        kind = v[\.kind]
    }
}

extension Widget: Equatable {
    static func == (a: Widget, b: Widget) -> Bool { a.name == b.name && a.count == b.count && a.flag == b.flag }
}

struct Boom: Error { let secret = "db password in here" }

/// The app's route security in miniature: the bearer token itself is the caller.
struct DemoBearer: RouteSecurity {
    var security: Security { .bearer }
    func authenticate(_ request: Request, _ context: DemoContext) throws -> String {
        guard let token = request.bearerToken else { throw HTTPError.unauthorized() }
        return token
    }
}

struct DemoOptionalBearer: RouteSecurity {
    var security: Security { .optionalBearer }
    func authenticate(_ request: Request, _ context: DemoContext) throws -> String? { request.bearerToken }
}

struct DemoGroupTag: RouterMiddleware {
    let value: String
    func handle(_ request: Request, context: DemoContext, next: Responder<DemoContext>) throws -> Response {
        var r = try next(request, context)
        r.headerFields.append(HTTPField(name: HTTPField.Name("X-Group")!, value: value))
        return r
    }
}

let demoPostETag = ETag("post-7-v3")
let fixedDate = Date(timeIntervalSince1970: 1_790_000_000.123456)

func makeDemoApp(_ configuration: WebConfiguration = WebConfiguration(), logs: LogStore = LogStore()) -> Application<DemoContext> {
    let router = Router<DemoContext>()
    let api = router.group("/api/v1")

    api.get("/health", RouteDoc(summary: "Liveness", tags: ["health"], responses: [.json(.ok, schema: ["type": "object"], example: ["status": "ok"])])) {
        _, _ in
        .json(["status": "ok"])
    }

    let users = api.group("/users", tags: ["users"])
    users.post(
        "", .json(UserCreate.self),
        RouteDoc(
            summary: "Sign up",
            responses: [.json(.created, UserPublic.self, headers: [("Location", "The new user")]), .error(.conflict, "Email already registered")])
    ) { _, _, body in
        let user = UserPublic(id: 1, email: body.email, fullName: body.fullName, isActive: true, createdAt: fixedDate)
        return .json(user, status: .created, headers: [.location: "/api/v1/users/1"])
    }
    users.get("/me", DemoBearer(), RouteDoc(summary: "Current user", responses: [.json(.ok, UserPublic.self)])) { _, _, user in
        .json(["user": .string(user)])
    }
    users.post("/me/password", DemoBearer(), .json(PasswordChange.self), RouteDoc(responses: [.empty(.noContent)])) { _, _, _, _ in .noContent }
    users.get(
        "/{id:id}", DemoBearer(),
        RouteDoc(
            summary: "A user", responses: [.json(.ok, UserPublic.self), .error(.notFound)],
            parameterDescriptions: ["id": "The user id"])
    ) { req, _, _ in
        .json(["id": .int(try req.parameters.int64("id"))])
    }
    users.get("/{id:id}/posts", DemoBearer()) { req, _, _ in .json(["posts_of": .int(try req.parameters.int64("id"))]) }

    let auth = api.group("/auth", tags: ["auth"], sensitive: true)
    auth.post("/login", .form(LoginForm.self), RouteDoc(summary: "Log in", responses: [.json(.ok, schema: ["type": "object"])])) { _, _, form in
        .json(["user": .string(form.username), "scope": .string(form.scope), "grant_type": form.grantType.map(JSONValue.string) ?? .null])
    }

    let posts = api.group("/posts", tags: ["posts"])
    posts.get("", .query(ListQuery.self), RouteDoc(summary: "List posts", responses: [.json(.ok, PostPage.self)])) { _, _, q in
        .json(["limit": .int(Int64(q.limit)), "cursor": q.cursor.map(JSONValue.string) ?? .null, "author_id": q.authorID.map(JSONValue.int) ?? .null])
    }
    posts.get("/{id:id}", DemoOptionalBearer(), RouteDoc(responses: [.json(.ok, PostPublic.self, headers: [("ETag", "Version")]), .empty(.notModified)])) {
        req, _, _ in
        if let notModified = Conditional.notModified(req, etag: demoPostETag) { return notModified }
        return Response.json(PostPublic(id: try req.parameters.int64("id"), title: "t", author: Author(id: 1, fullName: nil))).with(etag: demoPostETag)
    }
    posts.put("/{id:id}", DemoBearer(), .json(PostCreate.self), RouteDoc(responses: [.json(.ok, PostPublic.self), .error(.preconditionFailed)])) {
        req, _, _, body in
        try Conditional.checkIfMatch(req, current: demoPostETag)
        return Response.json(PostPublic(id: try req.parameters.int64("id"), title: body.title, author: Author(id: 1, fullName: "A")))
            .with(etag: ETag("post-7-v4"))
    }
    posts.delete("/{id:id}", DemoBearer(), RouteDoc(responses: [.empty(.noContent)])) { _, _, _ in .noContent }

    api.post("/widgets", .json(Widget.self)) { _, _, w in .json(["name": .string(w.name), "count": .int(Int64(w.count))]) }
    api.get("/search", .query(ListQuery.self)) { _, _, q in .json(["limit": .int(Int64(q.limit))]) }

    router.get("/files/{name}") { req, _ in .text(req.parameters["name"] ?? "") }
    router.get("/files/static") { _, _ in .text("static") }
    router.get("/boom", RouteDoc(includeInSchema: false)) { _, _ in throw Boom() }
    router.get("/teapot", RouteDoc(includeInSchema: false)) { _, _ in throw HTTPError(.init(code: 418), detail: "short and stout", headers: [.retryAfter: "5"])
    }

    let admin = router.group("/admin", middleware: [DemoGroupTag(value: "admin")])
    admin.get("/stats") { _, _ in .json(["ok": true]) }

    return Application(router: router, configuration: configuration, logger: logs.logger()) { _, id, logger in
        DemoContext(requestID: id, logger: logger)
    }
}

func demoClient(_ configuration: WebConfiguration = WebConfiguration(), logs: LogStore = LogStore()) -> InProcessTestClient<DemoContext> {
    InProcessTestClient(makeDemoApp(configuration, logs: logs))
}
