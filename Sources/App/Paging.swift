import FoundationEssentials
import MariaDB
import Sodium
import Web

/// Keyset paging shared by every list route (users, posts, the caller's posts): newest first on
/// (created_at, id), each page read with one more row than it shows to learn whether another follows.

/// The opaque list cursor: base64url of "created_at_micros:id" of the last item shown.
public struct PageCursor: Equatable {
    public let createdAtMicros: Int64
    public let id: Int64

    public init(createdAt: Date, id: Int64) {
        createdAtMicros = Int64((createdAt.timeIntervalSince1970 * 1_000_000).rounded())
        self.id = id
    }

    public var createdAt: Date { Date(timeIntervalSince1970: Double(createdAtMicros) / 1_000_000) }

    public var encoded: String { Base64URL.encode(Array("\(createdAtMicros):\(id)".utf8)) }

    /// 422 (as a query validation error) for anything this type did not write.
    public init(decoding text: String) throws {
        let invalid = ValidationError(type: "value_error", loc: ["query", "cursor"], msg: "Value error, invalid cursor", input: .string(text))
        guard text.count <= 64, let bytes = Base64URL.decode(text), let plain = String(bytes: bytes, encoding: .utf8) else { throw invalid }
        let parts = plain.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let micros = Int64(parts[0]), let id = Int64(parts[1]), micros >= 0, id > 0 else { throw invalid }
        createdAtMicros = micros
        self.id = id
    }
}

extension PageCursor {
    /// The SQL condition "older than the cursor" on `alias`'s (created_at, id). Spelled out
    /// because MariaDB does not turn a row comparison `(a, b) < (?, ?)` into an index range; the leading
    /// `<=` (same rows as `a < ? OR (a = ? AND id < ?)`) gives the optimizer one range to walk backwards.
    static func olderRowsSQL(of alias: String) -> String {
        "\(alias).created_at <= ? AND (\(alias).created_at < ? OR \(alias).id < ?)"
    }
    /// The binds of `olderRowsSQL`.
    var olderRowsBinds: [DatabaseValue] { [.date(createdAt), .date(createdAt), .int(id)] }
}

/// One page of a list: the first `limit` of the rows read (the repository reads `limit + 1`), and the
/// cursor of the next page when there were more.
struct KeysetPage<Item> {
    let items: [Item]
    let nextCursor: String?

    init(_ rows: [Item], limit: Int, key: (Item) -> (createdAt: Date, id: Int64)) {
        items = Array(rows.prefix(limit))
        nextCursor = rows.count > limit ? items.last.map { PageCursor(createdAt: key($0).createdAt, id: key($0).id).encoded } : nil
    }
}

/// `limit` and `cursor` of list routes (users, the caller's posts).
struct PageQuery: SchemaDecodable {
    let limit: Int
    let cursor: PageCursor?

    init(_ v: Validated<PageQuery>) throws {
        limit = v[\.limit]
        cursor = try v[\.cursorText].map(PageCursor.init(decoding:))
    }
    private var cursorText: String? { cursor?.encoded }

    static let schema = ObjectSchema<PageQuery>("PageQuery") {
        Field("limit", \.limit, .int(min: 1, max: 100), default: 20)
        OptionalField("cursor", \.cursorText, .string(max: 64), description: "Opaque; from the previous page's next_cursor")
    }
}
