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
}
