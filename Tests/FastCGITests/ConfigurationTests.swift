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
