import FastCGI
import HTTPTypes
import Testing
import Web

@testable import App

/// CGI parameters into the web layer's request: the header names nginx folded, and what else comes along.
@Suite struct HTTPBridgeTests {
    @Test(arguments: [
        ("HTTP_HOST", "Host"), ("HTTP_X_REQUEST_ID", "X-Request-Id"), ("HTTP_ACCEPT_ENCODING", "Accept-Encoding"),
        ("HTTP_X1_Y2", "X1-Y2"), ("HTTP__A__B_", "A-B"), ("HTTP_", ""), ("HTTP_ÉTÉ_X", "Été-X")
    ])
    func headerNamesUnfoldAsNginxFoldedThem(cgi: String, expected: String) {
        let params: CGIParams = [cgi: "v", "REQUEST_URI": "/"]
        #expect(params.headerFields.map(\.name) == [expected])
    }

    @Test func requestCarriesHeadersMethodURIAndPeer() {
        let request = HTTPBridge.request(
            from: FastCGIRequest(
                params: [
                    "REQUEST_METHOD": "POST", "REQUEST_URI": "/api/v1/posts?limit=2", "REMOTE_ADDR": "10.0.0.7",
                    "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "2", "HTTP_X_REQUEST_ID": "abc", "HTTP_PROXY": "",
                    "SERVER_NAME": "_"
                ], body: Array("{}".utf8)), bodyLimit: 100)
        #expect(request.method == .post)
        #expect(request.path == "/api/v1/posts" && request.queryString == "limit=2")
        #expect(request.remoteAddress == "10.0.0.7")
        #expect(request.headerFields[.xRequestID] == "abc")
        #expect(request.headerFields[.contentType] == "application/json" && request.headerFields[.contentLength] == "2")
        #expect(request.headerFields[HTTPField.Name("Proxy")!] == "")
        #expect(request.body == Array("{}".utf8))
    }

    @Test func responseHeadCarriesFieldsInOrderAndTheBodyLength() {
        var response = Response.json(["a": 1])
        response.headerFields.append(HTTPField(name: .vary, value: "Origin"))
        response.headerFields.append(HTTPField(name: .vary, value: "a\r\nSet-Cookie: x=1"))  // HTTPTypes blanks the line break
        let answer = HTTPBridge.fastCGIResponse(response)
        #expect(
            String(decoding: answer.head, as: UTF8.self)
                == "Status: 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nVary: Origin\r\nVary: a  Set-Cookie: x=1\r\n"
                + "Content-Length: 7\r\n\r\n")
        #expect(String(decoding: answer.body, as: UTF8.self) == #"{"a":1}"#)
        let declared = HTTPBridge.fastCGIResponse(Response(status: .noContent, headerFields: [.contentLength: "0"]))
        #expect(String(decoding: declared.head, as: UTF8.self) == "Status: 204 No Content\r\nContent-Length: 0\r\n\r\n")
    }
}
