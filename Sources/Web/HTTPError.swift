import HTTPTypes

/// An error a handler or middleware throws to answer with a status: `{"detail": ...}` plus headers.
public struct HTTPError: Error, Sendable {
    public var status: HTTPResponse.Status
    /// A message, or any JSON value for structured details.
    public var detail: JSONValue
    public var headerFields: HTTPFields

    public init(_ status: HTTPResponse.Status, detail: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.detail = .string(detail ?? status.reasonPhrase)
        self.headerFields = headers
    }

    public init(_ status: HTTPResponse.Status, structuredDetail: JSONValue, headers: HTTPFields = [:]) {
        self.status = status
        self.detail = structuredDetail
        self.headerFields = headers
    }

    public var response: Response {
        var r = Response.json(["detail": detail], status: status)
        for field in headerFields { r.headerFields[field.name] = field.value }
        return r
    }

    public static let notFound = HTTPError(.notFound, detail: "Not Found")
    public static let internalServerError = HTTPError(.internalServerError, detail: "Internal Server Error")
    public static let preconditionFailed = HTTPError(.preconditionFailed, detail: "Precondition Failed")
    public static let unsupportedMediaType = HTTPError(.unsupportedMediaType, detail: "Unsupported Media Type")

    /// 401 with the `WWW-Authenticate: Bearer` challenge API.md requires.
    public static func unauthorized(_ detail: String = "Not authenticated") -> HTTPError {
        HTTPError(.unauthorized, detail: detail, headers: [.wwwAuthenticate: "Bearer"])
    }
}
