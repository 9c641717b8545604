import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import HummingbirdTesting
import JWTKit
import NIOCore
import Testing

/// Successful client_credentials requests: response shape, headers and the access token, checked
/// against the JWKS the server publishes.
@Suite struct TokenIssuanceTests {
    /// Verifies a token with a key collection built only from the published JWKS document.
    func verify(_ token: String, jwks: String) async throws -> AccessTokenClaims {
        let keys = JWTKeyCollection()
        try await keys.add(jwksJSON: jwks)
        return try await keys.verify(token, as: AccessTokenClaims.self)
    }

    func header(_ token: String) throws -> [String: Any] {
        let part = token.split(separator: ".")[0]
        return try JSONSerialization.jsonObject(with: Base64URL.decode(part) ?? Data()) as? [String: Any] ?? [:]
    }

    @Test(arguments: [SigningAlgorithm.es256, .rs256, .eddsa])
    func issuesVerifiableJWTAccessToken(algorithm: SigningAlgorithm) async throws {
        let harness = try await Harness.make(algorithm: algorithm)
        try await harness.withClient { client in
            let before = Int(Date().timeIntervalSince1970)
            let response = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))])
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.headers[.init("Pragma")!] == "no-cache")
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            #expect(response.headers[.init("X-Trace-Id")!]?.count == 36)
            let body = json(response)
            #expect(body["token_type"] as? String == "Bearer")
            #expect(body["expires_in"] as? Int == 3600)
            #expect(body["scope"] as? String == "api.read")
            #expect(body["refresh_token"] == nil)
            let token = try #require(body["access_token"] as? String)

            let jwks = try await client.execute(uri: "/contoso/discovery/keys", method: .get)
            #expect(jwks.status == .ok)
            let claims = try await verify(token, jwks: String(buffer: jwks.body))
            #expect(claims.iss == "\(Harness.baseURL)/contoso")
            #expect(claims.sub == "svc")
            #expect(claims.clientID == "svc")
            #expect(claims.aud == ["https://api.example.com"])
            #expect(claims.scope == "api.read")
            #expect(claims.exp - claims.iat == 3600)
            // Issued now (the bound is loose: a loaded two-core machine may take seconds between the two clocks).
            #expect(abs(claims.iat - before) <= 30)
            #expect(claims.jti.count >= 16)
            let jose = try header(token)
            #expect(jose["typ"] as? String == "at+jwt")
            #expect(jose["alg"] as? String == algorithm.rawValue)
            #expect(jose["kid"] is String)
        }
    }

    @Test func basicAuthenticationFormDecodesIDAndSecret() async throws {
        // RFC 6749 §2.3.1: the client ID "my app:1" travels form-encoded ("my+app%3A1") inside Basic.
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let header = basic("my app:1", harness.secret("my app:1"))
            #expect(String(decoding: Data(base64Encoded: String(header.dropFirst(6))) ?? Data(), as: UTF8.self).hasPrefix("my+app%3A1:"))
            let response = try await harness.token(
                client, [("grant_type", "client_credentials"), ("scope", "api.write")], headers: [.authorization: header])
            #expect(response.status == .ok)
            #expect(json(response)["scope"] as? String == "api.write")
        }
    }

    @Test func resourcesSelectTheAudience() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let jwks = String(buffer: try await client.execute(uri: "/contoso/discovery/keys", method: .get).body)
            let one = try await harness.token(
                client,
                [
                    ("grant_type", "client_credentials"), ("resource", "urn:example:other"), ("client_id", "svc"),
                    ("client_secret", harness.secret("svc")),
                ])
            let oneClaims = try await verify(try #require(json(one)["access_token"] as? String), jwks: jwks)
            #expect(oneClaims.aud == ["urn:example:other"])
            let two = try await harness.token(
                client,
                [
                    ("grant_type", "client_credentials"), ("resource", "urn:example:other"), ("resource", "https://api.example.com"),
                    ("scope", "api.read api.write"), ("client_id", "svc"), ("client_secret", harness.secret("svc")),
                ])
            let twoClaims = try await verify(try #require(json(two)["access_token"] as? String), jwks: jwks)
            #expect(twoClaims.aud == ["urn:example:other", "https://api.example.com"])
            #expect(twoClaims.scope == "api.read api.write")
        }
    }

    @Test func secretRotationKeepsBothSecretsWorking() async throws {
        let harness = try await Harness.make()
        let second = try await harness.gatehouse.administration.addSecret(
            tenant: try TenantName("contoso"), clientID: try ClientID("svc"), lifetime: 3600)
        try await harness.withClient { client in
            for secret in [harness.secret("svc"), second.value] {
                let response = try await harness.token(
                    client, [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", secret)])
                #expect(response.status == .ok)
            }
            #expect(
                try await harness.store.removeSecret(
                    tenant: try TenantName("contoso"), clientID: try ClientID("svc"), secretID: second.record.secretID))
            let removed = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", second.value)])
            expectError(removed, status: 401, error: "invalid_client", code: 7000215)
        }
    }

    @Test func storesOnlyHashesOfSecrets() async throws {
        let harness = try await Harness.make()
        let records = try await harness.store.secrets(tenant: try TenantName("contoso"), clientID: try ClientID("svc"))
        #expect(records.count == 1)
        #expect(records[0].hash != harness.secret("svc"))
        #expect(!records[0].hash.contains(harness.secret("svc")))
        #expect(records[0].hash.count == 64)
        #expect(harness.secret("svc").count == 43)  // 256 bits, base64url
    }

    @Test func correlationIDFollowsClientRequestID() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let id = "aaaa0000-bb11-2222-33cc-444444dddddd"
            let failure = try await harness.token(
                client, [("grant_type", "client_credentials")], headers: [.init("client-request-id")!: id])
            #expect(json(failure)["correlation_id"] as? String == id)
            #expect(failure.headers[.init("client-request-id")!] == id)
            let success = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))],
                headers: [.init("client-request-id")!: id])
            #expect(success.headers[.init("client-request-id")!] == id)
            #expect(success.headers[.init("X-Trace-Id")!] != nil)
            // Unusable values are replaced by a new GUID.
            let odd = try await harness.token(
                client, [("grant_type", "client_credentials")], headers: [.init("client-request-id")!: "has \"quotes\""])
            #expect((json(odd)["correlation_id"] as? String)?.count == 36)
        }
    }
}
