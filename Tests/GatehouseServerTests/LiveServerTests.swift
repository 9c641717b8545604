import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import NIOCore
import Testing

/// Over a real socket: the server listens on 127.0.0.1, the token and the JWKS travel over TCP,
/// and the token is verified with nothing but the fetched JWKS.
@Suite struct LiveServerTests {
    @Test func tokenVerifiesAgainstJWKSFetchedFromTheRunningServer() async throws {
        let harness = try await Harness.make()
        var logger = Logger(label: "live")
        logger.logLevel = .critical
        let app = Application(
            router: try harness.gatehouse.buildRouter(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            services: [harness.gatehouse.signIns], logger: logger)
        try await app.test(.live) { client in
            #expect(client.port != nil)
            let response = try await harness.token(
                client,
                [
                    ("grant_type", "client_credentials"), ("scope", "api.write"), ("client_id", "svc"),
                    ("client_secret", harness.secret("svc")),
                ])
            #expect(response.status == .ok)
            let token = try #require(json(response)["access_token"] as? String)
            let metadata = json(try await client.execute(uri: "/contoso/.well-known/openid-configuration", method: .get))
            let jwksPath = try #require((metadata["jwks_uri"] as? String).flatMap { URL(string: $0)?.path })
            let jwks = try await client.execute(uri: jwksPath, method: .get)
            let keys = JWTKeyCollection()
            try await keys.add(jwksJSON: String(buffer: jwks.body))
            let claims = try await keys.verify(token, as: AccessTokenClaims.self)
            #expect(claims.scope == "api.write" && claims.clientID == "svc" && claims.iss == metadata["issuer"] as? String)
            // A token altered after signing fails verification.
            var parts = token.split(separator: ".").map(String.init)
            parts[1] = Base64URL.encode(Data(#"{"sub":"admin"}"#.utf8))
            await #expect(throws: (any Error).self) { try await keys.verify(parts.joined(separator: "."), as: AccessTokenClaims.self) }
        }
    }
}
