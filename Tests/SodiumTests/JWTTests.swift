import Foundation
import Sodium
import Testing

@Test func hs256RoundTrip() throws {
    let signer = try JWTSigner(algorithm: .hs256, signingKey: hsKey())
    let token = try signer.sign(claims: claims())
    #expect(try signer.verify(token, now: testNow) == claims())
    let header = String(decoding: Base64URL.decode(segments(token)[0])!, as: UTF8.self)
    #expect(header == #"{"alg":"HS256","kid":"k1","typ":"JWT"}"#)
}

@Test func headerOmitsKidWhenTheKeyHasNone() throws {
    let signer = try JWTSigner(algorithm: .hs256, signingKey: hsKey(nil))
    let token = try signer.sign(claims: claims())
    let header = String(decoding: Base64URL.decode(segments(token)[0])!, as: UTF8.self)
    #expect(header == #"{"alg":"HS256","typ":"JWT"}"#)
    #expect(try signer.verify(token, now: testNow).sub == "42")
}

@Test func edDSARoundTripAndVerifyWithPublicKeyOnly() throws {
    let key = try edKey()
    let signer = try JWTSigner(algorithm: .edDSA, signingKey: key, issuer: "perch", audience: "perch-api")
    let token = try signer.sign(claims: claims())
    let verified = try signer.verify(token, now: testNow)
    #expect(verified.sub == "42" && verified.iss == "perch" && verified.aud == ["perch-api"])
    #expect(segments(token)[0] == Base64URL.encode(Array(#"{"alg":"EdDSA","kid":"e1","typ":"JWT"}"#.utf8)))
    // Another service holding only the public key and a key of its own verifies the same token.
    let verifier = try JWTSigner(
        algorithm: .edDSA, signingKey: edKey("other"),
        verificationKeys: [JWTKey.ed25519(publicKey: key.publicKey, kid: "e1")])
    #expect(try verifier.verify(token, now: testNow).sid == "sess-1")
}

// Expected token computed once with Python's hmac/hashlib/json (sort_keys, compact separators).
@Test func hs256MatchesAnIndependentImplementation() throws {
    let key = try JWTKey.hs256(secret: Array(0..<32), kid: "k1")
    let signer = try JWTSigner(algorithm: .hs256, signingKey: key, issuer: "perch", audience: "perch-api")
    let token = try signer.sign(
        claims: JWTClaims(
            sub: "42", sid: "sess-1", iat: 1_700_000_000,
            exp: 1_700_000_900, jti: "jti-1"))
    #expect(
        token == "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0"
            + ".eyJhdWQiOiJwZXJjaC1hcGkiLCJleHAiOjE3MDAwMDA5MDAsImlhdCI6MTcwMDAwMDAwMCwiaXNzIjoicGVyY2giLCJqdGkiOiJqdGktMSIsInNpZCI6InNlc3MtMSIsInN1YiI6IjQyIn0"
            + ".tNtRY-OTmDCstQUIGZPHwGyS5VlRJ4lmAyDA1In1wlo")
}

// RFC 7515 appendix A.1: its signature must verify with its 64-byte key. The payload lacks our
// claims, so getting past the signature shows up as invalidClaims rather than badSignature.
@Test func hs256AcceptsRFC7515ExampleSignature() throws {
    let secret = try JWTKeyGenerator.decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
    let signer = try JWTSigner(algorithm: .hs256, signingKey: JWTKey.hs256(secret: secret))
    let input =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        + ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    #expect(throws: JWTError.invalidClaims) { try signer.verify(input + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") }
    #expect(throws: JWTError.badSignature) { try signer.verify(input + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXg") }
}

// RFC 8037 appendix A: Ed25519 key derivation and signature.
@Test func edDSAMatchesRFC8037Example() throws {
    let key = try JWTKey.ed25519(privateKey: JWTKeyGenerator.decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"))
    #expect(JWTKeyGenerator.encode(key.publicKey) == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    let signer = try JWTSigner(algorithm: .edDSA, signingKey: key)
    let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    let signature = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    #expect(throws: JWTError.invalidClaims) { try signer.verify(input + "." + signature) }
    var tampered = Base64URL.decode(signature)!
    tampered[10] ^= 1
    #expect(throws: JWTError.badSignature) { try signer.verify(input + "." + Base64URL.encode(tampered)) }
}

@Test func keyRotationVerifiesOldKeysByKid() throws {
    let old = try JWTSigner(algorithm: .hs256, signingKey: hsKey("k1", fill: 1))
    let oldToken = try old.sign(claims: claims())
    let rotated = try JWTSigner(
        algorithm: .hs256, signingKey: hsKey("k2", fill: 2),
        verificationKeys: [hsKey("k1", fill: 1)])
    #expect(try rotated.verify(oldToken, now: testNow) == claims())
    #expect(try rotated.verify(rotated.sign(claims: claims()), now: testNow) == claims())
    let retired = try JWTSigner(algorithm: .hs256, signingKey: hsKey("k2", fill: 2))
    #expect(throws: JWTError.unknownKey) { try retired.verify(oldToken, now: testNow) }
    // A kid that names one key while another key made the signature does not verify.
    let confused = try JWTSigner(algorithm: .hs256, signingKey: hsKey("k1", fill: 2))
    #expect(throws: JWTError.badSignature) { try confused.verify(oldToken, now: testNow) }
}

@Test func tokenWithoutKidTriesEveryConfiguredKey() throws {
    let token = try JWTSigner(algorithm: .hs256, signingKey: hsKey(nil, fill: 1)).sign(claims: claims())
    let verifier = try JWTSigner(
        algorithm: .hs256, signingKey: hsKey("k2", fill: 2),
        verificationKeys: [hsKey(nil, fill: 1)])
    #expect(try verifier.verify(token, now: testNow) == claims())
    let other = try JWTSigner(algorithm: .hs256, signingKey: hsKey("k2", fill: 2))
    #expect(throws: JWTError.badSignature) { try other.verify(token, now: testNow) }
}

@Test func keyGenerationAndTextFormat() throws {
    let secret = JWTKeyGenerator.hs256Secret()
    #expect(secret.count == 32 && secret != JWTKeyGenerator.hs256Secret())
    #expect(try JWTKeyGenerator.decode(JWTKeyGenerator.encode(secret) + "\n") == secret)
    #expect(throws: JWTError.self) { try JWTKeyGenerator.decode("not base64!") }
    #expect(throws: JWTError.self) { try JWTKeyGenerator.decode("") }

    let pair = JWTKeyGenerator.ed25519()
    #expect(pair.publicKey.count == 32 && pair.secretKey.count == 64)
    let fromSecret = try JWTKey.ed25519(privateKey: pair.secretKey)
    let fromSeed = try JWTKey.ed25519(privateKey: Array(pair.secretKey.prefix(32)))
    #expect(fromSecret.publicKey == pair.publicKey && fromSeed.publicKey == pair.publicKey)
    // The public half of a 64-byte secret key must belong to its seed.
    var mismatched = pair.secretKey
    mismatched[40] ^= 1
    #expect(throws: JWTError.self) { try JWTKey.ed25519(privateKey: mismatched) }
    #expect(throws: JWTError.self) { try JWTKey.ed25519(privateKey: Array(repeating: 1, count: 31)) }
    #expect(throws: JWTError.self) { try JWTKey.ed25519(publicKey: Array(repeating: 1, count: 64)) }
}

@Test func keysNeverPrintTheirMaterial() throws {
    let secret = JWTKeyGenerator.hs256Secret()
    let key = try JWTKey.hs256(secret: secret, kid: "k1")
    var dumped = ""
    dump(key, to: &dumped)
    for text in ["\(key)", String(reflecting: key), dumped] {
        #expect(text.contains("k1"))
        #expect(!text.contains(JWTKeyGenerator.encode(secret)) && !text.contains("\(secret)"))
    }
}
