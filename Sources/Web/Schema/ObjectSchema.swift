/// A type with one schema declaration that encodes it and documents it.
public protocol SchemaEncodable {
    static var schema: ObjectSchema<Self> { get }
}

/// A type that also decodes from that schema: `init` receives values already validated against it and may
/// add cross-field checks by throwing a `ValidationError`.
public protocol SchemaDecodable: SchemaEncodable {
    init(_ values: Validated<Self>) throws
}

/// The one declaration of an object type's JSON shape.
///
///     static let schema = ObjectSchema<UserCreate>("UserCreate") {
///         Field("email", \.email, .email(maxLength: 254))
///         Field("password", \.password, .string(min: 8, max: 128), secret: true)
///         OptionalField("full_name", \.fullName, .string(max: 100))
///     }
public struct ObjectSchema<T>: @unchecked Sendable {
    public let name: String
    public var description: String?
    public var example: JSONValue?
    /// Unknown JSON members give `extra_forbidden` (API.md). Forms and query strings ignore unknown names, as FastAPI does.
    public var forbidExtra: Bool
    let fields: [SchemaField<T>]
    /// Each field's `"name":` as bytes, made once for `write`.
    private let memberPrefixes: [[UInt8]]

    public init(
        _ name: String, description: String? = nil, example: JSONValue? = nil, forbidExtra: Bool = true,
        @SchemaBuilder<T> fields: () -> [SchemaField<T>]
    ) {
        self.name = name
        self.description = description
        self.example = example
        self.forbidExtra = forbidExtra
        self.fields = fields()
        memberPrefixes = self.fields.map { field in
            var prefix: [UInt8] = []
            JSONWriter.writeString(field.name, into: &prefix)
            return prefix + [UInt8(ascii: ":")]
        }
    }

    public var fieldNames: [String] { fields.map(\.name) }

    /// The JSON form of a value, members in declaration order.
    public func encode(_ value: T) -> JSONValue {
        var members: [(String, JSONValue)] = []  // a loop, not map: unspecialized, map looked up metadata per call
        members.reserveCapacity(fields.count)
        for field in fields { members.append((field.name, field.encode(value))) }
        return .object(members)
    }

    /// `encode(value)`'s JSON, written as bytes without building it first (response bodies).
    public func write(_ value: T, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for index in fields.indices {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += memberPrefixes[index]
            fields[index].write(value, &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The JSON Schema (2020-12, as OpenAPI 3.1 uses) of the type; nested types go into `registry`.
    public func jsonSchema(_ registry: SchemaRegistry) -> JSONValue {
        var o: JSONValue = ["type": "object", "title": .string(name)]
        if let description { o.set("description", .string(description)) }
        o.set("properties", .object(fields.map { ($0.name, $0.propertySchema(registry)) }))
        let required = fields.filter(\.required).map { JSONValue.string($0.name) }
        if !required.isEmpty { o.set("required", .array(required)) }
        if forbidExtra { o.set("additionalProperties", false) }
        if let example { o.set("examples", [example]) }
        return o
    }
}

extension ObjectSchema where T: SchemaDecodable {
    /// Validates a JSON value at `loc`, reporting every problem; nil when there was at least one.
    public func validate(json: JSONValue, loc: [LocItem], issues: inout [ValidationIssue]) throws -> T? {
        guard case .object(let members) = json else {
            issues.append(
                ValidationIssue(
                    type: "model_attributes_type", loc: loc,
                    msg: "Input should be a valid dictionary or object to extract fields from", input: json))
            return nil
        }
        var byName: [String: JSONValue] = [:]
        for (k, v) in members { byName[k] = v }
        return try validate(
            loc: loc, issues: &issues, extras: forbidExtra ? members.map(\.0).filter { k in !fields.contains { $0.name == k } } : [],
            extraValue: { byName[$0] ?? .null }
        ) { byName[$0].map(FieldInput.json) }
    }

    /// Validates text values (a form body or query string) at `loc`; empty text counts as absent, as in FastAPI.
    public func validate(text pairs: [(String, String)], loc: [LocItem], issues: inout [ValidationIssue]) throws -> T? {
        var byName: [String: String] = [:]
        for (k, v) in pairs { byName[k] = v }
        return try validate(loc: loc, issues: &issues, extras: [], extraValue: { _ in .null }) { name in
            guard let s = byName[name], !s.isEmpty else { return nil }
            return .text(s)
        }
    }

    /// Decodes a whole JSON document, throwing one ValidationError with every problem.
    public func decode(json: JSONValue, loc: [LocItem] = ["body"]) throws -> T {
        var issues: [ValidationIssue] = []
        if let v = try validate(json: json, loc: loc, issues: &issues), issues.isEmpty { return v }
        throw ValidationError(issues)
    }

    public func decode(text pairs: [(String, String)], loc: [LocItem]) throws -> T {
        var issues: [ValidationIssue] = []
        if let v = try validate(text: pairs, loc: loc, issues: &issues), issues.isEmpty { return v }
        throw ValidationError(issues)
    }

    private func validate(
        loc: [LocItem], issues: inout [ValidationIssue], extras: [String], extraValue: (String) -> JSONValue,
        lookup: (String) -> FieldInput?
    ) throws -> T? {
        let before = issues.count
        var values = Validated<T>()
        for field in fields {
            let at = loc + [.key(field.name)]
            if let input = lookup(field.name) {
                values.present.insert(field.name)
                if let v = try field.decodePresent(input, loc: at, issues: &issues) { values.storage[field.keyPath] = v }
            } else if let absent = field.absentValue {
                values.storage[field.keyPath] = absent
            } else {
                issues.append(ValidationIssue(type: "missing", loc: at, msg: "Field required"))
            }
        }
        for name in extras {
            issues.append(ValidationIssue(type: "extra_forbidden", loc: loc + [.key(name)], msg: "Extra inputs are not permitted", input: extraValue(name)))
        }
        guard issues.count == before else { return nil }
        do {
            return try T(values)
        } catch let e as ValidationError {
            issues += e.issues
            return nil
        }
    }
}

/// Values that passed a schema's checks, read back by key path in the type's `init`.
public struct Validated<T> {
    var storage: [AnyKeyPath: Any] = [:]
    var present: Set<String> = []

    public subscript<V>(_ keyPath: KeyPath<T, V>) -> V {
        guard let boxed = storage[keyPath] else { preconditionFailure("\(keyPath) is not a field of \(T.self)'s schema") }
        return boxed as! V
    }

    /// Whether the input named this field (PATCH semantics: absent vs. explicitly null).
    public func isPresent(_ name: String) -> Bool { present.contains(name) }
}
