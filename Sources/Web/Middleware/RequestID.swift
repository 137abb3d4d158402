#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import HTTPTypes

extension HTTPField.Name {
    public static let xRequestID = HTTPField.Name("X-Request-ID")!
}

/// API.md's request id: the caller's X-Request-ID when it is 1-128 characters of [A-Za-z0-9._-], else a
/// new random one. The application resolves it before making the context; this middleware echoes it.
public enum RequestID {
    public static func resolve(_ request: Request) -> String {
        if let given = request.headerFields[.xRequestID], isValid(given) { return given }
        return generate()
    }

    public static func isValid(_ id: String) -> Bool {
        var id = id
        return id.withUTF8 { utf8 in  // contiguous bytes: checked twice a request
            (1...128).contains(utf8.count) && utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
            }
        }
    }

    /// 128 random bits as 32 hex digits.
    public static func generate() -> String {
        var words: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &words) { randomBytes.fill($0) }
        return String(unsafeUninitializedCapacity: 32) { buffer in
            for index in 0..<32 {
                let word = index < 16 ? words.0 : words.1
                let nibble = UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * (index % 16))) & 15
                buffer[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
            }
            return 32
        }
    }

    private static let randomBytes = RandomBytes()
}

/// Random bytes from the kernel (getrandom(2), through glibc's arc4random_buf) taken 4 KB at a time, so that
/// a request id costs no system call of its own. A forked child never reuses its parent's unused bytes.
final class RandomBytes: @unchecked Sendable {
    private var pool = [UInt8](repeating: 0, count: 4096)
    private var used: Int
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// The process that filled the pool: a forked child refills its own. A pid check (one cheap system call
    /// per id) rather than a pthread_atfork handler, so that no Swift code runs inside fork.
    private var filledBy: pid_t = 0

    init() {
        used = pool.count
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        let pid = getpid()
        if buffer.count > pool.count - used || filledBy != pid {
            pool.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
            used = 0
            filledBy = pid
        }
        pool.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[used..<(used + buffer.count)])) }
        used += buffer.count
    }
}

public struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}
    public func handle(_ request: Request, context: Context, next: Responder<Context>) throws -> Response {
        var response = try next(request, context)
        response.headerFields[.xRequestID] = context.requestID
        return response
    }
}
