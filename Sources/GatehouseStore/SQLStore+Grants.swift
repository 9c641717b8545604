import Foundation
import GatehouseCore
import SQLKit

/// Authorization grants: codes and refresh token families.
extension SQLStore {
    public func createGrant(_ grant: AuthorizationGrant) async throws {
        let rows = try await db.raw(
            """
            INSERT INTO grants (grant_id, tenant, client_id, user_id, scope, audience, nonce, auth_time, session_id, amr, code_hash,
                                code_challenge, redirect_uri, code_expires_at, code_redeemed_at, created_at, offline, generation,
                                rotated_at, last_used_at, revoked_at, binding)
            VALUES (\(bind: grant.id), \(bind: grant.tenant.value), \(bind: grant.clientID.value), \(bind: grant.userID), \(bind: grant.scope.description),
                    \(bind: grant.audience.joined(separator: " ")), \(bind: grant.nonce), \(bind: grant.authTime),
                    \(bind: grant.sessionID), \(bind: grant.amr.joined(separator: " ")), \(bind: grant.codeHash), \(bind: grant.codeChallenge),
                    \(bind: grant.redirectURI), \(bind: grant.codeExpiresAt), \(bind: grant.codeRedeemedAt),
                    \(bind: grant.createdAt), \(bind: grant.offline), \(bind: grant.generation),
                    \(bind: grant.rotatedAt), \(bind: grant.lastUsedAt), \(bind: grant.revokedAt), \(bind: grant.binding?.stored))
            ON CONFLICT DO NOTHING RETURNING grant_id
            """
        ).all()
        if rows.isEmpty { throw StoreError.conflict("grant \(grant.id)") }
    }

    public func grant(id: String) async throws -> AuthorizationGrant? {
        try await db.raw("SELECT * FROM grants WHERE grant_id = \(bind: id)").first().map(Self.grant)
    }

    public func redeemCode(hash: String, now: Date, binding: TokenBinding?) async throws -> CodeRedemption {
        if let row = try await db.raw(
            """
            UPDATE grants SET code_redeemed_at = \(bind: now), last_used_at = \(bind: now),
                binding = COALESCE(binding, \(bind: binding?.stored))
            WHERE code_hash = \(bind: hash) AND code_redeemed_at IS NULL RETURNING *
            """
        ).first() {
            return .redeemed(try Self.grant(row))
        }
        guard let row = try await db.raw("SELECT * FROM grants WHERE code_hash = \(bind: hash)").first() else { return .unknown }
        return .alreadyRedeemed(try Self.grant(row))
    }

    public func revokeGrant(id: String, now: Date) async throws -> Bool {
        !(try await db.raw(
            """
            UPDATE grants SET revoked_at = \(bind: now) WHERE grant_id = \(bind: id) AND revoked_at IS NULL RETURNING grant_id
            """
        ).all()).isEmpty
    }

    public func revokeGrants(tenant: TenantName, userID: String, clientID: ClientID, now: Date) async throws -> Int {
        try await db.raw(
            """
            UPDATE grants SET revoked_at = \(bind: now)
            WHERE tenant = \(bind: tenant.value) AND user_id = \(bind: userID) AND client_id = \(bind: clientID.value)
            AND revoked_at IS NULL RETURNING grant_id
            """
        ).all().count
    }

    public func revokeGrants(tenant: TenantName, userID: String, now: Date) async throws -> Int {
        try await db.raw(
            """
            UPDATE grants SET revoked_at = \(bind: now)
            WHERE tenant = \(bind: tenant.value) AND user_id = \(bind: userID) AND revoked_at IS NULL RETURNING grant_id
            """
        ).all().count
    }

    public func refreshToken(hash: String) async throws -> RefreshTokenRecord? {
        guard let row = try await db.raw("SELECT * FROM refresh_tokens WHERE token_hash = \(bind: hash)").first() else { return nil }
        return RefreshTokenRecord(
            hash: try row.decode(column: "token_hash", as: String.self), grantID: try row.decode(column: "grant_id", as: String.self),
            generation: try row.decode(column: "generation", as: Int.self),
            createdAt: try row.decode(column: "created_at", as: Date.self), origin: try row.decode(column: "origin", as: String?.self))
    }

    /// One statement: the token's row joined to its grant's.
    public func refreshTokenWithGrant(hash: String) async throws -> (RefreshTokenRecord, AuthorizationGrant)? {
        guard
            let row = try await db.raw(
                """
                SELECT g.*, r.token_hash AS token_hash, r.generation AS token_generation, r.created_at AS token_created_at
                FROM refresh_tokens r JOIN grants g ON g.grant_id = r.grant_id WHERE r.token_hash = \(bind: hash)
                """
            ).first()
        else { return nil }
        let grant = try Self.grant(row)
        let record = RefreshTokenRecord(
            hash: try row.decode(column: "token_hash", as: String.self), grantID: grant.id,
            generation: try row.decode(column: "token_generation", as: Int.self),
            createdAt: try row.decode(column: "token_created_at", as: Date.self))
        return (record, grant)
    }

    public func addRefreshToken(hash: String, grantID: String, generation: Int, now: Date) async throws -> Bool {
        !(try await db.raw(
            """
            INSERT INTO refresh_tokens (token_hash, grant_id, generation, created_at)
            SELECT \(bind: hash), grant_id, generation, \(bind: now) FROM grants
            WHERE grant_id = \(bind: grantID) AND generation = \(bind: generation) AND revoked_at IS NULL
            ON CONFLICT DO NOTHING RETURNING token_hash
            """
        ).all()).isEmpty
    }

    /// Two statements in an order that leaves no state in between that anyone can act on, so no
    /// transaction is needed (one cost 45-55 % of refresh throughput on SQLite's shared
    /// connection, BENCHMARKS.md): the successor is recorded first, at the generation the grant
    /// does not have yet, and nobody can present it before the grant has moved (it is answered
    /// only after); the grant is moved second, by one conditional update, so whoever sees the new
    /// generation also finds its live token. Racing rotators record the same successor (it is
    /// derived from the presented token) and only one moves the grant; a crash in between leaves
    /// an unreachable row that goes with the grant.
    public func rotate(grantID: String, from generation: Int, newHash: String, now: Date, origin: String?) async throws -> Bool {
        if flavor == .postgres {
            // PostgreSQL: one statement, atomic by itself (a data-modifying WITH), one round trip.
            // A racing rotator waits for the grant's row lock, then finds the generation moved.
            let row = try await db.raw(
                """
                WITH moved AS (
                    UPDATE grants SET generation = generation + 1, rotated_at = \(bind: now),
                        last_used_at = \(bind: now)
                    WHERE grant_id = \(bind: grantID) AND generation = \(bind: generation) AND revoked_at IS NULL
                    RETURNING grant_id, generation),
                added AS (
                    INSERT INTO refresh_tokens (token_hash, grant_id, generation, created_at, origin)
                    SELECT \(bind: newHash), grant_id, generation, \(bind: now), \(bind: origin) FROM moved
                    ON CONFLICT DO NOTHING RETURNING token_hash)
                SELECT COUNT(*) AS moved FROM moved
                """
            ).first()
            return try row?.decode(column: "moved", as: Int.self) == 1
        }
        try await db.raw(
            """
            INSERT INTO refresh_tokens (token_hash, grant_id, generation, created_at, origin)
            SELECT \(bind: newHash), grant_id, generation + 1, \(bind: now), \(bind: origin) FROM grants
            WHERE grant_id = \(bind: grantID) AND generation = \(bind: generation) AND revoked_at IS NULL
            ON CONFLICT DO NOTHING
            """
        ).run()
        return
            !(try await db.raw(
                """
                UPDATE grants SET generation = generation + 1, rotated_at = \(bind: now), last_used_at = \(bind: now)
                WHERE grant_id = \(bind: grantID) AND generation = \(bind: generation) AND revoked_at IS NULL RETURNING grant_id
                """
            ).all()).isEmpty
    }

    public func purgeGrants(now: Date, endedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await transaction { try await purgeGrantStatements(now: now, endedBefore: cutoff, limit: limit) }
    }

    private func purgeGrantStatements(now: Date, endedBefore cutoff: Date, limit: Int) async throws -> Int {
        let ids = try await db.raw(
            """
            DELETE FROM grants WHERE grant_id IN (
                SELECT grant_id FROM grants
                WHERE (code_redeemed_at IS NULL AND code_expires_at < \(bind: now))
                   OR revoked_at < \(bind: cutoff) OR last_used_at < \(bind: cutoff)
                LIMIT \(bind: max(0, limit)))
            RETURNING grant_id
            """
        ).all().map { try $0.decode(column: "grant_id", as: String.self) }
        for chunk in stride(from: 0, to: ids.count, by: 200).map({ Array(ids[$0..<min($0 + 200, ids.count)]) }) {
            try await db.delete(from: "refresh_tokens").where("grant_id", .in, chunk).run()
        }
        return ids.count
    }

    static func grant(_ row: any SQLRow) throws -> AuthorizationGrant {
        func date(_ column: String) throws -> Date? { try row.decode(column: column, as: Date?.self) }
        return AuthorizationGrant(
            id: try row.decode(column: "grant_id", as: String.self),
            tenant: try TenantName(try row.decode(column: "tenant", as: String.self)),
            clientID: try ClientID(try row.decode(column: "client_id", as: String.self)),
            userID: try row.decode(column: "user_id", as: String.self),
            scope: Scope(tokens: words(try row.decode(column: "scope", as: String.self))),
            audience: words(try row.decode(column: "audience", as: String.self)),
            nonce: try row.decode(column: "nonce", as: String?.self),
            authTime: try row.decode(column: "auth_time", as: Date.self),
            sessionID: try row.decode(column: "session_id", as: String?.self),
            amr: words(try row.decode(column: "amr", as: String.self)),
            codeHash: try row.decode(column: "code_hash", as: String.self),
            codeChallenge: try row.decode(column: "code_challenge", as: String?.self),
            redirectURI: try row.decode(column: "redirect_uri", as: String?.self),
            codeExpiresAt: try row.decode(column: "code_expires_at", as: Date.self),
            codeRedeemedAt: try date("code_redeemed_at"),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            offline: try row.decode(column: "offline", as: Bool.self),
            generation: try row.decode(column: "generation", as: Int.self),
            rotatedAt: try date("rotated_at"), lastUsedAt: try date("last_used_at"), revokedAt: try date("revoked_at"),
            binding: TokenBinding(stored: try row.decode(column: "binding", as: String?.self)))
    }
}
