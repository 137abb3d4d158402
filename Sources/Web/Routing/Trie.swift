import HTTPTypes

/// Routes by path segment: lookup costs one step per segment, whatever the number of routes. A literal
/// segment beats a parameter; when a literal branch leads nowhere the parameter branch is tried.
final class TrieNode<Value> {
    /// A node has a handful of literal children: comparing bytes beats hashing the segment for a dictionary.
    var literals: [(segment: String, node: TrieNode)] = []
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
                if let existing = node.literals.first(where: { $0.segment == s }) {
                    node = existing.node
                } else {
                    let child = TrieNode()
                    node.literals.append((s, child))
                    node = child
                }
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
    func find(_ segments: ArraySlice<Substring>, _ captured: inout [Substring]) -> TrieNode? {
        guard let first = segments.first else { return routes.isEmpty ? nil : self }
        let rest = segments.dropFirst()
        let length = first.utf8.count
        for literal in literals where literal.segment.utf8.count == length && literal.segment == first {
            if let found = literal.node.find(rest, &captured) { return found }
        }
        if let param = parameter, !first.isEmpty {
            captured.append(first)
            if let found = param.find(rest, &captured) { return found }
            captured.removeLast()
        }
        return nil
    }
}
