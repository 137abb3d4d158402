import CSodium

/// Calls `sodium_init()` exactly once per process before any libsodium use.
/// A Swift `static let` is initialised lazily and thread-safely, which gives us the "once".
enum SodiumRuntime {
    private static let initialized: Bool = sodium_init() >= 0

    static func ensureInitialized() {
        precondition(initialized, "sodium_init() failed: libsodium cannot be used")
    }
}
