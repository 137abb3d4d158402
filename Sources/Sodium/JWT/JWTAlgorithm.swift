/// The JWS algorithms we sign and accept. The verifier's algorithm comes from configuration, never from
/// the token: a token whose header names anything else (`none`, `HS512`, `RS256`, ...) is rejected.
public enum JWTAlgorithm: String, Sendable, CaseIterable {
    /// HMAC-SHA-256 with a shared secret of at least 256 bits.
    case hs256 = "HS256"
    /// Ed25519 signatures: other services can verify with the public key alone.
    case edDSA = "EdDSA"
}
