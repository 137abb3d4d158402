import FoundationEssentials
import MariaDB

/// A stored Idempotency-Key: the request it was first used with and, once that request's change committed,
/// the response to replay (nil while the request is in flight).
struct IdempotencyRecord {
    let requestHash: [UInt8]
    let createdAt: Date
    let expiresAt: Date
    let response: StoredResponse?
}

/// What a replay answers: status, the headers worth repeating (Location, ETag, Content-Type) and the body.
struct StoredResponse {
    let status: Int
    let headers: [(String, String)]
    let body: [UInt8]
}

/// Idempotency keys per caller scope; prepared statements only.
public struct IdempotencyRepository {
    let db: Connection
    public init(db: Connection) { self.db = db }

    /// Takes a key for a request starting now; false when the key is already stored (alive or not).
    func claim(scope: String, key: String, requestHash: [UInt8], now: Date, expiresAt: Date) throws -> Bool {
        do {
            try db.execute(
                "INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                [.string(scope), .string(key), .bytes(Data(requestHash)), .date(now), .date(expiresAt)])
            return true
        } catch DatabaseError.duplicateKey {
            return false
        }
    }

    func find(scope: String, key: String) throws -> IdempotencyRecord? {
        guard
            let row = try db.query(
                """
                SELECT request_hash, created_at, expires_at, response_status, response_headers, response_body
                FROM idempotency_keys WHERE scope = ? AND idempotency_key = ?
                """, [.string(scope), .string(key)]
            ).first
        else { return nil }
        let status: Int64? = try row.get("response_status")
        let response = try status.map { status in
            let headerText: String = try row.get("response_headers")
            let body: Data = try row.get("response_body")
            return StoredResponse(status: Int(status), headers: Self.decodeHeaders(headerText), body: Array(body))
        }
        let hash: Data = try row.get("request_hash")
        return IdempotencyRecord(requestHash: Array(hash), createdAt: try row.get("created_at"), expiresAt: try row.get("expires_at"), response: response)
    }

    /// Takes over a key whose record is over (expired, or a request that can no longer be running): true for
    /// the one caller whose update found the record as it read it.
    func takeOver(scope: String, key: String, seenCreatedAt: Date, requestHash: [UInt8], now: Date, expiresAt: Date) throws -> Bool {
        try db.execute(
            """
            UPDATE idempotency_keys SET request_hash = ?, created_at = ?, expires_at = ?,
                response_status = NULL, response_headers = NULL, response_body = NULL
            WHERE scope = ? AND idempotency_key = ? AND created_at = ?
            """,
            [.bytes(Data(requestHash)), .date(now), .date(expiresAt), .string(scope), .string(key), .date(seenCreatedAt)]
        ).affectedRows == 1
    }

    /// Stores the response of the request that holds the key (call in the transaction of its change).
    func complete(scope: String, key: String, createdAt: Date, response: StoredResponse) throws {
        try db.execute(
            """
            UPDATE idempotency_keys SET response_status = ?, response_headers = ?, response_body = ?
            WHERE scope = ? AND idempotency_key = ? AND created_at = ? AND response_status IS NULL
            """,
            [
                .int(Int64(response.status)), .string(Self.encodeHeaders(response.headers)), .bytes(Data(response.body)),
                .string(scope), .string(key), .date(createdAt)
            ])
    }

    /// Frees a key whose request failed, so that the client can try again; never a completed one.
    func release(scope: String, key: String, createdAt: Date) throws {
        try db.execute(
            "DELETE FROM idempotency_keys WHERE scope = ? AND idempotency_key = ? AND created_at = ? AND response_status IS NULL",
            [.string(scope), .string(key), .date(createdAt)])
    }

    /// Deletes up to `limit` expired keys; returns how many went.
    @discardableResult
    public func purgeExpired(now: Date, limit: Int = 500) throws -> Int {
        try db.execute("DELETE FROM idempotency_keys WHERE expires_at <= ? LIMIT ?", [.date(now), .int(Int64(limit))]).affectedRows
    }

    /// One `Name: value` line per header (names and values hold no newline).
    static func encodeHeaders(_ headers: [(String, String)]) -> String {
        headers.map { "\($0.0): \($0.1)" }.joined(separator: "\n")
    }

    static func decodeHeaders(_ text: String) -> [(String, String)] {
        text.split(separator: "\n").compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...].dropFirst()))
        }
    }
}
