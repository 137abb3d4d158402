// A field of an object schema: JSON name, key path into the Swift type, kind (type and constraints),
// and documentation. Built with `Field` (a value that must be present unless it has a default) or
// `OptionalField` (a `V?` property: absent or null means nil).

/// The type-erased form the schema stores.
public struct SchemaField<T> {
    let name: String
    let keyPath: AnyKeyPath
    let secret: Bool
    let nullable: Bool
    /// The boxed value to use when the field is absent; nil makes the field required.
    let absentValue: Any?
    let defaultJSON: JSONValue?
    let description: String?
    let example: JSONValue?
    let decode: (FieldInput, [LocItem], inout [ValidationIssue]) throws -> Any?
    let encode: (T) -> JSONValue
    /// `encode`'s JSON as bytes (see `FieldKind.write`).
    let write: (T, inout [UInt8]) -> Void
    let kindSchema: (SchemaRegistry) -> JSONValue

    var required: Bool { absentValue == nil }

    /// Decodes one present value; issues of secret fields never carry the submitted input.
    func decodePresent(_ input: FieldInput, loc: [LocItem], issues: inout [ValidationIssue]) throws -> Any? {
        let before = issues.count
        let value = try decode(input, loc, &issues)
        if secret { for i in before..<issues.count { issues[i].input = nil } }
        return value
    }

    func propertySchema(_ registry: SchemaRegistry) -> JSONValue {
        var inner = kindSchema(registry)
        if secret {
            inner.set("format", "password")
            inner.set("writeOnly", true)
        }
        var o: JSONValue = nullable ? ["anyOf": [inner, ["type": "null"]]] : inner
        // A bare $ref cannot carry siblings in every tool; wrap it like Pydantic does with allOf.
        if !nullable, inner["$ref"] != nil, description != nil || defaultJSON != nil { o = ["allOf": [inner]] }
        o.set("title", .string(SchemaField.title(name)))
        if let description { o.set("description", .string(description)) }
        if let defaultJSON { o.set("default", defaultJSON) }
        if let example { o.set("examples", [example]) }
        return o
    }

    /// Pydantic's default title: "full_name" -> "Full Name".
    static func title(_ name: String) -> String {
        name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
    }
}

public struct Field<T> {
    let erased: SchemaField<T>

    /// A required field, or one with a `default` used when it is absent.
    public init<V>(
        _ name: String, _ keyPath: KeyPath<T, V>, _ kind: FieldKind<V>, default defaultValue: V? = nil,
        secret: Bool = false, description: String? = nil, example: JSONValue? = nil
    ) {
        let read = propertyReader(keyPath)
        erased = SchemaField(
            name: name, keyPath: keyPath, secret: secret, nullable: false,
            absentValue: defaultValue.map { $0 as Any }, defaultJSON: defaultValue.map(kind.encode),
            description: description, example: example,
            decode: { input, loc, issues in try kind.decode(input, loc, &issues).map { $0 as Any } },
            encode: { kind.encode(read($0)) },
            write: { kind.write(read($0), &$1) },
            kindSchema: kind.jsonSchema)
    }
}

public struct OptionalField<T> {
    let erased: SchemaField<T>

    /// A nullable field: absent or JSON null give nil. `required: true` documents it as always present
    /// (for response types whose field is "string or null").
    public init<V>(
        _ name: String, _ keyPath: KeyPath<T, V?>, _ kind: FieldKind<V>, required: Bool = false,
        secret: Bool = false, description: String? = nil, example: JSONValue? = nil
    ) {
        let none: V? = nil
        let read = propertyReader(keyPath)
        erased = SchemaField(
            name: name, keyPath: keyPath, secret: secret, nullable: true,
            absentValue: required ? nil : (none as Any), defaultJSON: required ? nil : .null,
            description: description, example: example,
            decode: { input, loc, issues in
                if case .json(.null) = input { return none as Any }
                return try kind.decode(input, loc, &issues).map { Optional($0) as Any }
            },
            encode: { read($0).map(kind.encode) ?? .null },
            write: { value, out in
                if let present = read(value) { kind.write(present, &out) } else { out += "null".utf8 }
            },
            kindSchema: kind.jsonSchema)
    }
}

/// Reads what a key path names. A stored property of a struct (every response model's fields) is read at its
/// offset, as compiled code would; applying a key path at run time cost a tenth of a list page's CPU.
/// Anything else (a computed property, a class) goes through the key path.
func propertyReader<T, V>(_ keyPath: KeyPath<T, V>) -> (T) -> V {
    guard let offset = MemoryLayout<T>.offset(of: keyPath) else { return { $0[keyPath: keyPath] } }
    return { root in withUnsafePointer(to: root) { UnsafeRawPointer($0).load(fromByteOffset: offset, as: V.self) } }
}

@resultBuilder
public enum SchemaBuilder<T> {
    public static func buildExpression(_ field: Field<T>) -> [SchemaField<T>] { [field.erased] }
    public static func buildExpression(_ field: OptionalField<T>) -> [SchemaField<T>] { [field.erased] }
    public static func buildBlock(_ parts: [SchemaField<T>]...) -> [SchemaField<T>] { parts.flatMap { $0 } }
}
