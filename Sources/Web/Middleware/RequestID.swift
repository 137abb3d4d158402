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
/// a request id costs no system call of its own. A forked child never reuses its parent's unused bytes: the
/// pool is a page the kernel hands a child zeroed (MADV_WIPEONFORK, Linux 4.14), and its first word counts
/// the bytes still unused, so a child finds none. Where that advice is refused, a pid check per draw does it.
final class RandomBytes: @unchecked Sendable {
    private static let pageSize = 4096
    private static let header = MemoryLayout<Int>.size
    private let page: UnsafeMutableRawPointer
    private let wipedOnFork: Bool
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Without the advice: the process that filled the pool.
    private var filledBy: pid_t = 0

    /// `adviseWipeOnFork: false` is for the tests of the fallback.
    init(adviseWipeOnFork: Bool = true) {
        guard let mapped = mmap(nil, Self.pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapped != MAP_FAILED else { fatalError("RandomBytes: mmap of one page failed: errno \(errno)") }
        page = mapped
        #if os(Linux)
        wipedOnFork = adviseWipeOnFork && madvise(page, Self.pageSize, MADV_WIPEONFORK) == 0
        #else
        wipedOnFork = false
        #endif
        pthread_mutex_init(lock, nil)
    }

    deinit {
        munmap(page, Self.pageSize)
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    /// The count of unused bytes at the pool's end; zero in a fresh page or a forked child's copy.
    private var unused: Int {
        get { page.load(as: Int.self) }
        set { page.storeBytes(of: newValue, as: Int.self) }
    }

    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        let capacity = Self.pageSize - Self.header
        precondition(buffer.count <= capacity, "RandomBytes: at most \(capacity) bytes per draw")
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if !wipedOnFork && filledBy != getpid() {
            unused = 0
            filledBy = getpid()
        }
        if buffer.count > unused {
            arc4random_buf(page + Self.header, capacity)
            unused = capacity
        }
        buffer.copyMemory(from: UnsafeRawBufferPointer(start: page + Self.pageSize - unused, count: buffer.count))
        unused -= buffer.count
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
