// Pydantic-style validation problems; thrown together as one ValidationError, answered as 422
// `{"detail": [{"type", "loc", "msg", "input"?, "ctx"?}]}`.

/// One element of an error location: an object key or an array index.
public enum LocItem: Equatable, Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case key(String)
    case index(Int)
    public init(stringLiteral value: String) { self = .key(value) }
    public init(integerLiteral value: Int) { self = .index(value) }
    var json: JSONValue {
        switch self {
        case .key(let k): return .string(k)
        case .index(let i): return .int(Int64(i))
        }
    }
}

public struct ValidationIssue: Equatable, Sendable {
    public var type: String
    public var loc: [LocItem]
    public var msg: String
    /// The offending value; left out for secret fields, for `missing`, and whenever the location or the value
    /// names a secret (`secretNames`), so a 422 never echoes a password or token, known to the schema or not.
    public var input: JSONValue?
    public var ctx: JSONValue?

    public init(type: String, loc: [LocItem], msg: String, input: JSONValue? = nil, ctx: JSONValue? = nil) {
        self.type = type
        self.loc = loc
        self.msg = msg
        self.ctx = ctx
        self.input = input.map { Self.namesSecret(loc, $0) } == false ? input : JSONValue?.none  // JSONValue takes nil as null
    }

    /// Member names whose values are never echoed (compared without case).
    public static let secretNames: Set<String> = ["password", "new_password", "current_password", "token", "refresh_token"]

    /// True when a key of `loc`, or a member name anywhere inside `input`, is a secret name.
    static func namesSecret(_ loc: [LocItem], _ input: JSONValue) -> Bool {
        func secret(_ name: String) -> Bool { secretNames.contains(name.lowercased()) }
        func holds(_ v: JSONValue) -> Bool {
            switch v {
            case .object(let members): return members.contains { secret($0.0) || holds($0.1) }
            case .array(let items): return items.contains(where: holds)
            default: return false
            }
        }
        return loc.contains { if case .key(let k) = $0 { return secret(k) } else { return false } } || holds(input)
    }

    public var json: JSONValue {
        var o: JSONValue = ["type": .string(type), "loc": .array(loc.map(\.json)), "msg": .string(msg)]
        if let input { o.set("input", input) }
        if let ctx { o.set("ctx", ctx) }
        return o
    }
}

public struct ValidationError: Error, Equatable, Sendable {
    public var issues: [ValidationIssue]
    public init(_ issues: [ValidationIssue]) { self.issues = issues }
    public init(type: String, loc: [LocItem], msg: String, input: JSONValue? = nil, ctx: JSONValue? = nil) {
        self.issues = [ValidationIssue(type: type, loc: loc, msg: msg, input: input, ctx: ctx)]
    }

    /// A custom check failed (Pydantic's `value_error`, as raised by a validator).
    public static func valueError(_ message: String, loc: [LocItem], input: JSONValue? = nil) -> ValidationError {
        ValidationError(type: "value_error", loc: loc, msg: "Value error, \(message)", input: input, ctx: ["error": .string(message)])
    }

    public var response: Response {
        Response.json(["detail": .array(issues.map(\.json))], status: .unprocessableContent)
    }
}
