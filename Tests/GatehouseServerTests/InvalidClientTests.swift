import Foundation
import GatehouseCore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// `invalid_client` (RFC 6749 §5.2): 401, with `WWW-Authenticate` only when the client used the
/// Authorization header.
@Suite struct InvalidClientTests {
    let cc = ("grant_type", "client_credentials")

    @Test func noAuthenticationAtAll() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            expectError(try await harness.token(client, [cc]), status: 401, error: "invalid_client", code: 9900110)
        }
    }

    @Test func unknownClient() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let viaHeader = try await harness.token(client, [cc], headers: [.authorization: basic("ghost", "x")])
            expectError(viaHeader, status: 401, error: "invalid_client", code: 700016, wwwAuthenticate: true)
            let viaBody = try await harness.token(client, [cc, ("client_id", "ghost"), ("client_secret", "x")])
            expectError(viaBody, status: 401, error: "invalid_client", code: 700016)
        }
    }

    @Test func wrongSecret() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let viaHeader = try await harness.token(client, [cc], headers: [.authorization: basic("svc", "wrong")])
            expectError(viaHeader, status: 401, error: "invalid_client", code: 7000215, wwwAuthenticate: true)
            let viaBody = try await harness.token(client, [cc, ("client_id", "svc"), ("client_secret", harness.secret("svc") + "x")])
            expectError(viaBody, status: 401, error: "invalid_client", code: 7000215)
            // Another client's secret does not authenticate this one.
            let crossed = try await harness.token(client, [cc, ("client_id", "svc"), ("client_secret", harness.secret("post-only"))])
            expectError(crossed, status: 401, error: "invalid_client", code: 7000215)
        }
    }

    @Test func expiredSecret() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(client, [cc, ("client_id", "expired"), ("client_secret", harness.secret("expired"))])
            expectError(response, status: 401, error: "invalid_client", code: 7000222)
        }
    }

    @Test func confidentialClientWithoutCredentials() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(client, [cc, ("client_id", "svc")])
            expectError(response, status: 401, error: "invalid_client", code: 7000216)
            let otherGrant = try await harness.token(client, [("grant_type", "password"), ("client_id", "svc")])
            expectError(otherGrant, status: 401, error: "invalid_client", code: 7000218)
        }
    }

    @Test func publicClientWithCredential() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(client, [cc, ("client_id", "spa"), ("client_secret", "anything")])
            expectError(response, status: 401, error: "invalid_client", code: 700025)
        }
    }

    @Test func methodNotAllowedForClient() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let basicToPostOnly = try await harness.token(
                client, [cc], headers: [.authorization: basic("post-only", harness.secret("post-only"))])
            expectError(basicToPostOnly, status: 401, error: "invalid_client", code: 9900111, wwwAuthenticate: true)
            let secretToJWTClient = try await harness.token(client, [cc, ("client_id", "jwt-client"), ("client_secret", "x")])
            expectError(secretToJWTClient, status: 401, error: "invalid_client", code: 9900111)
            let assertion = try await harness.assertion(iss: "svc", sub: "svc")
            let assertionToSecretClient = try await harness.token(
                client, [cc, ("client_assertion_type", PresentedClientCredentials.jwtBearerAssertionType), ("client_assertion", assertion)])
            expectError(assertionToSecretClient, status: 401, error: "invalid_client", code: 9900111)
        }
    }

    @Test func malformedAuthorizationHeader() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            for header in ["Basic !!!notbase64", "Basic " + Data("no-colon".utf8).base64EncodedString(), "Bearer abc", "Basic"] {
                let response = try await harness.token(client, [cc], headers: [.authorization: header])
                expectError(response, status: 401, error: "invalid_client", code: 9900110, wwwAuthenticate: true)
            }
        }
    }

    // MARK: private_key_jwt (RFC 7523)

    func assertionRequest(_ assertion: String, type: String = PresentedClientCredentials.jwtBearerAssertionType) -> [(String, String)] {
        [cc, ("client_assertion_type", type), ("client_assertion", assertion)]
    }

    @Test func unsupportedAssertionType() async throws {
        let harness = try await Harness.make()
        let assertion = try await harness.assertion()
        try await harness.withClient { client in
            let response = try await harness.token(
                client, assertionRequest(assertion, type: "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"))
            expectError(response, status: 401, error: "invalid_client", code: 9900116)
        }
    }

    @Test(arguments: ["not-a-jwt", "a.b", "!!!.???.***", "e30.e30.sig"])
    func malformedAssertion(assertion: String) async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(client, assertionRequest(assertion))
            #expect(response.status.code == 401)
            let code = (json(response)["error_codes"] as? [Int])?.first
            // "e30" is `{}`: a header without alg fails signature validation, the others fail parsing.
            #expect(code == 50027 || code == 700027)
            #expect(json(response)["error"] as? String == "invalid_client")
        }
    }

    @Test func assertionSignedByAnotherKey() async throws {
        let harness = try await Harness.make()
        let forged = try await harness.assertion(key: harness.strangerKey)
        try await harness.withClient { client in
            expectError(try await harness.token(client, assertionRequest(forged)), status: 401, error: "invalid_client", code: 700027)
        }
    }

    @Test func assertionWithNoneAlgorithm() async throws {
        let harness = try await Harness.make()
        let header = Base64URL.encode(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let now = Int(Date().timeIntervalSince1970)
        let payload = Base64URL.encode(
            Data(#"{"iss":"jwt-client","sub":"jwt-client","aud":"\#(Harness.tokenEndpoint)","exp":\#(now + 60),"jti":"x"}"#.utf8))
        try await harness.withClient { client in
            expectError(
                try await harness.token(client, assertionRequest("\(header).\(payload)."), ), status: 401, error: "invalid_client",
                code: 700027)
        }
    }

    @Test func expiredOrFutureAssertion() async throws {
        let harness = try await Harness.make()
        let now = Date().timeIntervalSince1970
        let expired = try await harness.assertion(exp: now - 600)
        let tooLong = try await harness.assertion(exp: now + 86400)
        let future = try await harness.assertion(iat: now + 3600)
        try await harness.withClient { client in
            for assertion in [expired, tooLong, future] {
                expectError(
                    try await harness.token(client, assertionRequest(assertion)), status: 401, error: "invalid_client", code: 700024)
            }
        }
    }

    @Test func assertionForAnotherAudience() async throws {
        let harness = try await Harness.make()
        let assertion = try await harness.assertion(aud: "https://elsewhere.example/token")
        try await harness.withClient { client in
            expectError(try await harness.token(client, assertionRequest(assertion)), status: 401, error: "invalid_client", code: 9900114)
        }
    }

    @Test func assertionIssuerSubjectMismatch() async throws {
        let harness = try await Harness.make()
        let assertion = try await harness.assertion(iss: "someone-else")
        try await harness.withClient { client in
            expectError(try await harness.token(client, assertionRequest(assertion)), status: 401, error: "invalid_client", code: 9900115)
        }
    }

    @Test func assertionMissingJTI() async throws {
        let harness = try await Harness.make()
        let assertion = try await harness.assertion(jti: nil)
        try await harness.withClient { client in
            expectError(try await harness.token(client, assertionRequest(assertion)), status: 401, error: "invalid_client", code: 9900119)
        }
    }

    @Test func assertionIsSingleUse() async throws {
        let harness = try await Harness.make()
        let assertion = try await harness.assertion()
        try await harness.withClient { client in
            let first = try await harness.token(client, assertionRequest(assertion))
            #expect(first.status == .ok)
            expectError(try await harness.token(client, assertionRequest(assertion)), status: 401, error: "invalid_client", code: 9900117)
        }
    }

    @Test func assertionWithFloatTimesAndIssuerAudienceIsAccepted() async throws {
        let harness = try await Harness.make()
        let now = Date().timeIntervalSince1970
        let assertion = try await harness.assertion(aud: "\(Harness.baseURL)/\(Harness.tenant)", exp: now + 90.75, iat: now - 0.5)
        try await harness.withClient { client in
            let response = try await harness.token(client, assertionRequest(assertion) + [("client_id", "jwt-client")])
            #expect(response.status == .ok)
            #expect(json(response)["token_type"] as? String == "Bearer")
        }
    }
}
