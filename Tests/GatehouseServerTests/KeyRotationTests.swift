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

            // The expired ring answers while it reloads in the background (`TTLCache`); the new
            // active key signs as soon as the reload lands.
            var after = try #require(json(try await harness.token(client, form))["access_token"] as? String)
            for _ in 0..<200 where kid(after) != next.kid {
                try await Task.sleep(for: .milliseconds(10))
                after = try #require(json(try await harness.token(client, form))["access_token"] as? String)
            }
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
            var pruned = ""
            for _ in 0..<200 where pruned.isEmpty || pruned.contains(active.kid) {
                pruned = String(buffer: try await client.execute(uri: "/contoso/discovery/keys", method: .get).body)
                if pruned.contains(active.kid) { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(!pruned.contains(active.kid) && pruned.contains(next.kid))
        }
    }
}

/// Automatic rotation (`KeyRotator`) and the janitor's lease on three nodes sharing one store.
@Suite struct AutomaticRotationTests {
    final class Clock: @unchecked Sendable {
        // Tests only: set between passes, never concurrently with one.
        var now = Date()
    }

    func kid(_ token: String) -> String? {
        (try? JSONSerialization.jsonObject(with: Base64URL.decode(token.split(separator: ".")[0]) ?? Data()) as? [String: Any])?["kid"]
            as? String
    }

    @Test func oneOfThreeNodesRotatesWhenDueAndRetiredKeysLeaveTheJWKSLater() async throws {
        let clock = Clock()
        let harness = try await Harness.make(time: TimeSource { clock.now })
        let tenant = try TenantName(Harness.tenant)
        let admin = harness.gatehouse.administration
        let rotators = (0..<3).map { KeyRotator(administration: admin, policy: SignInPolicy(), node: "node-\($0)") }
        #expect(try await harness.store.setKeyRotation(7 * 86_400, tenant: tenant))
        let first = try await harness.store.keys(tenant: tenant)
        let active = try #require(first.first { $0.status == .active })
        let next = try #require(first.first { $0.status == .next })

        // Not due yet: the three passes (run at once) change nothing, and only one node holds the lease.
        clock.now = next.createdAt.addingTimeInterval(7 * 86_400 - 60)
        let early = await withTaskGroup(of: [String]?.self) { group in
            for rotator in rotators { group.addTask { await rotator.pass() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(early.compactMap { $0 }.count == 1 && early.compactMap { $0 }.flatMap { $0 }.isEmpty)
        #expect(try await harness.store.keys(tenant: tenant) == first)

        // Due: one rotation among the three nodes, however they race.
        clock.now = next.createdAt.addingTimeInterval(7 * 86_400 + 1)
        let due = await withTaskGroup(of: [String]?.self) { group in
            for rotator in rotators { group.addTask { await rotator.pass() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(due.compactMap { $0 }.flatMap { $0 } == ["rotated contoso: active \(next.kid)"])
        let rotated = try await harness.store.keys(tenant: tenant)
        #expect(rotated.filter { $0.status == .active }.map(\.kid) == [next.kid])
        #expect(rotated.filter { $0.status == .next }.count == 1)
        let retired = try #require(rotated.first { $0.kid == active.kid })
        #expect(retired.status == .retired && retired.retiredAt == clock.now)

        // The new key signs; the retired one stays in the JWKS until its last token has expired.
        let form = [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))]
        try await harness.withClient { client in
            let token = try #require(json(try await harness.token(client, form))["access_token"] as? String)
            #expect(kid(token) == next.kid)
            let holder = try #require(due.firstIndex { $0 != nil })
            let lifetime = KeyRotationPolicy.longestTokenLifetime(
                tenant: try #require(try await harness.store.tenant(named: tenant)), policy: SignInPolicy())
            let retiredAt = try #require(retired.retiredAt)
            clock.now = retiredAt.addingTimeInterval(lifetime + KeyRotationPolicy.clockSkew - 1)
            #expect(await rotators[holder].pass() == [])
            clock.now = retiredAt.addingTimeInterval(lifetime + KeyRotationPolicy.clockSkew)
            #expect(await rotators[holder].pass() == ["removed contoso: \(active.kid)"])
            let jwks = String(buffer: try await client.execute(uri: "/contoso/discovery/keys", method: .get).body)
            #expect(!jwks.contains(active.kid) && jwks.contains(next.kid))
        }
        // The lease moves to another node when its holder stops renewing it (three intervals).
        let holder = try #require(due.firstIndex { $0 != nil })
        let other = rotators[(holder + 1) % 3]
        #expect(await other.pass() == nil)
        clock.now = clock.now.addingTimeInterval(181)
        #expect(await other.pass() != nil)
    }

    @Test func oneJanitorSweepsAtATime() async throws {
        let clock = Clock()
        let harness = try await Harness.make(time: TimeSource { clock.now })
        for index in 0..<3 {
            #expect(try await harness.store.consumeOnce(key: "jti-\(index)", expiresAt: clock.now, now: clock.now))
        }
        clock.now = clock.now.addingTimeInterval(10)
        let sweepers = (0..<3).map { Sweeper(store: harness.store, time: TimeSource { clock.now }, batchSize: 2, node: "node-\($0)") }
        let passes = await withTaskGroup(of: Sweeper.Swept?.self) { group in
            for sweeper in sweepers { group.addTask { await sweeper.sweep() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let swept = passes.compactMap { $0 }
        #expect(swept.count == 1 && swept.first?.oneTimeValues == 3)
    }
}
