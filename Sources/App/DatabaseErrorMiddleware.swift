import MariaDB
import Web

/// A database that went away or refuses (a Galera node out of its cluster, a read-only server), or a lock it
/// waited on too long (a long ALTER TABLE, a backup), is a 503 the client can retry, not a 500; a uniqueness conflict no controller anticipated is a 409. Controllers map
/// the cases they know (e.g. "Email already registered") themselves.
struct DatabaseErrorMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: AppContext, next: Responder<AppContext>) throws -> Response {
        do {
            return try next(request, context)
        } catch let error as DatabaseError {
            switch error {
            case .commitOutcomeUnknown:
                // Not retried for the client: the write may have been applied (see the README).
                context.logger.error("database commit outcome unknown", metadata: ["error": "\(error)"])
                throw HTTPError(
                    .serviceUnavailable, detail: "The database connection was lost during the commit: the change may have been applied",
                    headers: [.retryAfter: "1"])
            case .connectionLost, .nodeUnavailable, .timeout, .lockWaitTimeout, .deadlock:
                context.logger.error("database unavailable", metadata: ["error": "\(error)"])
                throw HTTPError(.serviceUnavailable, detail: "Service temporarily unavailable", headers: [.retryAfter: "1"])
            case .duplicateKey:
                throw HTTPError(.conflict, detail: "Conflict")
            default:
                throw error
            }
        }
    }
}
