import Foundation
import GatehouseCore
import GatehouseStore
import Testing

/// What every backend does with browser sessions (by cookie hash and by user, ended one or all,
/// expired ones invisible and purged) and consents (by user and client, replaced, withdrawn).
@Suite struct SessionStoreContractTests {
    static func session(
        _ sid: String, user: String = "u1", tenant: String = "contoso", at offset: TimeInterval = 0, lifetime: TimeInterval = 3600
    )
        -> BrowserSession
    {
        BrowserSession(
            tenant: tenant, userID: user, sid: sid, authTime: epoch.addingTimeInterval(offset), amr: ["pwd", "mfa"],
            expiresAt: epoch.addingTimeInterval(offset + lifetime), clientIP: "203.0.113.7", userAgent: "Firefox/140")
    }

    @Test(arguments: Backend.allCases)
    func sessionsAreFoundByCookieAndByUserAndEndOneOrAll(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let now = epoch.addingTimeInterval(10)
            try await store.putSession(Self.session("s1"), cookieHash: "h1")
            try await store.putSession(Self.session("s2", at: 5), cookieHash: "h2")
            try await store.putSession(Self.session("s3", user: "u2"), cookieHash: "h3")
            try await store.putSession(Self.session("s4", tenant: "fabrikam"), cookieHash: "h4")
            try await store.putSession(Self.session("old", at: -7200), cookieHash: "h5")
            #expect(try await store.session(cookieHash: "h1", now: now) == Self.session("s1"), "every field comes back")
            #expect(try await store.session(cookieHash: "h5", now: now) == nil, "an expired session is gone")
            #expect(try await store.sessions(tenant: "contoso", userID: "u1", now: now).map(\.sid) == ["s2", "s1"], "newest first")
            try await store.touchSession(cookieHash: "h1", at: now)
            #expect(try await store.session(cookieHash: "h1", now: now)?.lastUsedAt == now)
            // Saving under the same cookie replaces.
            var moved = Self.session("s1")
            moved.lastUsedAt = nil
            try await store.putSession(moved, cookieHash: "h1")
            #expect(try await store.session(cookieHash: "h1", now: now)?.lastUsedAt == nil)
            #expect(try await store.endSessions(tenant: "contoso", userID: "u1", sid: "s2") == 1)
            #expect(try await store.endSessions(tenant: "contoso", userID: "u1", sid: "s3") == 0, "another user's sid is not ended")
            #expect(try await store.session(cookieHash: "h3", now: now) != nil)
            #expect(try await store.endSessions(tenant: "contoso", userID: "u1", sid: nil) == 2, "the rest of u1's, the expired one too")
            #expect(try await store.sessions(tenant: "contoso", userID: "u1", now: now).isEmpty)
            #expect(try await store.session(cookieHash: "h4", now: now) != nil, "the same user ID in another tenant keeps its session")
            #expect(try await store.deleteSession(cookieHash: "h3"))
            #expect(try await store.deleteSession(cookieHash: "h3") == false)
            #expect(try await store.purgeSessions(now: epoch.addingTimeInterval(7200), limit: 10) == 1)
            #expect(try await store.session(cookieHash: "h4", now: now) == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func consentsAreKeptPerUserAndClientReplacedAndWithdrawn(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let now = epoch.addingTimeInterval(10)
            let first = Consent(
                tenant: "contoso", userID: "u1", clientID: "web", scope: Scope(tokens: ["openid", "profile"]), grantedAt: epoch,
                expiresAt: epoch.addingTimeInterval(3600))
            try await store.putConsent(first)
            try await store.putConsent(
                Consent(
                    tenant: "contoso", userID: "u1", clientID: "app", scope: Scope(tokens: ["openid"]), grantedAt: epoch,
                    expiresAt: epoch.addingTimeInterval(5)))
            try await store.putConsent(
                Consent(
                    tenant: "contoso", userID: "u2", clientID: "web", scope: Scope(tokens: ["email"]), grantedAt: epoch,
                    expiresAt: epoch.addingTimeInterval(3600)))
            #expect(try await store.consent(tenant: "contoso", userID: "u1", clientID: "web", now: now) == first)
            #expect(try await store.consent(tenant: "contoso", userID: "u1", clientID: "app", now: now) == nil, "expired")
            #expect(try await store.consents(tenant: "contoso", userID: "u1", now: now) == [first])
            let wider = Consent(
                tenant: "contoso", userID: "u1", clientID: "web", scope: Scope(tokens: ["openid", "profile", "email"]), grantedAt: now,
                expiresAt: epoch.addingTimeInterval(7200))
            try await store.putConsent(wider)
            #expect(try await store.consent(tenant: "contoso", userID: "u1", clientID: "web", now: now) == wider)
            #expect(try await store.deleteConsent(tenant: "contoso", userID: "u1", clientID: "web"))
            #expect(try await store.deleteConsent(tenant: "contoso", userID: "u1", clientID: "web") == false)
            #expect(try await store.consents(tenant: "contoso", userID: "u2", now: now).map(\.clientID) == ["web"])
            #expect(try await store.purgeConsents(now: now, limit: 10) == 1, "the expired one")
        }
    }
}
