import HTTPTypes

/// HTTPFields' name subscript, for the reads and writes every request makes. Its getter joins the values
/// through generic lazy sequences even when there is one field (about 5,000 instructions for a request's
/// Content-Length), and its setter makes and checks a new HTTPField from the String each time.
extension HTTPFields {
    /// What `self[name]` gives, without the join for the usual single field: nil when there is no field of
    /// that name, its value when there is one, and HTTPTypes' join when there are several.
    public func value(of name: HTTPField.Name) -> String? {
        guard let first = firstIndex(where: { $0.name == name }) else { return nil }
        for index in (first + 1)..<endIndex where self[index].name == name { return self[name] }
        return self[first].value
    }

    /// What `self[field.name] = field.value` does, for a field made (and its value checked) once: the first
    /// field of that name is replaced by this one, and any further ones removed; appended when there is none.
    public mutating func set(_ field: HTTPField) {
        guard field.name != .cookie else {  // the subscript splits a Cookie value into fields
            self[field.name] = field.value
            return
        }
        guard let first = firstIndex(where: { $0.name == field.name }) else {
            append(field)
            return
        }
        self[first] = field
        var index = first + 1
        while index < endIndex {
            if self[index].name == field.name { remove(at: index) } else { index += 1 }
        }
    }
}

extension HTTPField {
    /// Fields most answers carry, made and checked once.
    static let jsonContentType = HTTPField(name: .contentType, value: Response.jsonContentType)
    static let noSniff = HTTPField(name: .xContentTypeOptions, value: "nosniff")
    static let noStore = HTTPField(name: .cacheControl, value: "no-store")
}
