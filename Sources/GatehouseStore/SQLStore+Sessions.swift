import Foundation
import GatehouseCore
import SQLKit

/// Browser sessions (by cookie hash, indexed by user) and consents (by user and client).
extension SQLStore {
    public func putSession(_ session: BrowserSession, cookieHash: String) async throws {
        try await db.raw(
            """
            INSERT INTO sessions (cookie_hash, tenant, user_id, sid, auth_time, amr, expires_at, client_ip, user_agent, last_used_at)
            VALUES (\(bind: cookieHash), \(bind: session.tenant), \(bind: session.userID), \(bind: session.sid), \(bind: session.authTime),
                    \(bind: session.amr.joined(separator: " ")), \(bind: session.expiresAt), \(bind: session.clientIP),
                    \(bind: session.userAgent), \(bind: session.lastUsedAt))
            ON CONFLICT (cookie_hash) DO UPDATE SET tenant = excluded.tenant, user_id = excluded.user_id, sid = excluded.sid,
                auth_time = excluded.auth_time, amr = excluded.amr, expires_at = excluded.expires_at, client_ip = excluded.client_ip,
                user_agent = excluded.user_agent, last_used_at = excluded.last_used_at
            """
        ).run()
    }

    public func session(cookieHash: String, now: Date) async throws -> BrowserSession? {
        try await db.raw("SELECT * FROM sessions WHERE cookie_hash = \(bind: cookieHash) AND expires_at > \(bind: now)").first()
            .map(Self.session)
    }

    public func touchSession(cookieHash: String, at: Date) async throws {
        try await db.raw("UPDATE sessions SET last_used_at = \(bind: at) WHERE cookie_hash = \(bind: cookieHash)").run()
    }

    public func deleteSession(cookieHash: String) async throws -> Bool {
        !(try await db.raw("DELETE FROM sessions WHERE cookie_hash = \(bind: cookieHash) RETURNING sid").all()).isEmpty
    }

    public func sessions(tenant: String, userID: String, now: Date) async throws -> [BrowserSession] {
        try await db.raw(
            """
            SELECT * FROM sessions WHERE tenant = \(bind: tenant) AND user_id = \(bind: userID) AND expires_at > \(bind: now)
            ORDER BY auth_time DESC, sid
            """
        ).all().map(Self.session)
    }

    public func endSessions(tenant: String, userID: String, sid: String?) async throws -> Int {
        var sql = SQLQueryString("DELETE FROM sessions WHERE tenant = \(bind: tenant) AND user_id = \(bind: userID)")
        if let sid {
            sql.appendInterpolation(unsafeRaw: " AND sid = ")
            sql.appendInterpolation(bind: sid)
        }
        sql.appendInterpolation(unsafeRaw: " RETURNING sid")
        return try await db.raw(sql).all().count
    }

    public func purgeSessions(now: Date, limit: Int) async throws -> Int {
        try await db.raw(
            """
            DELETE FROM sessions WHERE cookie_hash IN
                (SELECT cookie_hash FROM sessions WHERE expires_at <= \(bind: now) LIMIT \(bind: limit)) RETURNING sid
            """
        ).all().count
    }

    static func session(_ row: any SQLRow) throws -> BrowserSession {
        BrowserSession(
            tenant: try row.decode(column: "tenant", as: String.self), userID: try row.decode(column: "user_id", as: String.self),
            sid: try row.decode(column: "sid", as: String.self), authTime: try row.decode(column: "auth_time", as: Date.self),
            amr: try row.decode(column: "amr", as: String.self).split(separator: " ").map(String.init),
            expiresAt: try row.decode(column: "expires_at", as: Date.self), clientIP: try row.decode(column: "client_ip", as: String?.self),
            userAgent: try row.decode(column: "user_agent", as: String?.self),
            lastUsedAt: try row.decode(column: "last_used_at", as: Date?.self))
    }

    public func putConsent(_ consent: Consent) async throws {
        try await db.raw(
            """
            INSERT INTO consents (tenant, user_id, client_id, scope, granted_at, expires_at)
            VALUES (\(bind: consent.tenant), \(bind: consent.userID), \(bind: consent.clientID), \(bind: consent.scope.description),
                    \(bind: consent.grantedAt), \(bind: consent.expiresAt))
            ON CONFLICT (tenant, user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at,
                expires_at = excluded.expires_at
            """
        ).run()
    }

    public func consent(tenant: String, userID: String, clientID: String, now: Date) async throws -> Consent? {
        try await db.raw(
            """
            SELECT * FROM consents WHERE tenant = \(bind: tenant) AND user_id = \(bind: userID) AND client_id = \(bind: clientID)
            AND expires_at > \(bind: now)
            """
        ).first().map(Self.consent)
    }

    public func consents(tenant: String, userID: String, now: Date) async throws -> [Consent] {
        try await db.raw(
            """
            SELECT * FROM consents WHERE tenant = \(bind: tenant) AND user_id = \(bind: userID) AND expires_at > \(bind: now)
            ORDER BY client_id
            """
        ).all().map(Self.consent)
    }

    public func deleteConsent(tenant: String, userID: String, clientID: String) async throws -> Bool {
        !(try await db.raw(
            """
            DELETE FROM consents WHERE tenant = \(bind: tenant) AND user_id = \(bind: userID) AND client_id = \(bind: clientID)
            RETURNING client_id
            """
        ).all()).isEmpty
    }

    public func purgeConsents(now: Date, limit: Int) async throws -> Int {
        try await db.raw(
            """
            DELETE FROM consents WHERE (tenant, user_id, client_id) IN
                (SELECT tenant, user_id, client_id FROM consents WHERE expires_at <= \(bind: now) LIMIT \(bind: limit)) RETURNING client_id
            """
        ).all().count
    }

    static func consent(_ row: any SQLRow) throws -> Consent {
        Consent(
            tenant: try row.decode(column: "tenant", as: String.self), userID: try row.decode(column: "user_id", as: String.self),
            clientID: try row.decode(column: "client_id", as: String.self),
            scope: Scope(tokens: try row.decode(column: "scope", as: String.self).split(separator: " ").map(String.init)),
            grantedAt: try row.decode(column: "granted_at", as: Date.self), expiresAt: try row.decode(column: "expires_at", as: Date.self))
    }
}
