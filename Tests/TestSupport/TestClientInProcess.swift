import HTTPTypes
import Web

/// Runs each request through the whole application (middleware, router, handlers) without a socket.
public struct InProcessTestClient<Context: RequestContext>: TestClient {
    public let application: Application<Context>
    public var remoteAddress: String

    public init(_ application: Application<Context>, remoteAddress: String = "127.0.0.1") {
        self.application = application
        self.remoteAddress = remoteAddress
    }

    public func execute(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields, body: [UInt8]) throws -> TestResponse {
        var h = headers
        // As a FastCGI server passes CONTENT_LENGTH for every body.
        if !body.isEmpty, h[.contentLength] == nil { h[.contentLength] = String(body.count) }
        let request = Request(method: method, uri: path, headerFields: h, body: body, remoteAddress: remoteAddress)
        let response = application.respond(to: request)
        return TestResponse(status: response.status, headers: response.headerFields, body: response.body)
    }
}
