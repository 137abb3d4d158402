import HTTPTypes

/// Routes by path segment: lookup costs one dictionary step per segment, whatever the number of routes.
/// A literal segment beats a parameter; when a literal branch leads nowhere the parameter branch is tried.
final class TrieNode<Value> {
    var literals: [String: TrieNode] = [:]
    var parameter: TrieNode?
    /// Routes ending here, in registration order.
    var routes: [(HTTPRequest.Method, Value)] = []

    /// Returns the node the route ends at.
    @discardableResult
    func insert(_ pattern: PathPattern, method: HTTPRequest.Method, value: Value) -> TrieNode {
        var node = self
        for segment in pattern.segments {
            switch segment {
            case .literal(let s):
                if node.literals[s] == nil { node.literals[s] = TrieNode() }
                node = node.literals[s]!
            case .parameter:
                if node.parameter == nil { node.parameter = TrieNode() }
                node = node.parameter!
            }
        }
        precondition(!node.routes.contains { $0.0 == method }, "route \(method) \(pattern.template) registered twice")
        node.routes.append((method, value))
        return node
    }

    /// The value registered for `method` here.
    func value(for method: HTTPRequest.Method) -> Value? {
        for (registered, value) in routes where registered == method { return value }
        return nil
    }

    /// The node for decoded path segments and the values of its parameter segments.
    func find(_ segments: ArraySlice<String>, _ captured: inout [String]) -> TrieNode? {
        guard let first = segments.first else { return routes.isEmpty ? nil : self }
        let rest = segments.dropFirst()
        if let next = literals[first], let found = next.find(rest, &captured) { return found }
        if let param = parameter, !first.isEmpty {
            captured.append(first)
            if let found = param.find(rest, &captured) { return found }
            captured.removeLast()
        }
        return nil
    }
}
