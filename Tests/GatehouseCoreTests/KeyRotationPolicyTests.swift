import Foundation
import Testing

@testable import GatehouseCore

/// When keys rotate on their own and when retired keys leave the JWKS.
struct KeyRotationPolicyTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func tenant(every interval: TimeInterval?) throws -> Tenant {
        Tenant(
            name: try TenantName("contoso"), displayName: "C", accessTokenLifetime: 3_600, createdAt: start, keyRotationInterval: interval)
    }

    func key(_ kid: String, _ status: KeyStatus, created: Date, retired: Date? = nil) throws -> SigningKeyRecord {
        SigningKeyRecord(
            tenant: try TenantName("contoso"), kid: kid, algorithm: .es256, privateKey: "-", status: status, createdAt: created,
            retiredAt: retired)
    }

    @Test func withoutAPolicyNothingRotates() throws {
        let keys = [try key("a", .active, created: start), try key("n", .next, created: start)]
        let plan = KeyRotationPolicy.plan(
            tenant: try tenant(every: nil), keys: keys, now: start.addingTimeInterval(400 * 86_400), longestTokenLifetime: 3_600)
        #expect(plan.promote == nil && plan.remove.isEmpty)
    }

    @Test func theNextKeyIsPromotedOnceItHasBeenPublishedForTheInterval() throws {
        let keys = [try key("a", .active, created: start), try key("n", .next, created: start)]
        let policy = try tenant(every: 7 * 86_400)
        #expect(
            KeyRotationPolicy.plan(tenant: policy, keys: keys, now: start.addingTimeInterval(7 * 86_400 - 1), longestTokenLifetime: 3_600)
                .promote == nil)
        #expect(
            KeyRotationPolicy.plan(tenant: policy, keys: keys, now: start.addingTimeInterval(7 * 86_400), longestTokenLifetime: 3_600)
                .promote == "n")
    }

    /// However short the interval, a next key signs only after it has been in the JWKS for the
    /// longest max-age the server sends (a day), so no relying party's cached JWKS lacks it.
    @Test func aShortIntervalStillWaitsForThePrePublicationWindow() throws {
        let keys = [try key("a", .active, created: start), try key("n", .next, created: start)]
        let policy = try tenant(every: 3_600)
        #expect(KeyRotationPolicy.longestJWKSMaxAge == 86_400)
        #expect(
            KeyRotationPolicy.plan(tenant: policy, keys: keys, now: start.addingTimeInterval(2 * 3_600), longestTokenLifetime: 3_600)
                .promote == nil)
        #expect(
            KeyRotationPolicy.plan(tenant: policy, keys: keys, now: start.addingTimeInterval(86_399), longestTokenLifetime: 3_600).promote
                == nil)
        #expect(
            KeyRotationPolicy.plan(tenant: policy, keys: keys, now: start.addingTimeInterval(86_400), longestTokenLifetime: 3_600).promote
                == "n")
    }

    /// A retired key stays published until the last token it signed has expired (plus skew);
    /// a retired key without a recorded retirement time is left for `keys remove`.
    @Test func retiredKeysLeaveAfterTheLongestTokenLifetime() throws {
        let retired = start.addingTimeInterval(86_400)
        let keys = [
            try key("old", .retired, created: start, retired: retired), try key("legacy", .retired, created: start),
            try key("a", .active, created: start), try key("n", .next, created: retired),
        ]
        let policy = try tenant(every: nil)
        let lifetime: TimeInterval = 3_600
        let edge = retired.addingTimeInterval(lifetime + KeyRotationPolicy.clockSkew)
        #expect(
            KeyRotationPolicy.plan(tenant: policy, keys: keys, now: edge.addingTimeInterval(-1), longestTokenLifetime: lifetime).remove
                .isEmpty)
        #expect(KeyRotationPolicy.plan(tenant: policy, keys: keys, now: edge, longestTokenLifetime: lifetime).remove == ["old"])
    }

    @Test func theLongestTokenLifetimeIsTheLongerOfAccessAndIDTokens() throws {
        var signIn = SignInPolicy()
        signIn.idTokenLifetime = 7_200
        #expect(KeyRotationPolicy.longestTokenLifetime(tenant: try tenant(every: nil), policy: signIn) == 7_200)
        signIn.idTokenLifetime = 600
        #expect(KeyRotationPolicy.longestTokenLifetime(tenant: try tenant(every: nil), policy: signIn) == 3_600)
    }
}
