import Foundation
import GatehouseCore
import SQLKit

/// Users' passkeys (public keys only: nothing here is secret) and the tenants' passkey policy.
extension SQLStore {
    public func addPasskey(_ passkey: Passkey) async throws -> Bool {
        !(try await db.raw(
            """
            INSERT INTO passkeys (tenant, credential_id, user_id, public_key, sign_count, transports, aaguid, backup_eligible, backed_up,
                                  attestation_format, name, created_at, last_used_at, counter_regressed)
            VALUES (\(bind: passkey.tenant.value), \(bind: passkey.credentialID), \(bind: passkey.userID),
                    \(bind: Base64URL.encode(passkey.publicKey)), \(bind: Int64(passkey.signCount)),
                    \(bind: passkey.transports.joined(separator: " ")), \(bind: passkey.aaguid), \(bind: passkey.backupEligible),
                    \(bind: passkey.backedUp), \(bind: passkey.attestationFormat), \(bind: passkey.name), \(bind: passkey.createdAt),
                    \(bind: passkey.lastUsedAt), \(bind: passkey.counterRegressed))
            ON CONFLICT DO NOTHING RETURNING credential_id
            """
        ).all()).isEmpty
    }

    public func passkey(tenant: TenantName, credentialID: String) async throws -> Passkey? {
        try await db.raw(
            "SELECT * FROM passkeys WHERE tenant = \(bind: tenant.value) AND credential_id = \(bind: credentialID)"
        ).first().map(Self.passkey)
    }

    public func passkeys(tenant: TenantName, userID: String) async throws -> [Passkey] {
        try await db.raw(
            """
            SELECT * FROM passkeys WHERE tenant = \(bind: tenant.value) AND user_id = \(bind: userID)
            ORDER BY created_at, credential_id
            """
        ).all().map(Self.passkey)
    }

    public func recordPasskeyUse(
        tenant: TenantName, credentialID: String, previousCount: UInt32, signCount: UInt32, backedUp: Bool, counterRegressed: Bool,
        at: Date
    ) async throws -> Bool {
        // Conditional on the counter read: of two ceremonies racing with one value, one writes.
        let regressed: SQLQueryString = counterRegressed ? "\(bind: true)" : "counter_regressed"
        return
            !(try await db.raw(
                """
                UPDATE passkeys SET sign_count = \(bind: Int64(signCount)), backed_up = \(bind: backedUp), last_used_at = \(bind: at),
                                    counter_regressed = \(regressed)
                WHERE tenant = \(bind: tenant.value) AND credential_id = \(bind: credentialID) AND sign_count = \(bind: Int64(previousCount))
                RETURNING credential_id
                """
            ).all()).isEmpty
    }

    public func renamePasskey(tenant: TenantName, userID: String, credentialID: String, name: String) async throws -> Bool {
        guard let name = Passkey.name(name) else { return false }
        return
            !(try await db.raw(
                """
                UPDATE passkeys SET name = \(bind: name)
                WHERE tenant = \(bind: tenant.value) AND user_id = \(bind: userID) AND credential_id = \(bind: credentialID)
                RETURNING credential_id
                """
            ).all()).isEmpty
    }

    public func removePasskey(tenant: TenantName, userID: String, credentialID: String) async throws -> Bool {
        !(try await db.raw(
            """
            DELETE FROM passkeys WHERE tenant = \(bind: tenant.value) AND user_id = \(bind: userID) AND credential_id = \(bind: credentialID)
            RETURNING credential_id
            """
        ).all()).isEmpty
    }

    public func passkeyCount(tenant: TenantName, userID: String) async throws -> Int {
        let row = try await db.raw(
            "SELECT COUNT(*) AS n FROM passkeys WHERE tenant = \(bind: tenant.value) AND user_id = \(bind: userID)"
        ).first()
        return try row?.decode(column: "n", as: Int.self) ?? 0
    }

    public func setPasskeyPolicy(_ policy: PasskeyPolicy, tenant: TenantName) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                "UPDATE tenants SET passkey_policy = \(bind: policy.stored) WHERE name = \(bind: tenant.value) RETURNING name"
            ).all()).isEmpty
        }
    }

    static func passkey(_ row: any SQLRow) throws -> Passkey {
        let id = try row.decode(column: "credential_id", as: String.self)
        guard let key = Base64URL.decode(try row.decode(column: "public_key", as: String.self)) else {
            throw StoreError.corrupt("passkeys \(id.prefix(16)): public_key")
        }
        let count = try row.decode(column: "sign_count", as: Int64.self)
        return Passkey(
            tenant: try TenantName(try row.decode(column: "tenant", as: String.self)),
            userID: try row.decode(column: "user_id", as: String.self), credentialID: id, publicKey: Array(key),
            signCount: UInt32(clamping: count), transports: words(try row.decode(column: "transports", as: String.self)),
            aaguid: try row.decode(column: "aaguid", as: String.self),
            backupEligible: try row.decode(column: "backup_eligible", as: Bool.self),
            backedUp: try row.decode(column: "backed_up", as: Bool.self),
            attestationFormat: try row.decode(column: "attestation_format", as: String.self),
            name: try row.decode(column: "name", as: String.self), createdAt: try row.decode(column: "created_at", as: Date.self),
            lastUsedAt: try row.decode(column: "last_used_at", as: Date?.self),
            counterRegressed: try row.decode(column: "counter_regressed", as: Bool.self))
    }
}
