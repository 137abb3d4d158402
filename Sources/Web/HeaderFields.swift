import HTTPTypes

/// HTTPFields' name subscript, for the reads and writes every request makes. Its getter joins the values
/// through generic lazy sequences even when there is one field (about 5,000 instructions for a request's
/// Content-Length), and its setter makes and checks a new HTTPField from the String each time.
extension HTTPFields {
    /// What `self[name]` gives, without the join for the usual single field: nil when there is no field of
    /// that name, its value when there is one, and HTTPTypes' join when there are several.
    public func value(of name: HTTPField.Name) -> String? {
        guard let first = index(of: name, from: startIndex) else { return nil }
        if index(of: name, from: first + 1) != nil { return self[name] }
        return self[first].value
    }

    /// What `self[field.name] = field.value` does, for a field made (and its value checked) once: the first
    /// field of that name is replaced by this one, and any further ones removed; appended when there is none.
    public mutating func set(_ field: HTTPField) {
        guard field.name != .cookie else {  // the subscript splits a Cookie value into fields
            self[field.name] = field.value
            return
        }
        guard let first = index(of: field.name, from: startIndex) else {
            append(field)
            return
        }
        self[first] = field
        while let next = index(of: field.name, from: first + 1) { remove(at: next) }
    }

    /// The first field named `name` at or after `start`. The lengths of the canonical names are compared
    /// first: most differ, and String's == on two names of 16 bytes or more costs far more than the count.
    func index(of name: HTTPField.Name, from start: Int) -> Int? {
        let canonical = name.canonicalName
        let length = canonical.utf8.count
        for index in start..<endIndex {
            let other = self[index].name.canonicalName
            if other.utf8.count == length && other == canonical { return index }
        }
        return nil
    }
}

extension HTTPField {
    /// Fields most answers carry, made and checked once.
    static let jsonContentType = HTTPField(name: .contentType, value: Response.jsonContentType)
    static let noSniff = HTTPField(name: .xContentTypeOptions, value: "nosniff")
    static let noStore = HTTPField(name: .cacheControl, value: "no-store")
}
