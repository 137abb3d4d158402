/// Collects the named object schemas a document refers to (OpenAPI's components/schemas), each once.
public final class SchemaRegistry {
    public private(set) var schemas: [(String, JSONValue)] = []
    private var names: Set<String> = []

    public init() {}

    /// A `$ref` to the type's schema, registering it (and what it refers to) on first use.
    public func reference<T: SchemaEncodable>(_ type: T.Type) -> JSONValue {
        let schema = T.schema
        if !names.contains(schema.name) {
            names.insert(schema.name)
            let index = schemas.count
            schemas.append((schema.name, [:]))  // placeholder first, so recursive types terminate
            schemas[index].1 = schema.jsonSchema(self)
        }
        return ["$ref": .string("#/components/schemas/\(schema.name)")]
    }

    /// Registers a hand-written component (e.g. the error shapes).
    public func add(_ name: String, _ schema: JSONValue) {
        guard !names.contains(name) else { return }
        names.insert(name)
        schemas.append((name, schema))
    }

    public var components: JSONValue { .object(schemas.sorted { $0.0 < $1.0 }) }
}
