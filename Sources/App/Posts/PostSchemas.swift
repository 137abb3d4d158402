import FoundationEssentials
import Web

struct PostAuthor: SchemaEncodable {
    let id: Int64
    let fullName: String?
    static let schema = ObjectSchema<PostAuthor>("PostAuthor") {
        Field("id", \.id, .id)
        OptionalField("full_name", \.fullName, .string(max: 100), required: true)
    }
}

/// What the API shows of a post: the author's id and name, never their email.
struct PostPublic: SchemaEncodable {
    let id: Int64
    let title: String
    let content: String
    let published: Bool
    let authorID: Int64
    let author: PostAuthor
    let createdAt: Date
    let updatedAt: Date

    init(_ post: Post) {
        id = post.id
        title = post.title
        content = post.content
        published = post.published
        authorID = post.authorID
        author = PostAuthor(id: post.authorID, fullName: post.authorName)
        createdAt = post.createdAt
        updatedAt = post.updatedAt
    }

    static let schema = ObjectSchema<PostPublic>("PostPublic") {
        Field("id", \.id, .id, example: 1)
        Field("title", \.title, .string(min: 1, max: 200), example: "Hello")
        Field("content", \.content, .string(max: 100_000))
        Field("published", \.published, .bool)
        Field("author_id", \.authorID, .id)
        Field("author", \.author, .object(PostAuthor.self))
        Field("created_at", \.createdAt, .dateTime)
        Field("updated_at", \.updatedAt, .dateTime)
    }
}

struct PostCreate: SchemaDecodable {
    let title: String, content: String, published: Bool
    init(_ v: Validated<PostCreate>) {
        title = v[\.title]
        content = v[\.content]
        published = v[\.published]
    }
    static let schema = ObjectSchema<PostCreate>("PostCreate") {
        Field("title", \.title, .string(min: 1, max: 200, notBlank: true), example: "Hello")
        Field("content", \.content, .string(max: 100_000), example: "First post")
        Field("published", \.published, .bool, default: false)
    }
}

/// PUT: every field required.
struct PostReplace: SchemaDecodable {
    let title: String, content: String, published: Bool
    init(_ v: Validated<PostReplace>) {
        title = v[\.title]
        content = v[\.content]
        published = v[\.published]
    }
    static let schema = ObjectSchema<PostReplace>("PostReplace") {
        Field("title", \.title, .string(min: 1, max: 200, notBlank: true))
        Field("content", \.content, .string(max: 100_000))
        Field("published", \.published, .bool)
    }
}

/// PATCH: any subset.
struct PostPatch: SchemaDecodable {
    let title: String?, content: String?, published: Bool?
    init(_ v: Validated<PostPatch>) {
        title = v[\.title]
        content = v[\.content]
        published = v[\.published]
    }
    static let schema = ObjectSchema<PostPatch>("PostPatch") {
        OptionalField("title", \.title, .string(min: 1, max: 200, notBlank: true), description: "Absent or null leaves it unchanged")
        OptionalField("content", \.content, .string(max: 100_000), description: "Absent or null leaves it unchanged")
        OptionalField("published", \.published, .bool, description: "Absent or null leaves it unchanged")
    }
}

struct PostPage: SchemaEncodable {
    let items: [PostPublic]
    let nextCursor: String?
    static let schema = ObjectSchema<PostPage>("PostPage") {
        Field("items", \.items, .array(.object(PostPublic.self)))
        OptionalField("next_cursor", \.nextCursor, .string(), required: true)
    }
}

struct PostListQuery: SchemaDecodable {
    let limit: Int
    let cursor: PageCursor?
    let authorID: Int64?

    init(_ v: Validated<PostListQuery>) throws {
        limit = v[\.limit]
        cursor = try v[\.cursorText].map(PageCursor.init(decoding:))
        authorID = v[\.authorID]
    }
    private var cursorText: String? { cursor?.encoded }

    static let schema = ObjectSchema<PostListQuery>("PostListQuery") {
        Field("limit", \.limit, .int(min: 1, max: 100), default: 20)
        OptionalField("cursor", \.cursorText, .string(max: 64), description: "Opaque; from the previous page's next_cursor")
        OptionalField("author_id", \.authorID, .id)
    }
}
