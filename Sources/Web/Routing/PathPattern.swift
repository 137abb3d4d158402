/// A route path such as `/api/v1/posts/{id:id}`. A segment `{name}` is a string parameter, `{name:int}` an
/// Int64 and `{name:id}` a positive Int64 (API.md's ids); the document shows it as `/api/v1/posts/{id}`.
public struct PathPattern: Sendable, Equatable {
    public enum ParameterType: String, Sendable { case string, int, id }

    public enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String, ParameterType)
    }

    public let segments: [Segment]

    public init(_ path: String) {
        segments = PathPattern.split(path).map { s in
            guard s.hasPrefix("{"), s.hasSuffix("}") else { return .literal(String(s)) }
            let inner = s.dropFirst().dropLast()
            let parts = inner.split(separator: ":", maxSplits: 1).map(String.init)
            guard let name = parts.first, !name.isEmpty else { preconditionFailure("bad path parameter in \(path)") }
            let type = parts.count > 1 ? ParameterType(rawValue: parts[1]) : .string
            guard let type else { preconditionFailure("unknown parameter type in \(path); use string, int or id") }
            return .parameter(name, type)
        }
    }

    init(segments: [Segment]) { self.segments = segments }

    /// The segments between slashes, as views into `path` (a request's are decoded into Strings once, by the router).
    static func split(_ path: String) -> [Substring] {
        let utf8 = path.utf8
        var start = utf8.startIndex
        if utf8.first == UInt8(ascii: "/") { start = utf8.index(after: start) }
        if start == utf8.endIndex { return [] }
        // A loop over the bytes: splitting Characters walks grapheme clusters, and the generic split of the
        // UTF-8 view cost about 4,000 instructions a request (callgrind).
        var segments: [Substring] = []
        segments.reserveCapacity(8)
        var index = start
        while index != utf8.endIndex {
            if utf8[index] == UInt8(ascii: "/") {
                segments.append(path[start..<index])
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        segments.append(path[start..<utf8.endIndex])
        return segments
    }

    public func appending(_ other: PathPattern) -> PathPattern { PathPattern(segments: segments + other.segments) }

    /// The OpenAPI form: `/posts/{id}`.
    public var template: String {
        "/"
            + segments.map { seg in
                switch seg {
                case .literal(let s): return s
                case .parameter(let n, _): return "{\(n)}"
                }
            }.joined(separator: "/")
    }

    public var parameters: [(name: String, type: ParameterType)] {
        segments.compactMap {
            if case .parameter(let n, let t) = $0 { return (n, t) }
            return nil
        }
    }

    /// Checks matched values against the declared types: 422 `int_parsing` / `greater_than` at ["path", name].
    func validate(_ values: Parameters, issues: inout [ValidationIssue]) {
        for case .parameter(let name, let type) in segments where type != .string {
            let raw = values[name] ?? ""
            if let plain = plainDecimal(raw), type == .int || plain > 0 { continue }  // valid: no `loc` array to build
            let loc: [LocItem] = ["path", .key(name)]
            if let v = decodeInt64(.text(raw), loc, &issues), type == .id {
                _ = IntBounds(gt: 0).check(v, .string(raw), loc, &issues)
            }
        }
    }

    func schema(_ type: ParameterType) -> JSONValue {
        switch type {
        case .string: return ["type": "string"]
        case .int: return ["type": "integer"]
        case .id: return ["type": "integer", "exclusiveMinimum": 0]
        }
    }
}

/// Path parameter values by name, percent-decoded.
public struct Parameters: Sendable {
    var values: [(String, String)] = []

    public init() {}
    public init(_ values: [(String, String)]) { self.values = values }

    public subscript(_ name: String) -> String? { values.first(where: { $0.0 == name })?.1 }

    /// An integer parameter (already validated when declared `{name:int}` or `{name:id}`).
    public func int64(_ name: String) throws -> Int64 {
        let raw = self[name] ?? ""
        if let plain = plainDecimal(raw) { return plain }  // the common case, without building `loc` and `issues`
        var issues: [ValidationIssue] = []
        guard let v = decodeInt64(.text(raw), ["path", .key(name)], &issues) else { throw ValidationError(issues) }
        return v
    }
}
