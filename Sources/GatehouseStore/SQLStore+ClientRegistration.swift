import Foundation
import GatehouseCore
import SQLKit

/// Self-registered clients' records and initial access tokens (hashes only).
extension SQLStore {
    public func addClientRegistration(_ record: ClientRegistrationRecord) async throws {
        try await countingChange {
            let rows = try await db.raw(
                """
                INSERT INTO client_registrations (tenant, client_id, policy, token_hash, metadata, initial_token_id, created_at, updated_at)
                VALUES (\(bind: record.tenant.value), \(bind: record.clientID.value), \(bind: record.policy.rawValue),
                        \(bind: record.tokenHash), \(bind: record.metadata), \(bind: record.initialTokenID), \(bind: record.createdAt),
                        \(bind: record.updatedAt))
                ON CONFLICT DO NOTHING RETURNING client_id
                """
            ).all()
            if rows.isEmpty { throw StoreError.conflict("client registration \(record.clientID)") }
        }
    }

    public func clientRegistration(tenant: TenantName, clientID: ClientID) async throws -> ClientRegistrationRecord? {
        try await db.raw(
            "SELECT * FROM client_registrations WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: clientID.value)"
        ).first().map(Self.clientRegistration)
    }

    public func clientRegistrations(tenant: TenantName) async throws -> [ClientRegistrationRecord] {
        try await db.raw("SELECT * FROM client_registrations WHERE tenant = \(bind: tenant.value) ORDER BY client_id").all().map(
            Self.clientRegistration)
    }

    public func replaceClientRegistration(_ record: ClientRegistrationRecord, expectedTokenHash: String) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                """
                UPDATE client_registrations
                SET token_hash = \(bind: record.tokenHash), metadata = \(bind: record.metadata), updated_at = \(bind: record.updatedAt)
                WHERE tenant = \(bind: record.tenant.value) AND client_id = \(bind: record.clientID.value)
                  AND token_hash = \(bind: expectedTokenHash)
                RETURNING client_id
                """
            ).all()).isEmpty
        }
    }

    public func addInitialAccessToken(_ token: InitialAccessToken) async throws {
        try await db.raw(
            """
            INSERT INTO initial_access_tokens (tenant, token_id, hash, label, created_at, expires_at, uses_left)
            VALUES (\(bind: token.tenant.value), \(bind: token.id), \(bind: token.hash), \(bind: token.label), \(bind: token.createdAt),
                    \(bind: token.expiresAt), \(bind: token.usesLeft))
            """
        ).run()
    }

    public func initialAccessTokens(tenant: TenantName) async throws -> [InitialAccessToken] {
        try await db.raw(
            "SELECT * FROM initial_access_tokens WHERE tenant = \(bind: tenant.value) ORDER BY created_at, token_id"
        ).all().map(Self.initialAccessToken)
    }

    public func spendInitialAccessToken(tenant: TenantName, hash: String, now: Date) async throws -> InitialAccessToken? {
        // One statement: a burst spends each use once.
        try await db.raw(
            """
            UPDATE initial_access_tokens SET uses_left = uses_left - 1
            WHERE tenant = \(bind: tenant.value) AND hash = \(bind: hash) AND uses_left > 0 AND expires_at > \(bind: now)
            RETURNING *
            """
        ).first().map(Self.initialAccessToken)
    }

    public func removeInitialAccessToken(tenant: TenantName, id: String) async throws -> Bool {
        !(try await db.raw(
            "DELETE FROM initial_access_tokens WHERE tenant = \(bind: tenant.value) AND token_id = \(bind: id) RETURNING token_id"
        ).all()).isEmpty
    }

    static func clientRegistration(_ row: any SQLRow) throws -> ClientRegistrationRecord {
        let raw = try row.decode(column: "policy", as: String.self)
        guard let policy = ClientRegistrationPolicy(rawValue: raw) else { throw StoreError.corrupt("client_registrations.policy '\(raw)'") }
        return ClientRegistrationRecord(
            tenant: try TenantName(try row.decode(column: "tenant", as: String.self)),
            clientID: try ClientID(try row.decode(column: "client_id", as: String.self)), policy: policy,
            tokenHash: try row.decode(column: "token_hash", as: String.self), metadata: try row.decode(column: "metadata", as: String.self),
            initialTokenID: try row.decode(column: "initial_token_id", as: String?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self), updatedAt: try row.decode(column: "updated_at", as: Date.self))
    }

    static func initialAccessToken(_ row: any SQLRow) throws -> InitialAccessToken {
        InitialAccessToken(
            tenant: try TenantName(try row.decode(column: "tenant", as: String.self)),
            id: try row.decode(column: "token_id", as: String.self), hash: try row.decode(column: "hash", as: String.self),
            label: try row.decode(column: "label", as: String.self), createdAt: try row.decode(column: "created_at", as: Date.self),
            expiresAt: try row.decode(column: "expires_at", as: Date.self), usesLeft: try row.decode(column: "uses_left", as: Int.self))
    }
}
