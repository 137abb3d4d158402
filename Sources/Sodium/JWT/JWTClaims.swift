/// The claims of our access tokens. Decoding is strict: `sub`, `sid`, `jti` must be JSON strings and
/// `iat`, `exp` JSON integers (seconds since 1970); `aud` may be a string or an array of strings.
public struct JWTClaims: Codable, Equatable, Sendable {
    /// The user id.
    public var sub: String
    /// The session id.
    public var sid: String
    public var iat: Int
    public var exp: Int
    /// A unique token id.
    public var jti: String
    public var iss: String?
    public var aud: [String]?
    /// The granted OAuth2 scopes, space-separated (RFC 8693's `scope` claim); nil in tokens made before scopes.
    public var scope: String?

    public init(
        sub: String, sid: String, iat: Int, exp: Int, jti: String, iss: String? = nil, aud: [String]? = nil, scope: String? = nil
    ) {
        self.sub = sub
        self.sid = sid
        self.iat = iat
        self.exp = exp
        self.jti = jti
        self.iss = iss
        self.aud = aud
        self.scope = scope
    }

    private enum CodingKeys: String, CodingKey {
        case sub, sid, iat, exp, jti, iss, aud, scope
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sub = try c.decode(String.self, forKey: .sub)
        sid = try c.decode(String.self, forKey: .sid)
        iat = try c.decode(Int.self, forKey: .iat)
        exp = try c.decode(Int.self, forKey: .exp)
        jti = try c.decode(String.self, forKey: .jti)
        iss = try c.decodeIfPresent(String.self, forKey: .iss)
        if let single = try? c.decodeIfPresent(String.self, forKey: .aud) {
            aud = [single]
        } else {
            aud = try c.decodeIfPresent([String].self, forKey: .aud)
        }
        scope = try c.decodeIfPresent(String.self, forKey: .scope)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sub, forKey: .sub)
        try c.encode(sid, forKey: .sid)
        try c.encode(iat, forKey: .iat)
        try c.encode(exp, forKey: .exp)
        try c.encode(jti, forKey: .jti)
        try c.encodeIfPresent(iss, forKey: .iss)
        // One audience is written as a plain string, the common form.
        if let aud, aud.count == 1 {
            try c.encode(aud[0], forKey: .aud)
        } else {
            try c.encodeIfPresent(aud, forKey: .aud)
        }
        try c.encodeIfPresent(scope, forKey: .scope)
    }
}
