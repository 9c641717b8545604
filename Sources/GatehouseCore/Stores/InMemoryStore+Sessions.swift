import Foundation

extension InMemoryStore {
    public func putSession(_ session: BrowserSession, cookieHash: String) async throws {
        state.withLock { $0.sessions[cookieHash] = session }
    }

    public func session(cookieHash: String, now: Date) async throws -> BrowserSession? {
        state.withLock { state in state.sessions[cookieHash].flatMap { $0.expiresAt > now ? $0 : nil } }
    }

    public func touchSession(cookieHash: String, at: Date) async throws {
        state.withLock { $0.sessions[cookieHash]?.lastUsedAt = at }
    }

    public func deleteSession(cookieHash: String) async throws -> Bool {
        state.withLock { $0.sessions.removeValue(forKey: cookieHash) != nil }
    }

    public func sessions(tenant: String, userID: String, now: Date) async throws -> [BrowserSession] {
        state.withLock { state in
            state.sessions.values.filter { $0.tenant == tenant && $0.userID == userID && $0.expiresAt > now }
                .sorted { ($0.authTime, $1.sid) > ($1.authTime, $0.sid) }
        }
    }

    public func endSessions(tenant: String, userID: String, sid: String?) async throws -> Int {
        state.withLock { state in
            let ended = state.sessions.filter {
                $0.value.tenant == tenant && $0.value.userID == userID && (sid == nil || $0.value.sid == sid)
            }
            for key in ended.keys { state.sessions.removeValue(forKey: key) }
            return ended.count
        }
    }

    public func purgeSessions(now: Date, limit: Int) async throws -> Int {
        state.withLock { state in
            let expired = state.sessions.filter { $0.value.expiresAt <= now }.keys.prefix(limit)
            for key in expired { state.sessions.removeValue(forKey: key) }
            return expired.count
        }
    }

    private static func consentKey(_ tenant: String, _ userID: String, _ clientID: String) -> String {
        tenant + "\u{0}" + userID + "\u{0}" + clientID
    }

    public func putConsent(_ consent: Consent) async throws {
        state.withLock { $0.consents[Self.consentKey(consent.tenant, consent.userID, consent.clientID)] = consent }
    }

    public func consent(tenant: String, userID: String, clientID: String, now: Date) async throws -> Consent? {
        state.withLock { state in state.consents[Self.consentKey(tenant, userID, clientID)].flatMap { $0.expiresAt > now ? $0 : nil } }
    }

    public func consents(tenant: String, userID: String, now: Date) async throws -> [Consent] {
        state.withLock { state in
            state.consents.values.filter { $0.tenant == tenant && $0.userID == userID && $0.expiresAt > now }.sorted {
                $0.clientID < $1.clientID
            }
        }
    }

    public func deleteConsent(tenant: String, userID: String, clientID: String) async throws -> Bool {
        state.withLock { $0.consents.removeValue(forKey: Self.consentKey(tenant, userID, clientID)) != nil }
    }

    public func purgeConsents(now: Date, limit: Int) async throws -> Int {
        state.withLock { state in
            let expired = state.consents.filter { $0.value.expiresAt <= now }.keys.prefix(limit)
            for key in expired { state.consents.removeValue(forKey: key) }
            return expired.count
        }
    }
}
