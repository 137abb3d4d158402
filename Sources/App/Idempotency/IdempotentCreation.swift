import FoundationEssentials
import HTTPTypes
import MariaDB
import Sodium
import Web

/// `Idempotency-Key` on a creating POST (Stripe's and the IETF draft's header): the first request with a key
/// runs and its response is stored in the same transaction as the change it made; the same key and body again
/// answer that response with `Idempotent-Replayed: true`; another body gives 422; a repeat while the first
/// is still running gives 409. Keys belong to a caller scope and live 24 hours.
///
/// Why the response commits with the change: when a commit's outcome is unknown (the connection died during
/// COMMIT), the client can send the same request again and get either the replay (it committed) or a fresh
/// run (it did not), never a second creation. Only a success is stored: an error frees the key, so the
/// client may retry after fixing what was wrong.
struct IdempotentCreation {
    static let header = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!
    static let lifetime: TimeInterval = 24 * 3600
    /// One claim in this many also deletes a batch of expired keys (see `purgeOccasionally`).
    static let purgeOneIn = 100

    /// What the OpenAPI document shows for the header; `keyProblem` enforces the same rule.
    static let headerDoc = HeaderDoc(
        "Idempotency-Key",
        description:
            "Makes the creation safe to retry: the same key with the same body answers the first response again (with "
            + "`Idempotent-Replayed: true`), within 24 hours, per caller.",
        schema: ["type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7E]([\\x20-\\x7E]*[\\x21-\\x7E])?$"])
    static let responses: [ResponseDoc] = [
        .error(.conflict, "A request with this Idempotency-Key is in progress"),
        .json(
            .unprocessableContent,
            schema: ["anyOf": [["$ref": "#/components/schemas/HTTPValidationError"], ["$ref": "#/components/schemas/HTTPError"]]],
            "Validation error, or an Idempotency-Key reused with a different request")
    ]

    /// The request's scope: "user:<id>" or, for an anonymous caller, "addr:<client address>".
    let scope: String

    static func user(_ caller: CurrentUser) -> IdempotentCreation { IdempotentCreation(scope: "user:\(caller.id)") }
    static func address(_ request: Request) -> IdempotentCreation { IdempotentCreation(scope: "addr:\(request.remoteAddress.prefix(58))") }

    /// Runs `create` at most once per key. `create` makes its change in a transaction and calls `record` with
    /// its response inside that transaction; without the header it runs as if there were no key.
    func run(
        _ request: Request, _ context: AppContext,
        _ create: (_ record: (Response) throws -> Void) throws -> Response
    ) throws -> Response {
        guard let key = request.headerFields[Self.header] else { return try create { _ in } }
        if let problem = Self.keyProblem(key) { throw problem }
        let keys = IdempotencyRepository(db: try context.database())
        let now = context.now
        let requestHash = sha256(Array("\(request.method.rawValue) \(request.path)\n".utf8) + request.body)
        if let replay = try claim(key, requestHash, keys, context) { return replay }
        Self.purgeOccasionally(keys, now: now)
        var recorded = false
        do {
            let response = try create { response in
                try keys.complete(scope: scope, key: key, createdAt: now, response: Self.stored(response))
                recorded = true
            }
            if !recorded { try keys.complete(scope: scope, key: key, createdAt: now, response: Self.stored(response)) }
            return response
        } catch {
            // Frees the key unless the change committed with its response (an unknown commit outcome that did
            // commit keeps it). Should this fail too, the key is taken over once no request can still be running.
            try? keys.release(scope: scope, key: key, createdAt: now)
            throw error
        }
    }

    /// Claims the key for this request (nil), or answers from what is stored: the replay, 422 or 409.
    private func claim(_ key: String, _ requestHash: [UInt8], _ keys: IdempotencyRepository, _ context: AppContext) throws -> Response? {
        let now = context.now
        let expiresAt = now.addingTimeInterval(Self.lifetime)
        // A request runs at most the pool's request timeout (the master kills it then): a key in flight for
        // longer belongs to a request that died, and may be taken over.
        let abandonedBefore = now.addingTimeInterval(-max(context.config.pool.requestTimeout, 1))
        for _ in 0..<3 {  // each round loses only to another request that changed the row meanwhile
            if try keys.claim(scope: scope, key: key, requestHash: requestHash, now: now, expiresAt: expiresAt) { return nil }
            guard let record = try keys.find(scope: scope, key: key) else { continue }
            let over = record.expiresAt <= now || (record.response == nil && record.createdAt < abandonedBefore)
            if over {
                if try keys.takeOver(
                    scope: scope, key: key, seenCreatedAt: record.createdAt, requestHash: requestHash, now: now, expiresAt: expiresAt)
                {
                    return nil
                }
                continue
            }
            guard constantTimeEquals(record.requestHash, requestHash) else {
                throw HTTPError(.unprocessableContent, detail: "Idempotency-Key reused with a different request")
            }
            guard let stored = record.response else {
                throw HTTPError(.conflict, detail: "A request with this Idempotency-Key is in progress")
            }
            return Self.replay(stored)
        }
        throw HTTPError(.conflict, detail: "A request with this Idempotency-Key is in progress")
    }

    /// 422 for a key that is not 1-255 printable ASCII characters.
    static func keyProblem(_ key: String) -> ValidationError? {
        let loc: [LocItem] = ["header", "Idempotency-Key"]
        if key.isEmpty { return ValidationError(type: "string_too_short", loc: loc, msg: "String should have at least 1 character", input: .string(key)) }
        if key.utf8.count > 255 {
            return ValidationError(type: "string_too_long", loc: loc, msg: "String should have at most 255 characters", input: [:])
        }
        if !key.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) {
            return ValidationError(
                type: "string_pattern_mismatch", loc: loc, msg: "String should be printable ASCII characters", input: .string(key))
        }
        return nil
    }

    private static func stored(_ response: Response) -> StoredResponse {
        let kept: [HTTPField.Name] = [.contentType, .location, .eTag]
        return StoredResponse(
            status: response.status.code, headers: kept.compactMap { name in response.headerFields[name].map { (name.rawName, $0) } },
            body: response.body)
    }

    private static func replay(_ stored: StoredResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in stored.headers { if let field = HTTPField.Name(name) { fields[field] = value } }
        fields[replayedHeader] = "true"
        return Response(status: HTTPResponse.Status(code: stored.status), headerFields: fields, body: stored.body)
    }

    /// Expired keys go in small batches on one claim in `purgeOneIn`: only requests that carry a key pay, on
    /// average a hundredth of one indexed DELETE of at most 500 rows, and no timer or extra process is needed.
    /// Expired keys that remain meanwhile are harmless: a claim takes an expired key over.
    private static func purgeOccasionally(_ keys: IdempotencyRepository, now: Date) {
        guard Int.random(in: 0..<purgeOneIn) == 0 else { return }
        _ = try? keys.purgeExpired(now: now)
    }
}
