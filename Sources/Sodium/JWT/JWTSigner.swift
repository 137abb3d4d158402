import FoundationEssentials
import JSON

/// Signs and verifies compact JWS tokens (RFC 7515/7519) with one configured algorithm.
///
/// One key signs; every configured key (the signing key plus `verificationKeys`) verifies, chosen by
/// the token's `kid`, so keys can rotate without logging anyone out.
public struct JWTSigner: Sendable {
    /// Longer inputs are refused before any parsing.
    public static let maximumTokenLength = 8192

    public let algorithm: JWTAlgorithm
    public let issuer: String?
    public let audience: String?
    /// Seconds of clock skew tolerated on `exp` and `iat`.
    public let leeway: Int
    private let signingKey: JWTKey
    private let keys: [JWTKey]

    /// Throws `invalidConfiguration` when a key is of another algorithm, the signing key cannot sign,
    /// two different keys share a kid, or the leeway is outside 0...3600 seconds.
    public init(
        algorithm: JWTAlgorithm, signingKey: JWTKey, verificationKeys: [JWTKey] = [],
        issuer: String? = nil, audience: String? = nil, leeway: Int = 30
    ) throws {
        guard signingKey.canSign else {
            throw JWTError.invalidConfiguration("the signing key has no private material")
        }
        var keys = [signingKey]
        for key in verificationKeys where !keys.contains(where: { $0.verifiesLike(key) }) {
            keys.append(key)
        }
        guard keys.allSatisfy({ $0.algorithm == algorithm }) else {
            throw JWTError.invalidConfiguration("every key must use the configured algorithm")
        }
        let kids = keys.compactMap(\.kid)
        guard Set(kids).count == kids.count else {
            throw JWTError.invalidConfiguration("two different keys share a kid")
        }
        guard (0...3600).contains(leeway) else {
            throw JWTError.invalidConfiguration("leeway must be between 0 and 3600 seconds")
        }
        self.algorithm = algorithm
        self.signingKey = signingKey
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
    }

    /// A signed token. `iss` and `aud` default to the configured issuer and audience.
    public func sign(claims: JWTClaims) throws -> String {
        var claims = claims
        if claims.iss == nil { claims.iss = issuer }
        if claims.aud == nil, let audience { claims.aud = [audience] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let header = Header(alg: algorithm.rawValue, typ: "JWT", kid: signingKey.kid)
        let signingInput =
            Base64URL.encode(Array(try encoder.encode(header))) + "."
            + Base64URL.encode(Array(try encoder.encode(claims)))
        let signature = signingKey.signature(for: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// The claims of `token` once its form, algorithm, key, signature and claims all check out.
    public func verify(_ token: String, now: Date = Date()) throws -> JWTClaims {
        let bytes = Array(token.utf8)
        guard bytes.count <= Self.maximumTokenLength else { throw JWTError.malformed }
        let parts = bytes.split(separator: UInt8(ascii: "."), maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 3,
            let headerJSON = Base64URL.decode(utf8: parts[0]),
            let payloadJSON = Base64URL.decode(utf8: parts[1]),
            let signature = Base64URL.decode(utf8: parts[2])
        else { throw JWTError.malformed }

        let header = try Header(json: headerJSON)
        guard header.alg == algorithm.rawValue else { throw JWTError.unsupportedAlgorithm }

        let candidates = header.kid.map { kid in keys.filter { $0.kid == kid } } ?? keys
        guard !candidates.isEmpty else { throw JWTError.unknownKey }
        let signingInput = Array(bytes[..<parts[1].endIndex])
        guard candidates.contains(where: { $0.isValidSignature(signature, for: signingInput) }) else {
            throw JWTError.badSignature
        }

        guard let payload = try? JSONValue.parse(payloadJSON) else { throw JWTError.invalidClaims }
        let claims = try JWTClaims(json: payload)
        try check(claims, now: Int(now.timeIntervalSince1970.rounded(.down)))
        return claims
    }

    private func check(_ claims: JWTClaims, now: Int) throws {
        guard !claims.sub.isEmpty, !claims.sid.isEmpty, !claims.jti.isEmpty else {
            throw JWTError.invalidClaims
        }
        // Written so that no claim value takes part in arithmetic: huge values cannot overflow.
        guard claims.exp > now - leeway else { throw JWTError.expired }
        guard claims.iat <= now + leeway else { throw JWTError.notYetValid }
        if let issuer, claims.iss != issuer { throw JWTError.invalidIssuer }
        if let audience, !(claims.aud ?? []).contains(audience) { throw JWTError.invalidAudience }
    }
}

/// The JOSE header: `alg` must be a string; `kid`, when present, too.
private struct Header: Encodable {
    var alg: String
    var typ: String?
    var kid: String?

    init(alg: String, typ: String?, kid: String?) {
        self.alg = alg
        self.typ = typ
        self.kid = kid
    }

    /// Read before the signature is checked: anything but an object with a string `alg` (and a string or
    /// null `kid`) is malformed, and so is `crit`: we implement no header extensions, so a token that demands
    /// one must be refused (RFC 7515 §4.1.11). `typ` is informational and not checked.
    init(json bytes: [UInt8]) throws {
        guard let json = try? JSONValue.parse(bytes), case .string(let alg)? = json["alg"], json["crit"] == nil else {
            throw JWTError.malformed
        }
        switch json["kid"] {
        case nil, .null?: kid = nil
        case .string(let value)?: kid = value
        default: throw JWTError.malformed
        }
        self.alg = alg
        typ = nil
    }
}
