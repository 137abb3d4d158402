import FastCGI
import Testing

@Suite struct ListenAddressTests {
    @Test func parsesUnixAndTCP() throws {
        #expect(try ListenAddress(parsing: "/run/perch.sock") == .unix(path: "/run/perch.sock"))
        #expect(try ListenAddress(parsing: "unix:/tmp/a.sock") == .unix(path: "/tmp/a.sock"))
        #expect(try ListenAddress(parsing: "127.0.0.1:9000") == .tcp(host: "127.0.0.1", port: 9000))
        #expect(try ListenAddress(parsing: "[::1]:9000") == .tcp(host: "::1", port: 9000))
    }

    @Test(arguments: ["", "localhost", ":9000", "host:0", "host:99999", "unix:", "/" + String(repeating: "x", count: 200)])
    func rejectsNonsense(_ text: String) {
        #expect(throws: ConfigurationError.self) { try ListenAddress(parsing: text) }
    }

    @Test func responseHeadRefusesHeaderInjection() {
        let response = FastCGIResponse(status: 200, reason: "OK", headers: [("X-Ok", "1"), ("X-Bad", "a\r\nSet-Cookie: x=1")])
        let head = String(decoding: response.head, as: UTF8.self)
        #expect(head == "Status: 200 OK\r\nX-Ok: 1\r\n\r\n")
    }
}

@Suite struct ResponseHeadTests {
    @Test(arguments: [("X-Bad", "a\nb"), ("X-Bad", "a\rb"), ("X-Bad", "\r\n"), ("X-Bad\r\nSet-Cookie", "x=1"), ("X\nBad", "1")])
    func addHeaderRefusesLineBreaks(name: String, value: String) {
        var response = FastCGIResponse(status: 404, reason: "Not Found", headers: [("A", "1")])
        let refused = !response.addHeader(name: name, value: value)
        let added = response.addHeader(name: "B", value: "2")
        #expect(refused && added)
        #expect(String(decoding: response.head, as: UTF8.self) == "Status: 404 Not Found\r\nA: 1\r\nB: 2\r\n\r\n")
    }

    @Test func longValuesAreCheckedToTheirLastByteAndGrowTheHead() {
        let long = String(repeating: "v", count: 300)
        var response = FastCGIResponse(status: 200, reason: "OK")
        let refused = !response.addHeader(name: "X-Long", value: long + "\n")
        let added = (0..<3).allSatisfy { response.addHeader(name: "X-Long-\($0)", value: long) }
        #expect(refused && added)
        #expect(response.head == Array("Status: 200 OK\r\nX-Long-0: \(long)\r\nX-Long-1: \(long)\r\nX-Long-2: \(long)\r\n\r\n".utf8))
    }
}
