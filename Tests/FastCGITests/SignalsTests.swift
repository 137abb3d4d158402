import Glibc
import Testing

@testable import FastCGI

/// Signals arrive only inside `Signals.wait`; they must arrive even when the descriptors are ready at once.
@Suite(.serialized) struct SignalsTests {
    @Test func aPendingSignalArrivesWhileDescriptorsAreAlwaysReady() {
        Signals.install()
        defer { Signals.resetForExec() }
        var ends: [Int32] = [0, 0]
        pipe(&ends)
        defer {
            close(ends[0])
            close(ends[1])
        }
        _ = write(ends[1], "x", 1)  // always readable: ppoll never has to sleep

        raise(SIGUSR2)  // blocked outside wait: pending
        var arrived = false
        for _ in 0..<50 where !arrived {  // a busy worker's loop; the check runs at least every 10 ms
            var fds = [pollfd(fd: ends[0], events: Int16(POLLIN), revents: 0)]
            #expect(Signals.wait(&fds, milliseconds: 1000) == 1)
            arrived = Signals.take(SIGUSR2)
            usleep(1_000)
        }
        #expect(arrived)
    }
}
