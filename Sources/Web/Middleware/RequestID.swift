import HTTPTypes

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

extension HTTPField.Name {
    public static let xRequestID = HTTPField.Name("X-Request-ID")!
}

/// API.md's request id: the caller's X-Request-ID when it is 1-128 characters of [A-Za-z0-9._-], else a
/// new random one. The application resolves it before making the context; this middleware echoes it.
public enum RequestID {
    public static func resolve(_ request: Request) -> String {
        if let given = request.headerFields.value(of: .xRequestID), isValid(given) { return given }
        return generate()
    }

    public static func isValid(_ id: String) -> Bool {
        var id = id
        return id.withUTF8 { utf8 in  // contiguous bytes: checked twice a request
            (1...128).contains(utf8.count)
                && utf8.allSatisfy { b in
                    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
                }
        }
    }

    /// 128 random bits as 32 hex digits.
    public static func generate() -> String {
        var random: (UInt64, UInt64) = (0, 0)
        var hex: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &random) { random in
            randomBytes.fill(random)
            // Two digits per byte, each looked up (a shift and a branch per digit cost about 500 instructions).
            let digits: StaticString = "0123456789abcdef"
            withUnsafeMutableBytes(of: &hex) { out in
                for (index, byte) in random.enumerated() {
                    out[2 * index] = digits.utf8Start[Int(byte >> 4)]
                    out[2 * index + 1] = digits.utf8Start[Int(byte & 15)]
                }
            }
        }
        return withUnsafeBytes(of: &hex) { String(decoding: $0, as: UTF8.self) }
    }

    private static let randomBytes = RandomBytes()
}

public struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}
    public func handle(_ request: Request, context: Context, next: Responder<Context>) throws -> Response {
        var response = try next(request, context)
        response.headerFields.set(HTTPField(name: .xRequestID, value: context.requestID))
        return response
    }
}
