import Glibc
import Testing

@testable import FastCGI

/// The pool-wide permits the app takes around password hashes: one budget for every slot of the scoreboard
/// (shared memory, so every worker process sees the same flags), freed with a dead worker's slot.
@Suite struct SharedPermitsTests {
    @Test func atMostTheLimitHoldAPermitAcrossSlots() throws {
        let board = try Scoreboard(slots: 3)
        let workers = (0..<3).map { SharedPermits(scoreboard: board, slot: $0) }
        #expect(workers[0].tryAcquire(limit: 2))
        #expect(workers[1].tryAcquire(limit: 2))
        #expect(!workers[2].tryAcquire(limit: 2))
        #expect(SharedPermits.held(in: board) == 2)  // the refused one lowered its flag again
        workers[0].release()
        #expect(workers[2].tryAcquire(limit: 2))
    }

    @Test func aWorkerThatDiesHoldingAPermitFreesItWithItsSlot() throws {
        let board = try Scoreboard(slots: 2)
        let dying = SharedPermits(scoreboard: board, slot: 0)
        let other = SharedPermits(scoreboard: board, slot: 1)
        #expect(dying.tryAcquire(limit: 1))
        #expect(!other.tryAcquire(limit: 1))
        board.slot(0).assign(pid: 12345)  // the master reuses the slot for a new worker
        #expect(other.tryAcquire(limit: 1))
    }

    /// The flags live in memory shared with forked children: a permit held in a child counts in the parent.
    @Test func aPermitHeldInAForkedWorkerCountsEverywhere() throws {
        let board = try Scoreboard(slots: 2)
        var ready: [Int32] = [0, 0]
        #expect(pipe(&ready) == 0)
        let child = fork()
        if child == 0 {
            _ = SharedPermits(scoreboard: board, slot: 0).tryAcquire(limit: 1)
            var byte: UInt8 = 1
            _ = write(ready[1], &byte, 1)
            pause()  // until the parent kills it
            _exit(0)
        }
        var byte: UInt8 = 0
        #expect(read(ready[0], &byte, 1) == 1)
        #expect(!SharedPermits(scoreboard: board, slot: 1).tryAcquire(limit: 1))
        kill(child, SIGKILL)
        var status: Int32 = 0
        waitpid(child, &status, 0)
        close(ready[0])
        close(ready[1])
    }
}
