import Foundation
import GatehouseCore
import GatehouseStore
import Testing

/// The contract of the user, state and grant stores on every backend.
@Suite struct SignInStoreContractTests {
    func grant(_ id: String, code: String, now: Date = epoch) throws -> AuthorizationGrant {
        AuthorizationGrant(id: id, tenant: try TenantName("contoso"), clientID: try ClientID("web"), userID: "u1", scope: Scope(tokens: ["openid", "offline_access"]),
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
            guard case .redeemed(let redeemed) = try await store.redeemCode(hash: "h1", now: epoch) else { Issue.record("not redeemed"); return }
            #expect(redeemed.codeRedeemedAt == epoch && redeemed.generation == 0)
            #expect(try await store.redeemCode(hash: "h1", now: epoch) == .alreadyRedeemed(redeemed))
            #expect(try await store.redeemCode(hash: "nope", now: epoch) == .unknown)
            // Generation 0 token, then rotation 0 -> 1; a second rotation from 0 loses.
            #expect(try await store.addRefreshToken(hash: "r0", grantID: "g1", generation: 0, now: epoch))
            #expect(try await store.addRefreshToken(hash: "rX", grantID: "g1", generation: 1, now: epoch) == false)
            #expect(try await store.rotate(grantID: "g1", from: 0, newHash: "r1", now: epoch.addingTimeInterval(5)))
            #expect(try await store.rotate(grantID: "g1", from: 0, newHash: "r1b", now: epoch) == false)
            #expect(try await store.refreshToken(hash: "r1")?.generation == 1)
            #expect(try await store.refreshToken(hash: "r0")?.grantID == "g1")
            let rotated = try #require(try await store.grant(id: "g1"))
            #expect(rotated.generation == 1 && rotated.rotatedAt == epoch.addingTimeInterval(5))
            #expect(try await store.revokeGrant(id: "g1", now: epoch))
            #expect(try await store.revokeGrant(id: "g1", now: epoch) == false)
            #expect(try await store.rotate(grantID: "g1", from: 1, newHash: "r2", now: epoch) == false)
            #expect(try await store.addRefreshToken(hash: "r2", grantID: "g1", generation: 1, now: epoch) == false)
            // Purge: revoked long ago goes, with its tokens.
            #expect(try await store.purgeGrants(now: epoch, endedBefore: epoch.addingTimeInterval(1)) == 1)
            #expect(try await store.refreshToken(hash: "r1") == nil)
            #expect(try await store.grant(id: "g1") == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func parallelRotationsFromOneGenerationHaveOneWinner(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            try await store.createTenant(try sampleTenant())
            try await store.createGrant(try grant("g", code: "c"))
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<50 { group.addTask { try await store.rotate(grantID: "g", from: 0, newHash: "t\(index)", now: epoch) } }
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
            var user = User(tenant: tenant.name, id: "u1", username: try Username("Alice"), email: "a@example.com", displayName: "Alice",
                            passwordHash: "$2b$04$x", createdAt: epoch, updatedAt: epoch)
            try await store.createUser(user)
            await #expect(throws: StoreError.self) {
                try await store.createUser(User(tenant: tenant.name, id: "u2", username: try Username("alice"), email: nil, displayName: "x",
                                                passwordHash: "h", createdAt: epoch, updatedAt: epoch))
            }
            #expect(try await store.user(tenant: tenant.name, username: try Username("ALICE")) == user)
            user.enabled = false
            user.sealedTOTPSecret = "sealed"
            #expect(try await store.updateUser(user))
            #expect(try await store.user(tenant: tenant.name, id: "u1") == user)
            #expect(try await store.users(tenant: tenant.name).count == 1)
            #expect(try await store.recordSignInFailure(key: "k", now: epoch, resetBefore: epoch.addingTimeInterval(-60)) == 1)
            #expect(try await store.recordSignInFailure(key: "k", now: epoch.addingTimeInterval(1), resetBefore: epoch.addingTimeInterval(-60)) == 2)
            #expect(try await store.signInFailures(key: "k", since: epoch.addingTimeInterval(-60)) == 2)
            // Failures older than the window are forgotten.
            #expect(try await store.recordSignInFailure(key: "k", now: epoch.addingTimeInterval(500), resetBefore: epoch.addingTimeInterval(100)) == 1)
            try await store.clearSignInFailures(key: "k")
            #expect(try await store.signInFailures(key: "k", since: .distantPast) == 0)
        }
    }
}
