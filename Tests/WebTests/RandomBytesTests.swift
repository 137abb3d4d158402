import Glibc
import Testing

@testable import Web

/// Request ids come from a pool of kernel random bytes; a forked worker must not hand out its parent's.
@Suite struct RandomBytesTests {
    private func draw(_ source: RandomBytes) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeMutableBytes { source.fill($0) }
        return bytes
    }

    @Test func drawsDifferAcrossPoolRefills() {
        let source = RandomBytes()
        var seen = Set<[UInt8]>()
        for _ in 0..<600 { seen.insert(draw(source)) }  // 9,600 bytes: the 4 KB pool is refilled twice
        #expect(seen.count == 600)
    }

    /// With the kernel wiping the pool in a child, and with the pid check that stands in where it cannot.
    @Test(arguments: [true, false])
    func aForkedChildDrawsFreshBytes(adviseWipeOnFork: Bool) throws {
        let source = RandomBytes(adviseWipeOnFork: adviseWipeOnFork)
        _ = draw(source)  // the pool is filled in the parent
        var pipeFDs: [Int32] = [0, 0]
        #expect(pipe(&pipeFDs) == 0)
        // The child's buffer is made before the fork: the test process has other threads, and a Swift allocation
        // in the child could wait forever on a runtime lock one of them held at the fork (seen under TSan).
        var childDraw = [UInt8](repeating: 0, count: 16)
        let pid = fork()
        if pid == 0 {
            childDraw.withUnsafeMutableBytes { buffer in
                source.fill(buffer)
                _ = write(pipeFDs[1], buffer.baseAddress, 16)
            }
            _exit(0)
        }
        #expect(pid > 0)
        close(pipeFDs[1])
        let parent = draw(source)
        var child = [UInt8](repeating: 0, count: 16)
        var descriptor = pollfd(fd: pipeFDs[0], events: Int16(POLLIN), revents: 0)
        let answered = poll(&descriptor, 1, 5_000) == 1
        #expect(answered, "the child did not answer in 5 s")
        // Read only what is there: a child that hangs keeps the pipe open, and a blind read would wait forever.
        let count = answered ? child.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, 16) } : 0
        close(pipeFDs[0])
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(count == 16)
        #expect(child != parent, "the child reused the parent's pool")
    }
}
