import Foundation
import GatehouseCore
import SQLKit

/// One-time values (client assertion `jti`s, TOTP steps).
extension SQLStore {
    public func consumeOnce(key: String, expiresAt: Date, now: Date) async throws -> Bool {
        // One conditional statement: inserts, or takes over an expired row; a live row returns nothing.
        let rows = try await db.raw(
            """
            INSERT INTO one_time_values (value_key, expires_at) VALUES (\(bind: key), \(bind: expiresAt))
            ON CONFLICT (value_key) DO UPDATE SET expires_at = excluded.expires_at
            WHERE one_time_values.expires_at < \(bind: now)
            RETURNING value_key
            """
        ).all()
        return !rows.isEmpty
    }

    public func purgeExpired(now: Date, limit: Int) async throws -> Int {
        try await db.raw(
            """
            DELETE FROM one_time_values WHERE value_key IN (
                SELECT value_key FROM one_time_values WHERE expires_at < \(bind: now) LIMIT \(bind: max(0, limit)))
            RETURNING value_key
            """
        ).all().count
    }
}
