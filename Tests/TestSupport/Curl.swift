import Foundation

/// One HTTP exchange through curl: status, headers (lowercased names) and body.
public struct CurlResponse {
    public let status: Int
    public let headers: [String: String]
    public let body: String
}

public func curl(
    _ url: String, method: String = "GET", headers: [String: String] = [:], body: String? = nil,
    seconds: Double = 30, options: [String] = []
) throws -> CurlResponse {
    var arguments = ["/usr/bin/curl", "-s", "-i", "--max-time", "\(Int(seconds))", "-X", method] + options + [url]
    for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
    if body != nil { arguments += ["--data-binary", "@-"] }
    let result = try run(arguments, input: body, seconds: seconds + 5)
    let parts = result.output.components(separatedBy: "\r\n\r\n")
    guard result.status == 0, parts.count >= 2 else { throw SupportError("curl \(url) failed (\(result.status)): \(result.output)") }
    let headLines = parts[0].components(separatedBy: "\r\n")
    let status = Int(headLines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
    var headers: [String: String] = [:]
    for line in headLines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return CurlResponse(status: status, headers: headers, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
}
