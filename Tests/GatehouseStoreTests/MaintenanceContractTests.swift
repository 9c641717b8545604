import Foundation
import GatehouseCore
import GatehouseStore
import Testing

/// What the janitor and the key rotator need from every backend: leases that one holder at a
/// time gets, the rotation policy and retirement time kept with tenants and keys, and purges that
/// delete at most their limit and nothing live.
@Suite struct MaintenanceContractTests {
    @Test(arguments: Backend.allCases)
    func aLeaseHasOneHolderUntilItExpires(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let until = epoch.addingTimeInterval(180)
            #expect(try await store.acquireLease("janitor", holder: "a", until: until, now: epoch))
            #expect(try await store.acquireLease("janitor", holder: "b", until: until, now: epoch.addingTimeInterval(10)) == false)
            // The holder renews; another lease name is independent.
            #expect(
                try await store.acquireLease("janitor", holder: "a", until: until.addingTimeInterval(60), now: epoch.addingTimeInterval(60))
            )
            #expect(try await store.acquireLease("key-rotation", holder: "b", until: until, now: epoch))
            // Still held at its (renewed) expiry minus a second; taken over after it.
            #expect(try await store.acquireLease("janitor", holder: "b", until: until, now: until.addingTimeInterval(59)) == false)
            #expect(
                try await store.acquireLease(
                    "janitor", holder: "b", until: until.addingTimeInterval(300), now: until.addingTimeInterval(61)))
            #expect(
                try await store.acquireLease(
                    "janitor", holder: "a", until: until.addingTimeInterval(300), now: until.addingTimeInterval(62)) == false)
        }
    }

    /// Second probe, finding 8: attempt counts were never deleted. Those whose last attempt is
    /// before the cutoff go, at most `limit` at a time; a count still in its window stays.
    @Test(arguments: Backend.allCases)
    func attemptCountsPastTheirWindowArePurged(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            for index in 0..<5 {
                _ = try await store.countSignInAttempt(
                    key: "old \(index)", limit: 5, now: epoch, resetBefore: epoch.addingTimeInterval(-900))
            }
            let recent = epoch.addingTimeInterval(1_000)
            _ = try await store.countSignInAttempt(key: "recent", limit: 5, now: recent, resetBefore: recent.addingTimeInterval(-900))
            #expect(try await store.purgeSignInFailures(before: epoch.addingTimeInterval(100), limit: 3) == 3)
            #expect(try await store.purgeSignInFailures(before: epoch.addingTimeInterval(100), limit: 3) == 2)
            #expect(try await store.purgeSignInFailures(before: epoch.addingTimeInterval(100), limit: 3) == 0)
            #expect(try await store.signInFailures(key: "recent", since: .distantPast) == 1)
            #expect(try await store.signInFailures(key: "old 0", since: .distantPast) == 0)
        }
    }

    /// 30 nodes asking at once for a free lease: exactly one gets it.
    @Test(arguments: Backend.allCases)
    func aBurstOfNodesGetsOneHolder(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for node in 0..<30 {
                    group.addTask {
                        try await store.acquireLease("janitor", holder: "node-\(node)", until: epoch.addingTimeInterval(180), now: epoch)
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func rotationPolicyAndRetirementTimeAreKept(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            #expect(try await store.tenant(named: tenant.name)?.keyRotationInterval == nil)
            #expect(try await store.setKeyRotation(30 * 86_400, tenant: tenant.name))
            #expect(try await store.tenant(named: tenant.name)?.keyRotationInterval == 30 * 86_400)
            #expect(try await store.setKeyRotation(nil, tenant: tenant.name))
            #expect(try await store.tenant(named: tenant.name)?.keyRotationInterval == nil)
            #expect(try await store.setKeyRotation(86_400, tenant: try TenantName("nobody")) == false)
            #expect(try await store.setTokenSettings(tenant: tenant.name, algorithm: .rs256, accessTokenLifetime: nil))
            #expect(try await store.setTokenSettings(tenant: tenant.name, algorithm: nil, accessTokenLifetime: 900))
            let changed = try await store.tenant(named: tenant.name)
            #expect(changed?.signingAlgorithm == .rs256 && changed?.accessTokenLifetime == 900)
            #expect(try await store.setTokenSettings(tenant: try TenantName("nobody"), algorithm: .es256, accessTokenLifetime: 60) == false)

            try await store.addKey(
                try SigningKeyMaterial.generate(tenant: tenant.name, algorithm: .es256, kid: "a", status: .active, now: epoch))
            try await store.addKey(
                try SigningKeyMaterial.generate(tenant: tenant.name, algorithm: .es256, kid: "n", status: .next, now: epoch))
            let rotatedAt = epoch.addingTimeInterval(3_600)
            let fresh = try SigningKeyMaterial.generate(tenant: tenant.name, algorithm: .es256, kid: "n2", status: .next, now: rotatedAt)
            #expect(try await store.rotateKeys(tenant: tenant.name, promote: "n", newNext: fresh))
            let keys = Dictionary(uniqueKeysWithValues: try await store.keys(tenant: tenant.name).map { ($0.kid, $0) })
            #expect(keys["a"]?.status == .retired && keys["a"]?.retiredAt == rotatedAt)
            #expect(keys["n"]?.status == .active && keys["n"]?.retiredAt == nil)
            #expect(keys["n2"]?.status == .next && keys["n2"]?.retiredAt == nil)
        }
    }

    /// Every purge deletes at most its limit per call and never a live row.
    @Test(arguments: Backend.allCases)
    func purgesAreBoundedAndSpareLiveRows(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            try await store.createTenant(try sampleTenant())
            let now = epoch.addingTimeInterval(1_000)
            for index in 0..<7 {
                #expect(try await store.consumeOnce(key: "old-\(index)", expiresAt: epoch, now: epoch))
                try await store.putState(kind: "k", key: "old-\(index)", value: "v", expiresAt: epoch)
            }
            #expect(try await store.consumeOnce(key: "live", expiresAt: now.addingTimeInterval(60), now: epoch))
            try await store.putState(kind: "k", key: "live", value: "v", expiresAt: now.addingTimeInterval(60))
            #expect(try await store.purgeExpired(now: now, limit: 3) == 3)
            #expect(try await store.purgeExpired(now: now, limit: 3) == 3)
            #expect(try await store.purgeExpired(now: now, limit: 3) == 1)
            #expect(try await store.purgeExpired(now: now, limit: 3) == 0)
            #expect(try await store.consumeOnce(key: "live", expiresAt: now.addingTimeInterval(60), now: now) == false)
            #expect(try await store.purgeState(now: now, limit: 5) == 5)
            #expect(try await store.purgeState(now: now, limit: 5) == 2)
            #expect(try await store.state(kind: "k", key: "live", now: now) == "v")

            // Grants: five whose code expired unredeemed, one live; refresh tokens go with theirs.
            for index in 0..<5 {
                try await store.createGrant(Self.grant("dead-\(index)", code: "c\(index)", now: epoch))
                #expect(try await store.addRefreshToken(hash: "r\(index)", grantID: "dead-\(index)", generation: 0, now: epoch))
            }
            try await store.createGrant(Self.grant("live", code: "cl", now: now))
            #expect(try await store.purgeGrants(now: now, endedBefore: epoch, limit: 2) == 2)
            #expect(try await store.purgeGrants(now: now, endedBefore: epoch, limit: 2) == 2)
            #expect(try await store.purgeGrants(now: now, endedBefore: epoch, limit: 2) == 1)
            #expect(try await store.purgeGrants(now: now, endedBefore: epoch, limit: 2) == 0)
            #expect(try await store.grant(id: "live") != nil)
            for index in 0..<5 { #expect(try await store.refreshToken(hash: "r\(index)") == nil) }
        }
    }

    static func grant(_ id: String, code: String, now: Date) throws -> AuthorizationGrant {
        AuthorizationGrant(
            id: id, tenant: try TenantName("contoso"), clientID: try ClientID("web"), userID: "u1", scope: Scope(tokens: ["openid"]),
            audience: [], nonce: nil, authTime: now, sessionID: nil, amr: ["pwd"], codeHash: code, codeChallenge: nil,
            redirectURI: nil, codeExpiresAt: now.addingTimeInterval(60), createdAt: now, offline: true)
    }
}
