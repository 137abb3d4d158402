import FoundationEssentials
import Web

/// One live session in the caller's list; `current` marks the one the request came with.
struct SessionPublic: SchemaEncodable {
    let id: Int64
    let createdAt: Date
    let lastUsedAt: Date
    let expiresAt: Date
    let userAgent: String?
    let current: Bool

    init(_ session: SessionRecord, currentID: Int64) {
        id = session.id
        createdAt = session.createdAt
        lastUsedAt = session.lastUsedAt
        expiresAt = session.expiresAt
        userAgent = session.userAgent
        current = session.id == currentID
    }

    static let schema = ObjectSchema<SessionPublic>("SessionPublic") {
        Field("id", \.id, .id, example: 4_611_686_018_427_387_904)
        Field("created_at", \.createdAt, .dateTime)
        Field("last_used_at", \.lastUsedAt, .dateTime)
        Field("expires_at", \.expiresAt, .dateTime)
        OptionalField("user_agent", \.userAgent, .string(max: 255), required: true, example: "curl/7.88.1")
        Field("current", \.current, .bool)
    }
}

struct SessionList: SchemaEncodable {
    let items: [SessionPublic]

    static let schema = ObjectSchema<SessionList>("SessionList") {
        Field("items", \.items, .array(.object(SessionPublic.self)))
    }
}
