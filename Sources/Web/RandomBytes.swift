#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

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
            mapped != MAP_FAILED
        else { fatalError("RandomBytes: mmap of one page failed: errno \(errno)") }
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
