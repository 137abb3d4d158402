import Glibc

/// A process's resident memory, from /proc/<pid>/statm (its second field, in pages).
enum ResidentMemory {
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// nil when the process has just left.
    static func bytes(of pid: pid_t) -> Int? {
        let fd = open("/proc/\(pid)/statm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return bytes(statm: fd)
    }

    /// From an open statm file, read again from its start: one system call per look (a worker's own, after
    /// each request when PERCH_MAX_WORKER_MEMORY is set).
    static func bytes(statm fd: Int32) -> Int? {
        var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))  // 64 bytes
        return withUnsafeMutableBytes(of: &buffer) { bytes -> Int? in
            let count = pread(fd, bytes.baseAddress, bytes.count, 0)
            guard count > 0 else { return nil }
            var pages = 0
            var field = 0
            for byte in bytes.prefix(count) {
                if byte == UInt8(ascii: " ") {
                    field += 1
                    if field > 1 { break }
                } else if field == 1, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    pages = pages * 10 + Int(byte - UInt8(ascii: "0"))
                }
            }
            return field > 1 ? pages * pageSize : nil
        }
    }
}
