import FoundationEssentials
import MariaDB
import Web

/// Posts on MariaDB: every read is one statement with the author joined; pages are keyset queries on
/// (created_at, id) served by the posts indexes.
struct PostRepository {
    let db: Connection

    /// Posts drive the join (STRAIGHT_JOIN): on statistics that lag behind a table that just filled up
    /// (InnoDB recalculates them in the background), the optimizer put users first and sorted every post,
    /// 50 ms a page instead of 1. Each post's author is then one primary-key lookup.
    private static let select = """
        SELECT p.id, p.author_id, u.full_name AS author_name, p.title, p.content, p.published, p.version,
               p.created_at, p.updated_at
        FROM posts p STRAIGHT_JOIN users u ON u.id = p.author_id
        """

    private static let selectByID = select + " WHERE p.id = ?"  // made once, not per read

    func find(id: Int64) throws -> Post? {
        try db.query(Self.selectByID, [.int(id)]).first.map(Post.init(row:))
    }

    /// Insert and read-back in one transaction: if reading the new row fails (a lock taken in between, the
    /// database gone), the request answers an error and nothing was written.
    /// `alongside` runs in the same transaction with the new post (an idempotency key records its response).
    func create(
        authorID: Int64, title: String, content: String, published: Bool, now: Date, alongside: (Post) throws -> Void = { _ in }
    ) throws -> Post {
        try db.transaction {
            let id = try db.execute(
                """
                INSERT INTO posts (author_id, title, content, published, version, created_at, updated_at)
                VALUES (?, ?, ?, ?, 1, ?, ?)
                """, [.int(authorID), .string(title), .string(content), .bool(published), .date(now), .date(now)]
            ).lastInsertID
            guard let post = try find(id: id) else { throw HTTPError.notFound }
            try alongside(post)
            return post
        }
    }

    enum Scope {
        case published(authorID: Int64?)
        case author(Int64)
    }

    /// Newest first, strictly after `cursor`: one statement, authors joined.
    func page(_ scope: Scope, limit: Int, after cursor: PageCursor?) throws -> [Post] {
        let statement = Self.pageStatement(scope, limit: limit, after: cursor)
        return try db.query(statement.sql, statement.binds).map(Post.init(row:))
    }

    /// The page query; the SQL text varies only by which fixed filters apply.
    static func pageStatement(_ scope: Scope, limit: Int, after cursor: PageCursor?) -> (sql: String, binds: [DatabaseValue]) {
        var conditions: [String] = []
        var binds: [DatabaseValue] = []
        switch scope {
        case .published(let authorID):
            conditions.append("p.published = TRUE")
            if let authorID {
                conditions.append("p.author_id = ?")
                binds.append(.int(authorID))
            }
        case .author(let authorID):
            conditions.append("p.author_id = ?")
            binds.append(.int(authorID))
        }
        if let cursor {
            conditions.append(PageCursor.olderRowsSQL(of: "p"))
            binds += cursor.olderRowsBinds
        }
        binds.append(.int(Int64(limit)))
        return (select + " WHERE " + conditions.joined(separator: " AND ") + " ORDER BY p.created_at DESC, p.id DESC LIMIT ?", binds)
    }

    /// Applies the change only if nobody changed the post since `version` was read; false otherwise.
    func update(id: Int64, version: Int64, title: String, content: String, published: Bool, now: Date) throws -> Bool {
        try db.execute(
            """
            UPDATE posts SET title = ?, content = ?, published = ?, version = version + 1, updated_at = ?
            WHERE id = ? AND version = ?
            """, [.string(title), .string(content), .bool(published), .date(now), .int(id), .int(version)]
        ).affectedRows == 1
    }

    func delete(id: Int64, version: Int64) throws -> Bool {
        try db.execute("DELETE FROM posts WHERE id = ? AND version = ?", [.int(id), .int(version)]).affectedRows == 1
    }
}
