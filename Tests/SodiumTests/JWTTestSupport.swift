import Foundation

@testable import Sodium

/// A fixed clock for the JWT tests.
let testNow = Date(timeIntervalSince1970: 1_700_000_000)
let nowSeconds = 1_700_000_000

func hsKey(_ kid: String? = "k1", fill: UInt8 = 7) throws -> JWTKey {
    try JWTKey.hs256(secret: [UInt8](repeating: fill, count: 32), kid: kid)
}

func edKey(_ kid: String? = "e1") throws -> JWTKey {
    try JWTKey.ed25519(privateKey: JWTKeyGenerator.ed25519().secretKey, kid: kid)
}

func claims(iat: Int = nowSeconds, exp: Int = nowSeconds + 900) -> JWTClaims {
    JWTClaims(sub: "42", sid: "sess-1", iat: iat, exp: exp, jti: "jti-1")
}

/// A token with any header and payload JSON, signed by `key` as the header says nothing: lets the
/// tests build what an attacker could build with that key.
func forge(header: String, payload: String, key: JWTKey) -> String {
    let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
    return input + "." + Base64URL.encode(key.signature(for: Array(input.utf8)))
}

let validPayload = #"{"sub":"42","sid":"sess-1","iat":1700000000,"exp":1700000900,"jti":"jti-1"}"#

func segments(_ token: String) -> [String] {
    token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
}
