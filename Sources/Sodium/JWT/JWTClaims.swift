import JSON

/// The claims of our access tokens. Decoding is strict: `sub`, `sid`, `jti` must be JSON strings and
/// `iat`, `exp` JSON integers (seconds since 1970); `aud` may be a string or an array of strings.
public struct JWTClaims: Encodable, Equatable, Sendable {
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

    /// The claims of a token's payload (read with the JSON module's parser: Foundation's JSONDecoder cost about
    /// 30,000 instructions a token). Throws `invalidClaims` unless it is an object with every claim of its type;
    /// an optional claim may be absent or null; other members are ignored.
    public init(json: JSONValue) throws {
        guard case .object = json else { throw JWTError.invalidClaims }
        func string(_ key: String) throws -> String? {
            switch json[key] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            default: throw JWTError.invalidClaims
            }
        }
        func required<T>(_ value: T?) throws -> T {
            guard let value else { throw JWTError.invalidClaims }
            return value
        }
        func integer(_ key: String) throws -> Int {
            guard case .int(let value)? = json[key], let int = Int(exactly: value) else { throw JWTError.invalidClaims }
            return int
        }
        sub = try required(string("sub"))
        sid = try required(string("sid"))
        jti = try required(string("jti"))
        iat = try integer("iat")
        exp = try integer("exp")
        iss = try string("iss")
        scope = try string("scope")
        switch json["aud"] {
        case nil, .null?: aud = nil
        case .string(let single)?: aud = [single]
        case .array(let items)?: aud = try items.map { try required($0.stringValue) }
        default: throw JWTError.invalidClaims
        }
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
