/// Why a token was refused or a key/configuration was not accepted.
/// Messages are fixed texts: they never contain the token, a claim value or key material.
public enum JWTError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed
    case unsupportedAlgorithm
    case badSignature
    case unknownKey
    case expired
    case notYetValid
    case invalidClaims
    case invalidIssuer
    case invalidAudience
    /// Key material of the wrong size or shape (the reason is ours, never the key).
    case invalidKey(String)
    /// A signer configuration that cannot work (the reason is ours, never a key).
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .malformed: return "malformed token"
        case .unsupportedAlgorithm: return "token algorithm not accepted"
        case .badSignature: return "token signature does not verify"
        case .unknownKey: return "token signed with an unknown key id"
        case .expired: return "token expired"
        case .notYetValid: return "token issued in the future"
        case .invalidClaims: return "token claims missing or of the wrong type"
        case .invalidIssuer: return "token issuer not accepted"
        case .invalidAudience: return "token audience not accepted"
        case .invalidKey(let reason): return "invalid JWT key: \(reason)"
        case .invalidConfiguration(let reason): return "invalid JWT configuration: \(reason)"
        }
    }
}
