import Foundation
import GatehouseCore
import GatehouseStore
import Testing

/// The contract of the user, state and grant stores on every backend.
@Suite struct SignInStoreContractTests {
    func grant(_ id: String, code: String, now: Date = epoch) throws -> AuthorizationGrant {
        AuthorizationGrant(
            id: id, tenant: try TenantName("contoso"), clientID: try ClientID("web"), userID: "u1",
            scope: Scope(tokens: ["openid", "offline_access"]),
            audience: ["https://api.example.com"], nonce: "n", authTime: now, sessionID: "sid", amr: ["pwd"], codeHash: code,
            codeChallenge: "c", redirectURI: "https://app/cb", codeExpiresAt: now.addingTimeInterval(60), createdAt: now, offline: true)
    }

    @Test(arguments: Backend.allCases)
    func codesAreRedeemedOnceAndGrantsRotateConditionally(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            try await store.createTenant(try sampleTenant())
            try await store.createGrant(try grant("g1", code: "h1"))
            await #expect(throws: StoreError.self) { try await store.createGrant(try grant("g1", code: "h2")) }
            #expect(try await store.grant(id: "g1") == (try grant("g1", code: "h1")))
            guard case .redeemed(let redeemed) = try await store.redeemCode(hash: "h1", now: epoch) else {
                Issue.record("not redeemed")
                return
            }
            #expect(redeemed.codeRedeemedAt == epoch && redeemed.generation == 0)
            #expect(try await store.redeemCode(hash: "h1", now: epoch) == .alreadyRedeemed(redeemed))
            #expect(try await store.redeemCode(hash: "nope", now: epoch) == .unknown)
            // Generation 0 token, then rotation 0 -> 1; a second rotation from 0 loses.
            #expect(try await store.addRefreshToken(hash: "r0", grantID: "g1", generation: 0, now: epoch))
            #expect(try await store.addRefreshToken(hash: "rX", grantID: "g1", generation: 1, now: epoch) == false)
            #expect(try await store.rotate(grantID: "g1", from: 0, newHash: "r1", now: epoch.addingTimeInterval(5), origin: "o1"))
            #expect(try await store.rotate(grantID: "g1", from: 0, newHash: "r1b", now: epoch, origin: nil) == false)
            #expect(try await store.refreshToken(hash: "r1")?.generation == 1)
            #expect(try await store.refreshToken(hash: "r1")?.origin == "o1")
            #expect(try await store.refreshToken(hash: "r0")?.origin == nil)
            #expect(try await store.refreshToken(hash: "r0")?.grantID == "g1")
            let rotated = try #require(try await store.grant(id: "g1"))
            #expect(rotated.generation == 1 && rotated.rotatedAt == epoch.addingTimeInterval(5))
            #expect(try await store.revokeGrant(id: "g1", now: epoch))
            #expect(try await store.revokeGrant(id: "g1", now: epoch) == false)
            #expect(try await store.rotate(grantID: "g1", from: 1, newHash: "r2", now: epoch, origin: nil) == false)
            #expect(try await store.addRefreshToken(hash: "r2", grantID: "g1", generation: 1, now: epoch) == false)
            // Purge: revoked long ago goes, with its tokens.
            #expect(try await store.purgeGrants(now: epoch, endedBefore: epoch.addingTimeInterval(1)) == 1)
            #expect(try await store.refreshToken(hash: "r1") == nil)
            #expect(try await store.grant(id: "g1") == nil)
        }
    }

    /// A grant's binding (RFC 9449): kept from creation, else taken from the redemption's proof,
    /// never replaced, never set by a rotation; the refresh token read with its grant carries it.
    @Test(arguments: Backend.allCases)
    func aGrantsBindingIsSetOnceAndKept(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            try await store.createTenant(try sampleTenant())
            let key: TokenBinding = .dpop(jkt: "k1-thumbprint")
            let other: TokenBinding = .dpop(jkt: "k2-thumbprint")
            var preset = try grant("g1", code: "h1")
            preset.binding = key
            try await store.createGrant(preset)
            guard case .redeemed(let redeemed) = try await store.redeemCode(hash: "h1", now: epoch, binding: other) else {
                Issue.record("not redeemed")
                return
            }
            #expect(redeemed.binding == key)
            // No binding at creation: the redemption's proof binds it; a later rotation does not change it.
            try await store.createGrant(try grant("g2", code: "h2"))
            guard case .redeemed(let bound) = try await store.redeemCode(hash: "h2", now: epoch, binding: other) else {
                Issue.record("not redeemed")
                return
            }
            #expect(bound.binding == other)
            #expect(try await store.addRefreshToken(hash: "r0", grantID: "g2", generation: 0, now: epoch))
            #expect(try await store.rotate(grantID: "g2", from: 0, newHash: "r1", now: epoch, origin: nil))
            #expect(try await store.refreshTokenWithGrant(hash: "r1")?.1.binding == other)
            // Redeemed without a proof: unbound for good.
            try await store.createGrant(try grant("g3", code: "h3"))
            _ = try await store.redeemCode(hash: "h3", now: epoch)
            #expect(try await store.addRefreshToken(hash: "r3", grantID: "g3", generation: 0, now: epoch))
            #expect(try await store.rotate(grantID: "g3", from: 0, newHash: "r4", now: epoch, origin: nil))
            #expect(try await store.grant(id: "g3")?.binding == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func parallelRotationsFromOneGenerationHaveOneWinner(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            try await store.createTenant(try sampleTenant())
            try await store.createGrant(try grant("g", code: "c"))
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<50 {
                    group.addTask { try await store.rotate(grantID: "g", from: 0, newHash: "t\(index)", now: epoch, origin: nil) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
            #expect(try await store.grant(id: "g")?.generation == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func stateIsTakenOnceAndExpires(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            try await store.putState(kind: "k", key: "a", value: "1", expiresAt: epoch.addingTimeInterval(10))
            try await store.putState(kind: "k", key: "a", value: "2", expiresAt: epoch.addingTimeInterval(10))
            #expect(try await store.state(kind: "k", key: "a", now: epoch) == "2")
            #expect(try await store.state(kind: "other", key: "a", now: epoch) == nil)
            #expect(try await store.state(kind: "k", key: "a", now: epoch.addingTimeInterval(11)) == nil)
            let takers = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<20 { group.addTask { try await store.takeState(kind: "k", key: "a", now: epoch) } }
                return try await group.reduce(into: [String?]()) { $0.append($1) }
            }
            #expect(takers.compactMap { $0 } == ["2"])
            try await store.putState(kind: "k", key: "b", value: "x", expiresAt: epoch)
            #expect(try await store.purgeState(now: epoch) == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func usersAndFailureCounting(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            var user = User(
                tenant: tenant.name, id: "u1", username: try Username("Alice"), email: "a@example.com", displayName: "Alice",
                passwordHash: "$2b$04$x", createdAt: epoch, updatedAt: epoch)
            try await store.createUser(user)
            await #expect(throws: StoreError.self) {
                try await store.createUser(
                    User(
                        tenant: tenant.name, id: "u2", username: try Username("alice"), email: nil, displayName: "x",
                        passwordHash: "h", createdAt: epoch, updatedAt: epoch))
            }
            #expect(try await store.user(tenant: tenant.name, username: try Username("ALICE")) == user)
            user.enabled = false
            user.sealedTOTPSecret = "sealed"
            #expect(try await store.updateUser(user))
            #expect(try await store.user(tenant: tenant.name, id: "u1") == user)
            #expect(try await store.users(tenant: tenant.name).count == 1)
            user.sessionsValidAfter = epoch.addingTimeInterval(7.5)
            #expect(try await store.updateUser(user))
            #expect(try await store.user(tenant: tenant.name, id: "u1")?.sessionsValidAfter == epoch.addingTimeInterval(7.5))
            #expect(try await store.countSignInAttempt(key: "k", limit: 5, now: epoch, resetBefore: epoch.addingTimeInterval(-60)) == 1)
            #expect(
                try await store.countSignInAttempt(
                    key: "k", limit: 5, now: epoch.addingTimeInterval(1), resetBefore: epoch.addingTimeInterval(-60)) == 2)
            #expect(try await store.signInFailures(key: "k", since: epoch.addingTimeInterval(-60)) == 2)
            // Attempts older than the window are forgotten.
            #expect(
                try await store.countSignInAttempt(
                    key: "k", limit: 5, now: epoch.addingTimeInterval(500), resetBefore: epoch.addingTimeInterval(100)) == 1)
            try await store.clearSignInFailures(key: "k")
            #expect(try await store.signInFailures(key: "k", since: .distantPast) == 0)
        }
    }

    /// Security finding 2: the attempt is counted by one atomic statement, so parallel attempts
    /// each get their own count and exactly `limit` of them are at or under it.
    @Test(arguments: Backend.allCases)
    func finding02_parallelAttemptsGetDistinctCounts(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<30 {
                    group.addTask {
                        try await store.countSignInAttempt(key: "burst", limit: 5, now: epoch, resetBefore: epoch.addingTimeInterval(-900))
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(counts.sorted() == Array(1...30))
            #expect(counts.filter { $0 <= 5 }.count == 5)
        }
    }

    /// Once the limit is reached, refused attempts are counted but do not extend the lock: it
    /// ends a window after the attempt that reached the limit.
    @Test(arguments: Backend.allCases)
    func attemptsPastTheLimitDoNotExtendTheLock(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            func attempt(at offset: TimeInterval) async throws -> Int {
                try await store.countSignInAttempt(
                    key: "k", limit: 2, now: epoch.addingTimeInterval(offset), resetBefore: epoch.addingTimeInterval(offset - 100))
            }
            #expect(try await attempt(at: 0) == 1)
            #expect(try await attempt(at: 10) == 2)  // reaches the limit: the window runs from here
            #expect(try await attempt(at: 60) == 3)
            #expect(try await attempt(at: 105) == 4)  // still within 100 s of the limit-reaching attempt
            #expect(try await attempt(at: 111) == 1)  // 101 s after it: forgotten
        }
    }

    /// Security finding 11: all of a user's live grants are revoked in one statement, no one else's.
    @Test(arguments: Backend.allCases)
    func finding11_revokeGrantsOfOneUser(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            try await store.createTenant(try sampleTenant())
            try await store.createGrant(try grant("a", code: "ca"))
            try await store.createGrant(try grant("b", code: "cb"))
            let other = AuthorizationGrant(
                id: "c", tenant: try TenantName("contoso"), clientID: try ClientID("web"), userID: "u2", scope: .empty,
                audience: [], nonce: nil, authTime: epoch, sessionID: nil, amr: [], codeHash: "cc", codeChallenge: nil,
                redirectURI: nil, codeExpiresAt: epoch, createdAt: epoch, offline: true)
            try await store.createGrant(other)
            #expect(try await store.revokeGrant(id: "b", now: epoch))
            #expect(try await store.revokeGrants(tenant: try TenantName("contoso"), userID: "u1", now: epoch.addingTimeInterval(3)) == 1)
            #expect(try await store.grant(id: "a")?.revokedAt == epoch.addingTimeInterval(3))
            #expect(try await store.grant(id: "b")?.revokedAt == epoch)
            #expect(try await store.grant(id: "c")?.revokedAt == nil)
            #expect(try await store.revokeGrants(tenant: try TenantName("contoso"), userID: "u1", now: epoch) == 0)
        }
    }
}
