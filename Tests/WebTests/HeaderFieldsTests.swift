import HTTPTypes
import Testing

@testable import Web

/// `value(of:)` and `set(_:)` must answer exactly as HTTPFields' name subscript does.
@Suite struct HeaderFieldsTests {
    static let cases: [HTTPFields] = [
        [:],
        [.contentLength: "12"],
        [.accept: "a", .contentType: "text/plain", .eTag: "\"x\""],
        HTTPFields([HTTPField(name: .accept, value: "a"), HTTPField(name: .vary, value: "x"), HTTPField(name: .accept, value: "b")]),
        HTTPFields([HTTPField(name: .cookie, value: "a=1"), HTTPField(name: .cookie, value: "b=2")]),
        HTTPFields([HTTPField(name: HTTPField.Name("ACCEPT")!, value: "upper")])
    ]

    @Test(arguments: cases)
    func valueReadsAsTheSubscript(fields: HTTPFields) {
        for name in [HTTPField.Name.accept, .contentLength, .contentType, .cookie, .vary, .eTag, .origin] {
            #expect(fields.value(of: name) == fields[name])
        }
    }

    @Test(arguments: cases)
    func setWritesAsTheSubscript(fields: HTTPFields) {
        for field in [HTTPField(name: .accept, value: "new"), HTTPField(name: .cookie, value: "c=3; d=4"), HTTPField(name: .origin, value: "o")] {
            var viaSubscript = fields
            viaSubscript[field.name] = field.value
            var viaSet = fields
            viaSet.set(field)
            #expect(Array(viaSet) == Array(viaSubscript))  // the same fields in the same order, not only equal per name
        }
    }

    @Test func setReplacesInPlaceAndDropsTheOthers() {
        var fields = HTTPFields([
            HTTPField(name: .accept, value: "a"), HTTPField(name: .vary, value: "x"), HTTPField(name: .accept, value: "b"),
            HTTPField(name: .accept, value: "c")
        ])
        fields.set(HTTPField(name: .accept, value: "only"))
        #expect(Array(fields) == [HTTPField(name: .accept, value: "only"), HTTPField(name: .vary, value: "x")])
        fields.set(.noSniff)
        #expect(fields.last == HTTPField(name: .xContentTypeOptions, value: "nosniff"))
    }
}
