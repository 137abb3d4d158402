import CMariaDB

/// Everything this module throws. Messages never contain the password or bound values: server messages
/// that echo data (duplicate entry, incorrect value) have their quoted parts redacted.
public enum DatabaseError: Error, Equatable, CustomStringConvertible {
    /// ER_DUP_ENTRY: `key` is the index name, e.g. "users_email_unique" ("PRIMARY" for the primary key).
    case duplicateKey(key: String)
    /// A row refers to a missing parent, or a parent still has children (ER_NO_REFERENCED_ROW_2 / ER_ROW_IS_REFERENCED_2).
    case foreignKeyViolation(message: String)
    /// The server is unreachable or the connection broke; the next call outside a transaction reconnects.
    case connectionLost(message: String)
    /// The server is up but refuses to serve: a Galera node that is not synced with its cluster (not in the
    /// primary component, a donor or joiner, or told to reject queries: error 1047), or a read-only server
    /// asked to write. The statement did not run; the connection moves to another node.
    case nodeUnavailable(message: String)
    /// The connection broke while COMMIT was under way: the transaction may or may not have been applied.
    /// Never retried blindly.
    case commitOutcomeUnknown(message: String)
    /// The statement or the connection timed out (max_statement_time, connect timeout).
    case timeout(message: String)
    /// ER_LOCK_DEADLOCK (1213): the transaction was rolled back; `transaction` retries it.
    case deadlock
    /// ER_LOCK_WAIT_TIMEOUT (1205); `transaction` retries it.
    case lockWaitTimeout
    /// Any other server or client error.
    case server(code: Int, message: String)
    /// Bad configuration (malformed URL and the like).
    case configuration(String)
    /// Misuse of the API: wrong number of binds, nested transaction, and the like.
    case usage(String)
    /// Reading a row: missing column, or a value of another type than asked for.
    case decoding(String)

    public var description: String {
        switch self {
        case .duplicateKey(let key): return "duplicate entry for key '\(key)'"
        case .foreignKeyViolation(let message): return "foreign key violation: \(message)"
        case .connectionLost(let message): return "database connection lost: \(message)"
        case .nodeUnavailable(let message): return "database node unavailable: \(message)"
        case .commitOutcomeUnknown(let message): return "database commit outcome unknown: \(message)"
        case .timeout(let message): return "database timeout: \(message)"
        case .deadlock: return "deadlock found when trying to get lock"
        case .lockWaitTimeout: return "lock wait timeout exceeded"
        case .server(let code, let message): return "database error \(code): \(message)"
        case .configuration(let message): return "database configuration: \(message)"
        case .usage(let message): return "database API misuse: \(message)"
        case .decoding(let message): return "reading a row: \(message)"
        }
    }

    /// Worth running the whole transaction again: it was rolled back (a deadlock or a Galera certification
    /// conflict, both 1213; a lock-wait timeout), or its node went away or refused before COMMIT.
    public var isRetryableInTransaction: Bool {
        switch self {
        case .deadlock, .lockWaitTimeout, .connectionLost, .nodeUnavailable: return true
        default: return false
        }
    }

    /// Connection-level failures after which the handle must be dropped and reopened (on another node,
    /// when there are several).
    var breaksConnection: Bool {
        switch self {
        case .connectionLost, .nodeUnavailable: return true
        default: return false
        }
    }

    /// Maps an error code and message from libmariadb or the server into a typed error.
    static func from(code: UInt32, message: String) -> DatabaseError {
        switch Int32(code) {
        case ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME:
            return .duplicateKey(key: duplicateKeyName(in: message) ?? "unknown")
        case ER_NO_REFERENCED_ROW, ER_NO_REFERENCED_ROW_2, ER_ROW_IS_REFERENCED, ER_ROW_IS_REFERENCED_2:
            return .foreignKeyViolation(message: message)
        case ER_LOCK_DEADLOCK: return .deadlock
        case ER_LOCK_WAIT_TIMEOUT: return .lockWaitTimeout
        case ER_STATEMENT_TIMEOUT: return .timeout(message: message)
        // 1047 is what a Galera node answers while it cannot serve (wsrep_ready OFF, wsrep_reject_queries);
        // 1290 and 1836 are a read-only server's refusals.
        case ER_UNKNOWN_COM_ERROR, ER_OPTION_PREVENTS_STATEMENT, ER_READ_ONLY_MODE:
            return .nodeUnavailable(message: message)
        case CR_SERVER_GONE_ERROR, CR_SERVER_LOST, CR_SERVER_LOST_EXTENDED, CR_CONNECTION_ERROR,
            CR_CONN_HOST_ERROR, CR_UNKNOWN_HOST, CR_IPSOCK_ERROR, CR_SOCKET_CREATE_ERROR,
            ER_CONNECTION_KILLED, ER_SERVER_SHUTDOWN, CR_COMMANDS_OUT_OF_SYNC:
            return .connectionLost(message: message)
        default:
            return .server(code: Int(code), message: redactingEchoedValues(code: code, message))
        }
    }

    /// "Duplicate entry 'x@y' for key 'users_email_unique'" → users_email_unique.
    /// MariaDB may prefix the table ("posts.PRIMARY" in some versions); keep only the key's own name.
    static func duplicateKeyName(in message: String) -> String? {
        guard let forKey = message.ranges(of: "for key '").last else { return nil }
        let tail = message[forKey.upperBound...]
        guard let end = tail.lastIndex(of: "'") else { return nil }
        let name = tail[..<end]
        return String(name.split(separator: ".").last ?? name)
    }

    /// Error codes whose messages quote the offending value (which may be user data or a secret).
    private static let valueEchoingCodes: Set<Int32> = [
        ER_TRUNCATED_WRONG_VALUE, ER_TRUNCATED_WRONG_VALUE_FOR_FIELD, ER_WRONG_VALUE_FOR_VAR,
        ER_ILLEGAL_VALUE_FOR_TYPE, ER_WRONG_VALUE, ER_DATA_OUT_OF_RANGE, ER_INVALID_CHARACTER_STRING
    ]

    /// Replaces every single-quoted part of the message by '…' for the codes above.
    static func redactingEchoedValues(code: UInt32, _ message: String) -> String {
        guard valueEchoingCodes.contains(Int32(code)) else { return message }
        var out = ""
        var inQuote = false
        for ch in message {
            if ch == "'" {
                out.append(inQuote ? "…'" : "'")
                inQuote.toggle()
            } else if !inQuote {
                out.append(ch)
            }
        }
        return out
    }
}
