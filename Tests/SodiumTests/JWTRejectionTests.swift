import Foundation
import Testing

@testable import Sodium

@Test func algNoneIsRejected() throws {
    let signer = try JWTSigner(algorithm: .hs256, signingKey: hsKey())
    let header = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
    let payload = Base64URL.encode(Array(validPayload.utf8))
    #expect(throws: JWTError.unsupportedAlgorithm) { try signer.verify(header + "." + payload + ".", now: testNow) }
    // Even with a valid HS256 signature over it, the header's alg decides nothing.
    for alg in ["none", "None", "hs256", "HS512", "RS256", "ES256", "EdDSA"] {
        let token = forge(header: #"{"alg":"\#(alg)","kid":"k1"}"#, payload: validPayload, key: try hsKey())
        #expect(throws: JWTError.unsupportedAlgorithm) { try signer.verify(token, now: testNow) }
    }
    // Control: the same construction with the configured algorithm passes.
    let good = forge(header: #"{"alg":"HS256","kid":"k1"}"#, payload: validPayload, key: try hsKey())
    #expect(try signer.verify(good, now: testNow).sub == "42")
}

@Test func tamperedPayloadIsRejected() throws {
    let signer = try JWTSigner(algorithm: .hs256, signingKey: hsKey())
    let parts = segments(try signer.sign(claims: claims()))
    var evil = claims()
    evil.sub = "1"
    let evilPayload = segments(try signer.sign(claims: evil))[1]
    #expect(throws: JWTError.badSignature) { try signer.verify([parts[0], evilPayload, parts[2]].joined(separator: "."), now: testNow) }
}

@Test func tamperedSignatureIsRejected() throws {
    for signer in [try JWTSigner(algorithm: .hs256, signingKey: hsKey()), try JWTSigner(algorithm: .edDSA, signingKey: edKey())] {
        let parts = segments(try signer.sign(claims: claims()))
        var signature = Base64URL.decode(parts[2])!
        signature[0] ^= 0x80
        let tampered = [parts[0], parts[1], Base64URL.encode(signature)].joined(separator: ".")
        #expect(throws: JWTError.badSignature) { try signer.verify(tampered, now: testNow) }
        let truncated = [parts[0], parts[1], Base64URL.encode(Array(signature.prefix(16)))].joined(separator: ".")
        #expect(throws: JWTError.badSignature) { try signer.verify(truncated, now: testNow) }
        let empty = [parts[0], parts[1], ""].joined(separator: ".")
        #expect(throws: JWTError.badSignature) { try signer.verify(empty, now: testNow) }
    }
}

@Test func algorithmConfusionIsRejected() throws {
    let ed = try edKey("e1")
    let edSigner = try JWTSigner(algorithm: .edDSA, signingKey: ed)
    let hsSigner = try JWTSigner(algorithm: .hs256, signingKey: hsKey("e1"))
    // The classic attack: an HS256 token whose HMAC key is the verifier's public key.
    let publicAsSecret = try JWTKey.hs256(secret: ed.publicKey, kid: "e1")
    let attack = try JWTSigner(algorithm: .hs256, signingKey: publicAsSecret).sign(claims: claims())
    #expect(throws: JWTError.unsupportedAlgorithm) { try edSigner.verify(attack, now: testNow) }
    #expect(throws: JWTError.unsupportedAlgorithm) { try edSigner.verify(hsSigner.sign(claims: claims()), now: testNow) }
    #expect(throws: JWTError.unsupportedAlgorithm) { try hsSigner.verify(edSigner.sign(claims: claims()), now: testNow) }
}

@Test func expiryIsCheckedWithLeeway() throws {
    let signer = try JWTSigner(algorithm: .hs256, signingKey: hsKey(), leeway: 30)
    let expiredLongAgo = try signer.sign(claims: claims(iat: nowSeconds - 1000, exp: nowSeconds - 31))
    #expect(throws: JWTError.expired) { try signer.verify(expiredLongAgo, now: testNow) }
    let atTheEdge = try signer.sign(claims: claims(iat: nowSeconds - 1000, exp: nowSeconds - 30))
    #expect(throws: JWTError.expired) { try signer.verify(atTheEdge, now: testNow) }
    let withinLeeway = try signer.sign(claims: claims(iat: nowSeconds - 1000, exp: nowSeconds - 10))
    #expect(try signer.verify(withinLeeway, now: testNow).exp == nowSeconds - 10)
    let strict = try JWTSigner(algorithm: .hs256, signingKey: hsKey(), leeway: 0)
    #expect(throws: JWTError.expired) { try strict.verify(withinLeeway, now: testNow) }
}

@Test func issuedInTheFutureIsRejected() throws {
    let signer = try JWTSigner(algorithm: .hs256, signingKey: hsKey(), leeway: 30)
    let future = try signer.sign(claims: claims(iat: nowSeconds + 60, exp: nowSeconds + 960))
    #expect(throws: JWTError.notYetValid) { try signer.verify(future, now: testNow) }
    let slightSkew = try signer.sign(claims: claims(iat: nowSeconds + 20, exp: nowSeconds + 920))
    #expect(try signer.verify(slightSkew, now: testNow).iat == nowSeconds + 20)
}

@Test func extremeTimesDoNotCrash() throws {
    let signer = try JWTSigner(algorithm: .hs256, signingKey: hsKey())
    #expect(try signer.verify(signer.sign(claims: claims(iat: Int.min, exp: Int.max)), now: testNow).exp == Int.max)
    #expect(throws: JWTError.expired) { try signer.verify(signer.sign(claims: claims(iat: Int.min, exp: Int.min)), now: testNow) }
    #expect(throws: JWTError.notYetValid) { try signer.verify(signer.sign(claims: claims(iat: Int.max, exp: Int.max)), now: testNow) }
}

@Test func issuerAndAudienceAreChecked() throws {
    let signer = try JWTSigner(algorithm: .hs256, signingKey: hsKey(), issuer: "perch", audience: "perch-api")
    var wrongIssuer = claims()
    wrongIssuer.iss = "evil"
    var wrongAudience = claims()
    wrongAudience.aud = ["other-api"]
    var audienceList = claims()
    audienceList.aud = ["other-api", "perch-api"]
    #expect(throws: JWTError.invalidIssuer) { try signer.verify(signer.sign(claims: wrongIssuer), now: testNow) }
    #expect(throws: JWTError.invalidAudience) { try signer.verify(signer.sign(claims: wrongAudience), now: testNow) }
    #expect(try signer.verify(signer.sign(claims: audienceList), now: testNow).aud == ["other-api", "perch-api"])
    // A token lacking iss/aud fails a verifier that requires them.
    let bare = try JWTSigner(algorithm: .hs256, signingKey: hsKey()).sign(claims: claims())
    #expect(throws: JWTError.invalidIssuer) { try signer.verify(bare, now: testNow) }
    let issuerOnly = try JWTSigner(algorithm: .hs256, signingKey: hsKey(), issuer: "perch").sign(claims: claims())
    #expect(throws: JWTError.invalidAudience) { try signer.verify(issuerOnly, now: testNow) }
}

@Test func claimsMustHaveTheirTypes() throws {
    let key = try hsKey()
    let signer = try JWTSigner(algorithm: .hs256, signingKey: key)
    let header = #"{"alg":"HS256","kid":"k1"}"#
    let good = forge(header: header, payload: validPayload, key: key)
    #expect(try signer.verify(good, now: testNow) == claims())
    // Optional claims may be null, a kid too; members we do not know are ignored.
    let withNulls = #"{"sub":"42","sid":"sess-1","iat":1700000000,"exp":1700000900,"jti":"jti-1","iss":null,"scope":null,"x":{"y":[1]}}"#
    #expect(try signer.verify(forge(header: #"{"alg":"HS256","kid":null}"#, payload: withNulls, key: key), now: testNow) == claims())
    let bad = [
        #"{"sid":"sess-1","iat":1700000000,"exp":1700000900,"jti":"jti-1"}"#,  // no sub
        #"{"sub":"42","sid":"sess-1","iat":1700000000,"jti":"jti-1"}"#,  // no exp
        #"{"sub":"42","sid":"sess-1","exp":1700000900,"jti":"jti-1"}"#,  // no iat
        #"{"sub":"42","sid":"sess-1","iat":1700000000,"exp":1700000900}"#,  // no jti
        #"{"sub":42,"sid":"sess-1","iat":1700000000,"exp":1700000900,"jti":"jti-1"}"#,  // number as sub
        #"{"sub":"42","sid":true,"iat":1700000000,"exp":1700000900,"jti":"jti-1"}"#,  // bool as sid
        #"{"sub":"42","sid":"sess-1","iat":1700000000,"exp":true,"jti":"jti-1"}"#,  // bool as exp
        #"{"sub":"42","sid":"sess-1","iat":1700000000,"exp":"1700000900","jti":"jti-1"}"#,  // string as exp
        #"{"sub":"42","sid":"sess-1","iat":1700000000,"exp":1700000900.5,"jti":"jti-1"}"#,  // fraction
        #"{"sub":"42","sid":"sess-1","iat":1700000000,"exp":1e400,"jti":"jti-1"}"#,  // out of range
        #"{"sub":"","sid":"sess-1","iat":1700000000,"exp":1700000900,"jti":"jti-1"}"#,  // empty sub
        #"{"sub":"42","sid":"sess-1","iat":1700000000,"exp":1700000900,"jti":"jti-1","aud":7}"#,
        #"{"sub":"42","sid":"sess-1","iat":1700000000,"exp":1700000900,"jti":"jti-1","aud":["perch-api",7]}"#,
        #"{"sub":"42","sid":"sess-1","iat":1700000000,"exp":1700000900,"jti":"jti-1","scope":["posts:write"]}"#,
        #"{"sub":null,"sid":"sess-1","iat":1700000000,"exp":1700000900,"jti":"jti-1"}"#,  // null as a required claim
        #"{"sub":"42","sid":"sess-1","iat":1700000000,"exp":99999999999999999999,"jti":"jti-1"}"#,  // beyond Int64
        #"["sub"]"#, "null", "not json"
    ]
    for payload in bad {
        #expect(throws: JWTError.invalidClaims, "\(payload)") { try signer.verify(forge(header: header, payload: payload, key: key), now: testNow) }
    }
}

@Test func malformedTokensAreRejectedWithoutCrashing() throws {
    let key = try hsKey()
    let signer = try JWTSigner(algorithm: .hs256, signingKey: key)
    let parts = segments(try signer.sign(claims: claims()))
    let inputs = [
        "", ".", "..", "...", "abc",
        parts[0] + "." + parts[1],  // two segments
        parts.joined(separator: ".") + "." + parts[2],  // four segments
        parts.joined(separator: ".") + ".",
        "bm90IGpzb24." + parts[1] + "." + parts[2],  // header is not JSON
        "e30." + parts[1] + "." + parts[2],  // header without alg
        parts[0] + "=." + parts[1] + "." + parts[2],  // padding
        parts[0] + "." + parts[1] + "." + parts[2] + "=",
        " " + parts.joined(separator: "."),
        String(repeating: "a", count: 1 << 20),  // huge
        String(repeating: "a", count: 1 << 20) + "." + parts[1] + "." + parts[2],
        String(repeating: ".", count: 10_000),
        "é.é.é"
    ]
    for input in inputs {
        #expect(throws: JWTError.malformed, "\(input.prefix(80))") { try signer.verify(input, now: testNow) }
    }
    #expect(throws: JWTError.malformed) {
        try signer.verify(forge(header: #"{"alg":7}"#, payload: validPayload, key: key), now: testNow)
    }
    #expect(throws: JWTError.malformed) {
        try signer.verify(forge(header: #"{"alg":"HS256","kid":1}"#, payload: validPayload, key: key), now: testNow)
    }
    #expect(throws: JWTError.malformed) {
        try signer.verify(forge(header: #"{"alg":"HS256","crit":["exp"]}"#, payload: validPayload, key: key), now: testNow)
    }
}

@Test func configurationMistakesAreRefused() throws {
    #expect(throws: JWTError.invalidKey("HS256 secret must be at least 32 bytes")) {
        try JWTKey.hs256(secret: Array(repeating: 1, count: 31))
    }
    #expect(throws: JWTError.self) { try JWTKey.hs256(secret: Array(repeating: 1, count: 32), kid: "") }
    #expect(try JWTKey.hs256(secret: Array(repeating: 1, count: 64)).algorithm == .hs256)
    #expect(throws: JWTError.self) { try JWTSigner(algorithm: .edDSA, signingKey: hsKey()) }
    #expect(throws: JWTError.self) { try JWTSigner(algorithm: .hs256, signingKey: hsKey(), verificationKeys: [edKey()]) }
    #expect(throws: JWTError.self) { try JWTSigner(algorithm: .edDSA, signingKey: JWTKey.ed25519(publicKey: edKey().publicKey)) }
    #expect(throws: JWTError.self) { try JWTSigner(algorithm: .hs256, signingKey: hsKey("k1", fill: 1), verificationKeys: [hsKey("k1", fill: 2)]) }
    #expect(throws: JWTError.self) { try JWTSigner(algorithm: .hs256, signingKey: hsKey(), leeway: -1) }
    // Listing the signing key again among the verification keys is fine.
    let ed = try edKey("e1")
    _ = try JWTSigner(algorithm: .edDSA, signingKey: ed, verificationKeys: [JWTKey.ed25519(publicKey: ed.publicKey, kid: "e1")])
}

@Test func errorMessagesNeverContainTheToken() throws {
    let signer = try JWTSigner(algorithm: .hs256, signingKey: hsKey())
    let token = try signer.sign(claims: claims(iat: nowSeconds - 7200, exp: nowSeconds - 3600))
    do {
        _ = try signer.verify(token, now: testNow)
        Issue.record("expired token accepted")
    } catch {
        let message = "\(error)" + String(reflecting: error) + error.localizedDescription
        for part in segments(token) { #expect(!message.contains(part)) }
    }
}
