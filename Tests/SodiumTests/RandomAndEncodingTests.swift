import Foundation
import Sodium
import Testing

@Test func randomBytesHaveTheRequestedLengthAndDiffer() {
    #expect(SecureRandom.bytes(0).isEmpty)
    #expect(SecureRandom.bytes(64).count == 64)
    #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
}

@Test func tokensAreDistinctUnpaddedBase64URLOf43Characters() {
    let tokens = (0..<100).map { _ in SecureRandom.token() }
    #expect(Set(tokens).count == 100)
    for token in tokens {
        #expect(token.count == 43)
        #expect(token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        #expect(Base64URL.decode(token)?.count == 32)
    }
    #expect(SecureRandom.token(bytes: 16).count == 22)
}

@Test func constantTimeEqualsComparesContentAndLength() {
    #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
    #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
    #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
    #expect(!constantTimeEquals([], [0]))
    #expect(constantTimeEquals([UInt8](), []))
    #expect(constantTimeEquals("token", "token"))
    #expect(!constantTimeEquals("token", "tokeN"))
}

@Test func sha256MatchesKnownVectors() {
    #expect(hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(hex(sha256([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
}

@Test func base64URLRoundTripsAllLengths() {
    for length in 0..<70 {
        let bytes = SecureRandom.bytes(length)
        let text = Base64URL.encode(bytes)
        #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
        #expect(Base64URL.decode(text) == bytes)
    }
    #expect(Base64URL.encode([0xfb, 0xff]) == "-_8")
}

@Test func base64URLDecodeIsStrict() {
    #expect(Base64URL.decode("-_8") == [0xfb, 0xff])
    #expect(Base64URL.decode("+/8") == nil)  // standard alphabet
    #expect(Base64URL.decode("-_8=") == nil)  // padding
    #expect(Base64URL.decode("AAAA====") == nil)
    #expect(Base64URL.decode("A") == nil)  // impossible length
    #expect(Base64URL.decode("AB") == nil)  // non-zero unused bits
    #expect(Base64URL.decode("AA A") == nil)  // whitespace
    #expect(Base64URL.decode("AAA\n") == nil)
    #expect(Base64URL.decode("AA.A") == nil)
    #expect(Base64URL.decode("AAé") == nil)  // non-ASCII
    #expect(Base64URL.decode("AA\u{7f}A") == nil)
    #expect(Base64URL.decode("AA\u{0}A") == nil)
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
