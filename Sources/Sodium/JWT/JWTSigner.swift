import FoundationEssentials

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

        guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerJSON)) else {
            throw JWTError.malformed
        }
        guard header.alg == algorithm.rawValue else { throw JWTError.unsupportedAlgorithm }
        // We implement no header extensions, so a token that demands one must be refused (RFC 7515 §4.1.11).
        guard !header.hasCrit else { throw JWTError.malformed }

        let candidates = header.kid.map { kid in keys.filter { $0.kid == kid } } ?? keys
        guard !candidates.isEmpty else { throw JWTError.unknownKey }
        let signingInput = Array(bytes[..<parts[1].endIndex])
        guard candidates.contains(where: { $0.isValidSignature(signature, for: signingInput) }) else {
            throw JWTError.badSignature
        }

        guard let claims = try? JSONDecoder().decode(JWTClaims.self, from: Data(payloadJSON)) else {
            throw JWTError.invalidClaims
        }
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
private struct Header: Codable {
    var alg: String
    var typ: String?
    var kid: String?
    var hasCrit = false

    init(alg: String, typ: String?, kid: String?) {
        self.alg = alg
        self.typ = typ
        self.kid = kid
    }

    private enum CodingKeys: String, CodingKey { case alg, typ, kid, crit }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        alg = try c.decode(String.self, forKey: .alg)
        typ = try? c.decodeIfPresent(String.self, forKey: .typ)
        kid = try c.decodeIfPresent(String.self, forKey: .kid)
        hasCrit = c.contains(.crit)
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(alg, forKey: .alg)
        try c.encodeIfPresent(typ, forKey: .typ)
        try c.encodeIfPresent(kid, forKey: .kid)
    }
}
