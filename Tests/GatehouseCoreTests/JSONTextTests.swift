import Foundation
import GatehouseCore
import JWTKit
import Testing

/// The hand-written token response says what Foundation's encoder says.
@Suite struct JSONTextTests {
    static func object(_ bytes: [UInt8]) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary)
    }

    @Test(arguments: [
        TokenResponse(accessToken: "eyJ.a.b", expiresIn: 3600, scope: "api.read"),
        TokenResponse(accessToken: "a/b", expiresIn: 1, scope: nil, refreshToken: "r-\u{1}\"\\", idToken: "i.d.t"),
        TokenResponse(accessToken: "eyJ.a.b", tokenType: "DPoP", expiresIn: 60, scope: "openid", refreshToken: "r"),
    ])
    func tokenResponseMatchesTheEncoder(_ response: TokenResponse) throws {
        var decorated = response
        decorated.extExpiresIn = 7200
        decorated.clientInfo = "eyJ1aWQiOiJ4In0\u{2028}é"
        for candidate in [response, decorated] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            let expected = try Self.object(Array(try encoder.encode(candidate)))
            #expect(try Self.object(candidate.json()) == expected)
        }
        #expect(String(decoding: response.json(), as: UTF8.self).hasPrefix(#"{"token_type":""# + response.tokenType + #"","#))
    }

    @Test func stringsEscapeEveryControlCharacter() throws {
        for scalar in (0..<0x20).map({ Unicode.Scalar(UInt8($0)) }) + ["\u{7f}", "\u{85}", "\u{2028}", "\u{2029}"] {
            var out: [UInt8] = []
            JSONText.appendString("a\(scalar)b", to: &out)
            #expect(!String(decoding: out, as: UTF8.self).unicodeScalars.contains(scalar))
            let decoded = try JSONSerialization.jsonObject(with: Data(out), options: [.fragmentsAllowed]) as? String
            #expect(decoded == "a\(scalar)b")
        }
    }
}

/// The access token payload and header written by hand say what jwt-kit's encoder says.
@Suite struct TokenJSONTests {
    @Test func accessTokenClaimsMatchTheEncoder() throws {
        var additional = AdditionalClaims()
        additional["tid"] = .string("7d2b\u{1}\"")
        additional["ver"] = .int(2)
        additional["roles"] = .strings(["a", "b/c"])
        let cases = [
            AccessTokenClaims(
                iss: "https://login.test/contoso", sub: "svc", aud: ["https://api.example.com"], exp: 1_800_003_600,
                iat: 1_800_000_000, jti: "abc", clientID: "svc", scope: "api.read"),
            AccessTokenClaims(
                iss: "https://login.test/contoso/v2.0", sub: "u-1", aud: ["a", "b"], exp: 2, iat: 1, jti: "j", clientID: "web",
                scope: nil, authTime: 1, grantID: "g-1", additional: additional),
            AccessTokenClaims(
                iss: "https://login.test/contoso", sub: "svc", aud: ["api"], exp: 2, iat: 1, jti: "j", clientID: "svc", scope: "s",
                additional: additional, confirmation: .dpop(jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")),
        ]
        for claims in cases {
            let expected = try JSONTextTests.object(Array(try JSONEncoder().encode(claims)))
            let written = try JSONTextTests.object(claims.jsonText())
            #expect(written == expected)
            #expect(try TokenJSONEncoder().encode(claims) == Data(claims.jsonText()))
            // What is written reads back as the same claims, `cnf` included.
            let decoded = try JSONDecoder().decode(AccessTokenClaims.self, from: Data(claims.jsonText()))
            #expect(decoded.confirmation == claims.confirmation && decoded.jti == claims.jti)
            #expect(try JSONTextTests.object(decoded.jsonText()) == written)
        }
        let bound = try JSONTextTests.object(cases[2].jsonText())
        #expect((bound["cnf"] as? NSDictionary) == ["jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"])
        // A dialect claim that repeats a standard one is left out: a key appears once.
        additional["iss"] = .string("must not repeat")
        let repeating = AccessTokenClaims(
            iss: "https://login.test/x", sub: "s", aud: ["a"], exp: 2, iat: 1, jti: "j", clientID: "c", scope: nil, additional: additional)
        let text = String(decoding: repeating.jsonText(), as: UTF8.self)
        #expect(text.components(separatedBy: "\"iss\"").count == 2 && !text.contains("must not repeat"))
    }

    @Test func headersOfStringsAndIntegersAreWrittenOthersFallBack() throws {
        let header = JWTHeader(fields: ["alg": .string("ES256"), "kid": .string("k-1"), "typ": .string("at+jwt"), "n": .int(3)])
        let written = try JSONTextTests.object(Array(try TokenJSONEncoder().encode(header)))
        let expected = try JSONTextTests.object(Array(try JSONEncoder().encode(header)))
        #expect(written == expected)
        let nested = JWTHeader(fields: ["alg": .string("ES256"), "crit": .array([.string("x")])])
        #expect(
            try JSONTextTests.object(Array(try TokenJSONEncoder().encode(nested)))
                == JSONTextTests.object(Array(try JSONEncoder().encode(nested))))
    }
}
