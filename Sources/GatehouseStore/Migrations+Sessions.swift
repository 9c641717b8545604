import Foundation
import GatehouseCore
import SQLKit

/// Migration 13's data step: the browser sessions and consents kept as generic state values
/// (a JSON session under its cookie hash; a space-joined scope under "tenant user client")
/// become rows of `sessions` and `consents`; expired ones are dropped.
enum SessionsBecomeRows {
    static func run(on db: any SQLDatabase, now: Date) async throws {
        let decoder = JSONDecoder()
        for row in try await db.raw("SELECT state_key, value FROM state_values WHERE kind = 'session' AND expires_at > \(bind: now)").all()
        {
            let key = try row.decode(column: "state_key", as: String.self)
            guard let session = try? decoder.decode(BrowserSession.self, from: Data(try row.decode(column: "value", as: String.self).utf8))
            else { continue }
            try await db.raw(
                """
                INSERT INTO sessions (cookie_hash, tenant, user_id, sid, auth_time, amr, expires_at)
                VALUES (\(bind: key), \(bind: session.tenant), \(bind: session.userID), \(bind: session.sid), \(bind: session.authTime),
                        \(bind: session.amr.joined(separator: " ")), \(bind: session.expiresAt))
                ON CONFLICT (cookie_hash) DO NOTHING
                """
            ).run()
        }
        for row in try await db.raw(
            "SELECT state_key, value, expires_at FROM state_values WHERE kind = 'consent' AND expires_at > \(bind: now)"
        ).all() {
            let parts = try row.decode(column: "state_key", as: String.self).split(separator: " ", maxSplits: 2).map(String.init)
            guard parts.count == 3 else { continue }
            try await db.raw(
                """
                INSERT INTO consents (tenant, user_id, client_id, scope, granted_at, expires_at)
                VALUES (\(bind: parts[0]), \(bind: parts[1]), \(bind: parts[2]), \(bind: try row.decode(column: "value", as: String.self)),
                        \(bind: now), \(bind: try row.decode(column: "expires_at", as: Date.self)))
                ON CONFLICT (tenant, user_id, client_id) DO NOTHING
                """
            ).run()
        }
        try await db.raw("DELETE FROM state_values WHERE kind IN ('session', 'consent')").run()
    }
}

/// Migration 16's data step: email sign-in is on for every tenant whose users' addresses are
/// each one user's; a tenant where some address is shared keeps it off, and the audit log
/// says which addresses (an administrator resolves them, then turns it on).
enum EmailSignInBegins {
    static func run(on db: any SQLDatabase, now: Date) async throws {
        var byTenant: [String: [(id: String, email: String?)]] = [:]
        for row in try await db.raw("SELECT tenant, user_id, email FROM users WHERE email IS NOT NULL").all() {
            byTenant[try row.decode(column: "tenant", as: String.self), default: []].append(
                (try row.decode(column: "user_id", as: String.self), try row.decode(column: "email", as: String?.self)))
        }
        for (tenant, users) in byTenant.sorted(by: { $0.key < $1.key }) {
            let addresses = SignInAddresses(users)
            let shared = addresses.shared
            if shared.isEmpty {
                try await SQLStore.record(addresses, tenant: tenant, on: db)
                continue
            }
            try await db.raw("UPDATE tenants SET email_sign_in = \(bind: false) WHERE name = \(bind: tenant)").run()
            let report = try JSONSerialization.data(
                withJSONObject: ["email_sign_in": false, "shared_addresses": shared], options: [.sortedKeys, .withoutEscapingSlashes])
            try await db.raw(
                """
                INSERT INTO audit_log (id, at, tenant, actor, action, target, before_value, after_value, trace_id, source)
                VALUES (\(bind: TraceID.make(now: now, random: .system)), \(bind: now), \(bind: tenant), 'migration 16',
                        'tenant.email_sign_in.withheld', \(bind: tenant), NULL, \(bind: String(decoding: report, as: UTF8.self)), NULL,
                        'migration')
                """
            ).run()
        }
    }
}
