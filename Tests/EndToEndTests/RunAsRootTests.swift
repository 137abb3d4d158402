import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `perch serve` refuses root unless PERCH_ALLOW_ROOT=1 (README, configuration). Only root can check it; CI
/// runs as root, and every other test that serves gets the variable from TestSupport's ChildProcess.
@Suite(.enabled(if: geteuid() == 0, "only root can see the refusal"))
struct RunAsRootTests {
    @Test(arguments: ["", "0", "yes"])
    func serveRefusesRootUnlessAllowed(value: String) throws {
        let refused = try run([Paths.perchBinary, "serve"], environment: ["PATH": "/usr/bin:/bin", "PERCH_ENV": "development", "PERCH_ALLOW_ROOT": value])
        #expect(refused.status == 78)
        #expect(refused.output.contains("refusing to serve as root") && refused.output.contains("PERCH_ALLOW_ROOT=1"), "\(refused.output)")
    }

    @Test func allowedRootGoesOnToTheConfiguration() throws {
        // Past the root check, the next complaint is that there is nothing to serve on.
        let allowed = try run([Paths.perchBinary, "serve"], environment: ["PATH": "/usr/bin:/bin", "PERCH_ENV": "development", "PERCH_ALLOW_ROOT": "1"])
        #expect(allowed.status == 78 && allowed.output.contains("PERCH_LISTEN") && !allowed.output.contains("root"), "\(allowed.output)")
    }
}
