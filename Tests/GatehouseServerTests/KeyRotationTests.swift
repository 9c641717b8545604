import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import HummingbirdTesting
import JWTKit
import NIOCore
import Testing

@Suite struct KeyRotationTests {
    final class ManualClock: @unchecked Sendable {
        // Tests only: mutated from the test task between requests, never concurrently.
        var now = Date()
    }

    func kid(_ token: String) -> String? {
        (try? JSONSerialization.jsonObject(with: Base64URL.decode(token.split(separator: ".")[0]) ?? Data()) as? [String: Any])?["kid"]
            as? String
    }

    @Test func rotationSwitchesTheSigningKeyAndKeepsOldTokensVerifiable() async throws {
        let clock = ManualClock()
        let harness = try await Harness.make(time: TimeSource { clock.now })
        let tenant = try TenantName(Harness.tenant)
        let form = [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))]
        try await harness.withClient { client in
            let before = try #require(json(try await harness.token(client, form))["access_token"] as? String)
            let keysBefore = try await harness.store.keys(tenant: tenant)
            let active = try #require(keysBefore.first { $0.status == .active })
            let next = try #require(keysBefore.first { $0.status == .next })
            #expect(kid(before) == active.kid)

            let rotation = try await harness.gatehouse.administration.rotateKeys(tenant: tenant)
            #expect(rotation.activated == next.kid && rotation.retired == active.kid)
            clock.now = clock.now.addingTimeInterval(31)  // past the key ring cache

            let after = try #require(json(try await harness.token(client, form))["access_token"] as? String)
            #expect(kid(after) == next.kid)
            let jwks = String(buffer: try await client.execute(uri: "/contoso/discovery/keys", method: .get).body)
            let keys = JWTKeyCollection()
            try await keys.add(jwksJSON: jwks)
            // Retired, active and the new next key are all published; both tokens verify.
            #expect((try JSONSerialization.jsonObject(with: Data(jwks.utf8)) as? [String: Any])?["keys"].map { ($0 as? [Any])?.count } == 3)
            _ = try await keys.verify(before, as: AccessTokenClaims.self)
            _ = try await keys.verify(after, as: AccessTokenClaims.self)

            await #expect(throws: Administration.AdministrationError.self) {
                try await harness.gatehouse.administration.removeRetiredKey(tenant: tenant, kid: next.kid)
            }
            try await harness.gatehouse.administration.removeRetiredKey(tenant: tenant, kid: active.kid)
            clock.now = clock.now.addingTimeInterval(31)
            let pruned = String(buffer: try await client.execute(uri: "/contoso/discovery/keys", method: .get).body)
            #expect(!pruned.contains(active.kid) && pruned.contains(next.kid))
        }
    }
}
