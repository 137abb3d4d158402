import FoundationEssentials

/// Where a field's value comes from: a JSON body, or text (a form field, a query or path parameter).
public enum FieldInput: Sendable {
    case json(JSONValue)
    case text(String)

    var echo: JSONValue {
        switch self {
        case .json(let v): return v
        case .text(let s): return .string(s)
        }
    }
}

/// The type and constraints of one field's value: how it decodes (with Pydantic's error types), how it
/// encodes, and its JSON Schema. One value of this type feeds all three, so they cannot drift apart.
public struct FieldKind<V> {
    let decode: (FieldInput, [LocItem], inout [ValidationIssue]) throws -> V?
    let encode: (V) -> JSONValue
    /// `encode`'s JSON written straight as bytes, for response bodies: building a `JSONValue` tree, then
    /// writing and freeing it, was most of a list page's CPU. Without one, it goes through `encode`.
    let write: (V, inout [UInt8]) -> Void
    let jsonSchema: (SchemaRegistry) -> JSONValue

    public init(
        decode: @escaping (FieldInput, [LocItem], inout [ValidationIssue]) throws -> V?,
        encode: @escaping (V) -> JSONValue,
        write: ((V, inout [UInt8]) -> Void)? = nil,
        jsonSchema: @escaping (SchemaRegistry) -> JSONValue
    ) {
        self.decode = decode
        self.encode = encode
        self.jsonSchema = jsonSchema
        self.write = write ?? { JSONWriter.write(encode($0), into: &$1) }
    }
}

/// Writers for the kinds whose JSON is a string or an integer.
private func writeString(_ value: String, _ out: inout [UInt8]) { JSONWriter.writeString(value, into: &out) }
private func writeInteger(_ value: Int64, _ out: inout [UInt8]) { Digits.append(value, to: &out) }

/// Whether a string contains a match of `pattern`. `^literal$` (OAuth2's `^password$`) is a comparison:
/// Swift's regex parser and engine would otherwise be mapped into every worker that builds the schema.
private func patternMatcher(_ pattern: String) -> (String) -> Bool {
    let inner = pattern.dropFirst().dropLast()
    if pattern.hasPrefix("^"), pattern.hasSuffix("$"), pattern.count >= 2,
        !inner.contains(where: { "\\.^$|?*+()[]{}".contains($0) })
    {
        let literal = String(inner)
        return { $0 == literal }
    }
    let regex = try! Regex(pattern)
    return { (try? regex.firstMatch(in: $0)) != nil }
}

private func plural(_ n: Int, _ word: String) -> String { n == 1 ? "\(n) \(word)" : "\(n) \(word)s" }

// MARK: strings

extension FieldKind where V == String {
    /// A string of `min...max` characters (Unicode code points, as Python counts); `notBlank` rejects
    /// whitespace-only text with a `value_error`; `pattern` is a regular expression the text must contain a match of.
    public static func string(
        min: Int? = nil, max: Int? = nil, notBlank: Bool = false, pattern: String? = nil,
        format: String? = nil
    ) -> FieldKind<String> {
        let matches = pattern.map(patternMatcher)
        return FieldKind(
            decode: { input, loc, issues in
                guard let s = stringInput(input, loc, &issues) else { return nil }
                let n = s.unicodeScalars.count
                if let min, n < min {
                    issues.append(
                        ValidationIssue(
                            type: "string_too_short", loc: loc, msg: "String should have at least \(plural(min, "character"))",
                            input: input.echo, ctx: ["min_length": .int(Int64(min))]))
                    return nil
                }
                if let max, n > max {
                    issues.append(
                        ValidationIssue(
                            type: "string_too_long", loc: loc, msg: "String should have at most \(plural(max, "character"))",
                            input: input.echo, ctx: ["max_length": .int(Int64(max))]))
                    return nil
                }
                if notBlank, !s.isEmpty, s.allSatisfy(\.isWhitespace) {
                    issues.append(ValidationError.valueError("must not be blank", loc: loc, input: input.echo).issues[0])
                    return nil
                }
                if let matches, let pattern, !matches(s) {
                    issues.append(
                        ValidationIssue(
                            type: "string_pattern_mismatch", loc: loc, msg: "String should match pattern '\(pattern)'",
                            input: input.echo, ctx: ["pattern": .string(pattern)]))
                    return nil
                }
                return s
            }, encode: { .string($0) }, write: writeString,
            jsonSchema: { _ in
                var o: JSONValue = ["type": "string"]
                if let min { o.set("minLength", .int(Int64(min))) }
                if let max { o.set("maxLength", .int(Int64(max))) }
                if let pattern { o.set("pattern", .string(pattern)) }
                if let format { o.set("format", .string(format)) }
                return o
            })
    }

    /// An email address (Pydantic's EmailStr rules, simplified), at most `maxLength` characters.
    public static func email(maxLength: Int = 254) -> FieldKind<String> {
        let base = string(max: maxLength, format: "email")
        return FieldKind(
            decode: { input, loc, issues in
                guard let s = try base.decode(input, loc, &issues) else { return nil }
                if let reason = EmailAddress.problem(s) {
                    issues.append(
                        ValidationIssue(
                            type: "value_error", loc: loc, msg: "value is not a valid email address: \(reason)",
                            input: input.echo, ctx: ["reason": .string(reason)]))
                    return nil
                }
                return s
            }, encode: base.encode, write: base.write, jsonSchema: base.jsonSchema)
    }

    /// One of a fixed set of strings (Pydantic's `enum` / `Literal`).
    public static func oneOf(_ values: [String]) -> FieldKind<String> {
        let expected = values.map { "'\($0)'" }.joined(separator: ", ").replacingLastComma()
        return FieldKind(
            decode: { input, loc, issues in
                guard let s = stringInput(input, loc, &issues) else { return nil }
                guard values.contains(s) else {
                    issues.append(
                        ValidationIssue(
                            type: "enum", loc: loc, msg: "Input should be \(expected)",
                            input: input.echo, ctx: ["expected": .string(expected)]))
                    return nil
                }
                return s
            }, encode: { .string($0) }, write: writeString, jsonSchema: { _ in ["type": "string", "enum": .array(values.map(JSONValue.string))] })
    }
}

extension String {
    fileprivate func replacingLastComma() -> String {
        guard let r = ranges(of: ", ").last else { return self }
        var s = self
        s.replaceSubrange(r, with: " or ")
        return s
    }
}

private func stringInput(_ input: FieldInput, _ loc: [LocItem], _ issues: inout [ValidationIssue]) -> String? {
    switch input {
    case .text(let s): return s
    case .json(.string(let s)): return s
    case .json(let v):
        issues.append(ValidationIssue(type: "string_type", loc: loc, msg: "Input should be a valid string", input: v))
        return nil
    }
}

// MARK: integers

/// Integer bounds; `gt`/`lt` exclusive, `ge`/`le` inclusive, as Pydantic's Field(gt=, ge=, lt=, le=).
public struct IntBounds: Sendable {
    public var gt: Int64?, ge: Int64?, lt: Int64?, le: Int64?
    public init(gt: Int64? = nil, ge: Int64? = nil, lt: Int64? = nil, le: Int64? = nil) {
        self.gt = gt
        self.ge = ge
        self.lt = lt
        self.le = le
    }

    func check(_ v: Int64, _ input: JSONValue, _ loc: [LocItem], _ issues: inout [ValidationIssue]) -> Bool {
        func fail(_ type: String, _ words: String, _ key: String, _ bound: Int64) -> Bool {
            issues.append(ValidationIssue(type: type, loc: loc, msg: "Input should be \(words) \(bound)", input: input, ctx: [key: .int(bound)]))
            return false
        }
        if let gt, !(v > gt) { return fail("greater_than", "greater than", "gt", gt) }
        if let ge, !(v >= ge) { return fail("greater_than_equal", "greater than or equal to", "ge", ge) }
        if let lt, !(v < lt) { return fail("less_than", "less than", "lt", lt) }
        if let le, !(v <= le) { return fail("less_than_equal", "less than or equal to", "le", le) }
        return true
    }

    func apply(to o: inout JSONValue) {
        if let gt { o.set("exclusiveMinimum", .int(gt)) }
        if let ge { o.set("minimum", .int(ge)) }
        if let lt { o.set("exclusiveMaximum", .int(lt)) }
        if let le { o.set("maximum", .int(le)) }
    }
}

/// Decodes an integer strictly from JSON (no strings, no booleans, no fractions) and leniently from text.
func decodeInt64(_ input: FieldInput, _ loc: [LocItem], _ issues: inout [ValidationIssue]) -> Int64? {
    func fail(_ type: String, _ msg: String) -> Int64? {
        issues.append(ValidationIssue(type: type, loc: loc, msg: msg, input: input.echo))
        return nil
    }
    switch input {
    case .json(.int(let i)): return i
    case .json(.bigInt): return fail("int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size")
    case .json(.double(let d)):
        if !d.isFinite { return fail("finite_number", "Input should be a finite number") }
        if d != d.rounded() { return fail("int_from_float", "Input should be a valid integer, got a number with a fractional part") }
        guard let i = Int64(exactly: d) else { return fail("int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size") }
        return i
    case .json: return fail("int_type", "Input should be a valid integer")
    case .text(let s):
        if let i = plainDecimal(s) { return i }
        let t = s.trimmingSpaces()
        if let i = Int64(t) { return i }
        let digits = t.hasPrefix("-") || t.hasPrefix("+") ? t.dropFirst() : Substring(t)
        if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return fail("int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size")
        }
        return fail("int_parsing", "Input should be a valid integer, unable to parse string as an integer")
    }
}

/// The value of 1 to 18 ASCII digits and nothing else (every such number fits an Int64), nil for any other text:
/// the common form of an id in a path or query, read without `trimmingSpaces`' String and Character work (about
/// 1,000 instructions a parameter). Other text takes `decodeInt64`'s general path, with the same result.
func plainDecimal(_ text: String) -> Int64? {
    var text = text
    return text.withUTF8 { utf8 in
        guard (1...18).contains(utf8.count) else { return nil }
        var value: Int64 = 0
        for byte in utf8 {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int64(digit)
        }
        return value
    }
}

extension FieldKind where V == Int64 {
    public static func int(_ bounds: IntBounds = IntBounds()) -> FieldKind<Int64> {
        FieldKind(
            decode: { input, loc, issues in
                guard let v = decodeInt64(input, loc, &issues), bounds.check(v, input.echo, loc, &issues) else { return nil }
                return v
            }, encode: { .int($0) }, write: writeInteger,
            jsonSchema: { _ in
                var o: JSONValue = ["type": "integer"]
                bounds.apply(to: &o)
                return o
            })
    }
    public static func int(min: Int64? = nil, max: Int64? = nil) -> FieldKind<Int64> { int(IntBounds(ge: min, le: max)) }
    /// A positive id (BIGINT > 0), API.md's rule for ids.
    public static var id: FieldKind<Int64> { int(IntBounds(gt: 0)) }
}

extension FieldKind where V == Int {
    public static func int(_ bounds: IntBounds = IntBounds()) -> FieldKind<Int> {
        let base = FieldKind<Int64>.int(bounds)
        return FieldKind(
            decode: { input, loc, issues in try base.decode(input, loc, &issues).map { Int($0) } },
            encode: { .int(Int64($0)) }, write: { writeInteger(Int64($0), &$1) }, jsonSchema: base.jsonSchema)
    }
    public static func int(min: Int64? = nil, max: Int64? = nil) -> FieldKind<Int> { int(IntBounds(ge: min, le: max)) }
}

// MARK: booleans, numbers, dates, any

extension FieldKind where V == Bool {
    /// A JSON boolean only (the schema says `boolean`; never 0/1 or a string); from text (query, form), Pydantic's
    /// words (true/false, 1/0, yes/no, on/off, t/f, y/n). The error types are Pydantic v2's: a string or an integral
    /// number is `bool_parsing` (it tries to interpret those), any other JSON value is `bool_type`.
    public static var bool: FieldKind<Bool> {
        FieldKind(
            decode: { input, loc, issues in
                func unparsable(_ v: JSONValue) -> Bool? {
                    issues.append(ValidationIssue(type: "bool_parsing", loc: loc, msg: "Input should be a valid boolean, unable to interpret input", input: v))
                    return nil
                }
                switch input {
                case .json(.bool(let b)): return b
                case .json(let v) where v.isParsableAsBool: return unparsable(v)
                case .json(let v):
                    issues.append(ValidationIssue(type: "bool_type", loc: loc, msg: "Input should be a valid boolean", input: v))
                    return nil
                case .text(let s):
                    switch s.trimmingSpaces().lowercased() {
                    case "true", "1", "yes", "on", "t", "y": return true
                    case "false", "0", "no", "off", "f", "n": return false
                    default: return unparsable(.string(s))
                    }
                }
            }, encode: { .bool($0) }, write: { $1 += ($0 ? "true" : "false").utf8 }, jsonSchema: { _ in ["type": "boolean"] })
    }
}

extension JSONValue {
    /// What Pydantic tries to read as a boolean (and answers bool_parsing for): strings and integral numbers in
    /// Int64's range; 0.5, 1e100 or a huge integer are bool_type.
    fileprivate var isParsableAsBool: Bool {
        switch self {
        case .string, .int: return true
        case .double(let d): return d.rounded() == d && abs(d) < 0x1p63
        default: return false
        }
    }
}

extension FieldKind where V == Double {
    public static func number(min: Double? = nil, max: Double? = nil) -> FieldKind<Double> {
        FieldKind(
            decode: { input, loc, issues in
                func fail(_ type: String, _ msg: String, _ ctx: JSONValue? = nil) -> Double? {
                    issues.append(ValidationIssue(type: type, loc: loc, msg: msg, input: input.echo, ctx: ctx))
                    return nil
                }
                var d: Double
                switch input {
                case .json(.int(let i)): d = Double(i)
                case .json(.bigInt(let s)): d = Double(s) ?? .infinity
                case .json(.double(let x)): d = x
                case .json: return fail("float_type", "Input should be a valid number")
                case .text(let s):
                    guard let x = Double(s.trimmingSpaces()) else {
                        return fail("float_parsing", "Input should be a valid number, unable to parse string as a number")
                    }
                    d = x
                }
                if !d.isFinite { return fail("finite_number", "Input should be a finite number") }
                if let min, d < min { return fail("greater_than_equal", "Input should be greater than or equal to \(min)", ["ge": .double(min)]) }
                if let max, d > max { return fail("less_than_equal", "Input should be less than or equal to \(max)", ["le": .double(max)]) }
                return d
            }, encode: { .double($0) },
            jsonSchema: { _ in
                var o: JSONValue = ["type": "number"]
                if let min { o.set("minimum", .double(min)) }
                if let max { o.set("maximum", .double(max)) }
                return o
            })
    }
}

extension FieldKind where V == Date {
    /// An RFC 3339 timestamp, written in UTC with microseconds and a `Z` (API.md).
    public static var dateTime: FieldKind<Date> {
        FieldKind(
            decode: { input, loc, issues in
                guard let s = stringInput(input, loc, &issues) else { return nil }
                guard let d = RFC3339.parse(s) else {
                    issues.append(ValidationIssue(type: "datetime_from_date_parsing", loc: loc, msg: "Input should be a valid datetime", input: input.echo))
                    return nil
                }
                return d
            }, encode: { .string(RFC3339.format($0)) },
            write: { date, out in  // digits and punctuation only: nothing to escape
                out.append(UInt8(ascii: "\""))
                RFC3339.write(date, into: &out)
                out.append(UInt8(ascii: "\""))
            },
            jsonSchema: { _ in ["type": "string", "format": "date-time"] })
    }
}

extension FieldKind where V == JSONValue {
    /// Any JSON value, unchecked.
    public static var any: FieldKind<JSONValue> {
        FieldKind(decode: { input, _, _ in input.echo }, encode: { $0 }, jsonSchema: { _ in [:] })
    }
}

// MARK: nested objects and arrays

extension FieldKind where V: SchemaEncodable {
    /// A nested object with its own schema (a `$ref` in the document).
    public static func object(_ type: V.Type = V.self) -> FieldKind<V> {
        FieldKind(
            decode: { input, loc, issues in
                guard case .json(let json) = input else {
                    issues.append(
                        ValidationIssue(
                            type: "model_attributes_type", loc: loc, msg: "Input should be a valid dictionary or object to extract fields from",
                            input: input.echo))
                    return nil
                }
                guard let decodable = V.self as? any SchemaDecodable.Type else {
                    preconditionFailure("\(V.self) is used in a request schema but is not SchemaDecodable")
                }
                func open<D: SchemaDecodable>(_ d: D.Type) throws -> V? {
                    try D.schema.validate(json: json, loc: loc, issues: &issues).map { $0 as! V }
                }
                return try open(decodable)
            }, encode: { V.schema.encode($0) }, write: { V.schema.write($0, into: &$1) },
            jsonSchema: { registry in registry.reference(V.self) })
    }
}

extension FieldKind {
    /// A JSON array whose elements all have `element`'s kind.
    public static func array<E>(_ element: FieldKind<E>, minItems: Int? = nil, maxItems: Int? = nil) -> FieldKind<[E]> where V == [E] {
        FieldKind<[E]>(
            decode: { input, loc, issues in
                guard case .json(.array(let items)) = input else {
                    issues.append(ValidationIssue(type: "list_type", loc: loc, msg: "Input should be a valid list", input: input.echo))
                    return nil
                }
                if let minItems, items.count < minItems {
                    issues.append(
                        ValidationIssue(
                            type: "too_short", loc: loc, msg: "List should have at least \(plural(minItems, "item")) after validation, not \(items.count)",
                            input: input.echo, ctx: ["field_type": "List", "min_length": .int(Int64(minItems)), "actual_length": .int(Int64(items.count))]))
                    return nil
                }
                if let maxItems, items.count > maxItems {
                    issues.append(
                        ValidationIssue(
                            type: "too_long", loc: loc, msg: "List should have at most \(plural(maxItems, "item")) after validation, not \(items.count)",
                            input: input.echo, ctx: ["field_type": "List", "max_length": .int(Int64(maxItems)), "actual_length": .int(Int64(items.count))]))
                    return nil
                }
                var out: [E] = []
                let before = issues.count
                for (i, item) in items.enumerated() {
                    if let e = try element.decode(.json(item), loc + [.index(i)], &issues) { out.append(e) }
                }
                return issues.count == before ? out : nil
            }, encode: { .array($0.map(element.encode)) },
            write: { items, out in
                out.append(UInt8(ascii: "["))
                for (index, item) in items.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    element.write(item, &out)
                }
                out.append(UInt8(ascii: "]"))
            },
            jsonSchema: { registry in
                var o: JSONValue = ["type": "array", "items": element.jsonSchema(registry)]
                if let minItems { o.set("minItems", .int(Int64(minItems))) }
                if let maxItems { o.set("maxItems", .int(Int64(maxItems))) }
                return o
            })
    }
}
