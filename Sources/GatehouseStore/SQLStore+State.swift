import Foundation
import GatehouseCore
import SQLKit

/// Short-lived sign-in state: interactions, sessions, consent, device codes.
extension SQLStore {
    public func putState(kind: String, key: String, value: String, expiresAt: Date) async throws {
        try await db.raw(
            """
            INSERT INTO state_values (kind, state_key, value, expires_at) VALUES (\(bind: kind), \(bind: key), \(bind: value), \(bind: expiresAt))
            ON CONFLICT (kind, state_key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
            """
        ).run()
    }

    public func state(kind: String, key: String, now: Date) async throws -> String? {
        try await db.raw(
            """
            SELECT value FROM state_values WHERE kind = \(bind: kind) AND state_key = \(bind: key) AND expires_at > \(bind: now)
            """
        ).first()?.decode(column: "value", as: String.self)
    }

    public func takeState(kind: String, key: String, now: Date) async throws -> String? {
        let row = try await db.raw(
            """
            DELETE FROM state_values WHERE kind = \(bind: kind) AND state_key = \(bind: key) RETURNING value, expires_at
            """
        ).first()
        guard let row, try row.decode(column: "expires_at", as: Date.self) > now else { return nil }
        return try row.decode(column: "value", as: String.self)
    }

    public func deleteState(kind: String, key: String) async throws -> Bool {
        !(try await db.raw("DELETE FROM state_values WHERE kind = \(bind: kind) AND state_key = \(bind: key) RETURNING kind").all()).isEmpty
    }

    public func purgeState(now: Date, limit: Int) async throws -> Int {
        try await db.raw(
            """
            DELETE FROM state_values WHERE (kind, state_key) IN (
                SELECT kind, state_key FROM state_values WHERE expires_at <= \(bind: now) LIMIT \(bind: max(0, limit)))
            RETURNING kind
            """
        ).all().count
    }
}
