import Sodium
import Testing

// The minimum limits keep these tests fast; one test checks the INTERACTIVE defaults.
private func fastHasher(ops: Int = PasswordHasher.minimumOpsLimit, mem: Int = PasswordHasher.minimumMemLimit) throws -> PasswordHasher {
    try PasswordHasher(opsLimit: ops, memLimit: mem)
}

@Test func hashAndVerifyRoundTrip() throws {
    let hasher = try fastHasher()
    let hash = try hasher.hash("correct horse battery staple")
    #expect(hash.hasPrefix("$argon2id$"))
    #expect(hasher.verify("correct horse battery staple", against: hash))
}

@Test func wrongPasswordFails() throws {
    let hasher = try fastHasher()
    let hash = try hasher.hash("correct horse battery staple")
    #expect(!hasher.verify("correct horse battery stapl", against: hash))
    #expect(!hasher.verify("", against: hash))
}

@Test func sameInputGivesDifferentSaltedHashes() throws {
    let hasher = try fastHasher()
    #expect(try hasher.hash("password1") != hasher.hash("password1"))
}

@Test func passwordsWithNULAndUnicodeAreHashedWhole() throws {
    let hasher = try fastHasher()
    let hash = try hasher.hash("pass\u{0}word-é")
    #expect(hasher.verify("pass\u{0}word-é", against: hash))
    #expect(!hasher.verify("pass", against: hash))  // nothing is cut at the NUL
}

@Test func malformedHashNeverVerifies() throws {
    let hasher = try fastHasher()
    #expect(!hasher.verify("x", against: ""))
    #expect(!hasher.verify("x", against: "not a hash"))
    #expect(!hasher.verify("x", against: String(repeating: "$", count: 500)))
}

@Test func needsRehashWhenStoredHashIsWeaker() throws {
    let weak = try fastHasher()
    let strong = try fastHasher(ops: PasswordHasher.minimumOpsLimit + 1, mem: PasswordHasher.minimumMemLimit * 2)
    let weakHash = try weak.hash("password1")
    #expect(strong.needsRehash(weakHash))
    #expect(!weak.needsRehash(weakHash))
    #expect(!strong.needsRehash(try strong.hash("password1")))
    // Still verifies under the stronger configuration: the hash carries its own limits.
    #expect(strong.verify("password1", against: weakHash))
}

@Test func malformedHashNeedsRehash() throws {
    let hasher = try fastHasher()
    #expect(hasher.needsRehash(""))
    #expect(hasher.needsRehash("$2b$12$bcryptlookingthing"))
    #expect(hasher.needsRehash(String(repeating: "a", count: 300)))
}

@Test func dummyVerifyReturnsFalse() throws {
    let hasher = try fastHasher()
    #expect(!hasher.verifyDummy("password1"))
    #expect(!hasher.verifyDummy(""))
}

@Test func defaultsAreLibsodiumInteractive() throws {
    #expect(PasswordHasher.interactiveOpsLimit == 2)
    #expect(PasswordHasher.interactiveMemLimit == 64 << 20)
    let hasher = try PasswordHasher()
    #expect(hasher.opsLimit == 2 && hasher.memLimit == 64 << 20)
    let hash = try hasher.hash("password1")
    #expect(hash.contains("m=65536,t=2,"))
    #expect(hasher.verify("password1", against: hash))
}

@Test func invalidLimitsAreRefused() {
    #expect(throws: PasswordHasherError.invalidLimits) { try PasswordHasher(opsLimit: 0) }
    #expect(throws: PasswordHasherError.invalidLimits) { try PasswordHasher(opsLimit: 1, memLimit: 1024) }
}
