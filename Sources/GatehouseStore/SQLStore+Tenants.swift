import Foundation
import GatehouseCore
import SQLKit

/// Tenants, and the leases by which one node at a time does a periodic chore.
extension SQLStore {
    public func createTenant(_ tenant: Tenant) async throws {
        try await countingChange {
            let rows = try await db.raw(
                """
                INSERT INTO tenants (name, id, display_name, signing_algorithm, access_token_lifetime, created_at, sign_in_log, email_sign_in, verify_email)
                VALUES (\(bind: tenant.name.value), \(bind: tenant.id.uuidString.lowercased()), \(bind: tenant.displayName),
                        \(bind: tenant.signingAlgorithm.rawValue), \(bind: tenant.accessTokenLifetime), \(bind: tenant.createdAt),
                        \(bind: tenant.signInLog.rawValue), \(bind: tenant.emailSignIn), \(bind: tenant.verifyEmail))
                ON CONFLICT DO NOTHING RETURNING name
                """
            ).all()
            if rows.isEmpty { throw StoreError.conflict("tenant \(tenant.name)") }
        }
    }

    public func tenant(named name: TenantName) async throws -> Tenant? {
        try await db.raw("SELECT * FROM tenants WHERE name = \(bind: name.value)").first().map(Self.tenant)
    }

    public func tenant(id: UUID) async throws -> Tenant? {
        try await db.raw("SELECT * FROM tenants WHERE id = \(bind: id.uuidString.lowercased())").first().map(Self.tenant)
    }

    public func tenantsWithClient(id: ClientID) async throws -> [TenantName] {
        try await db.raw("SELECT tenant FROM clients WHERE client_id = \(bind: id.value) ORDER BY tenant").all()
            .map { try TenantName(try $0.decode(column: "tenant", as: String.self)) }
    }

    public func tenants() async throws -> [Tenant] {
        try await db.raw("SELECT * FROM tenants ORDER BY name").all().map(Self.tenant)
    }

    static func tenant(_ row: any SQLRow) throws -> Tenant {
        let name = try row.decode(column: "name", as: String.self)
        return Tenant(
            name: try TenantName(name),
            id: try parse(row, "id", table: "tenants", key: name, UUID.init(uuidString:)),
            displayName: try row.decode(column: "display_name", as: String.self),
            signingAlgorithm: try parse(row, "signing_algorithm", table: "tenants", key: name, SigningAlgorithm.init(rawValue:)),
            accessTokenLifetime: try row.decode(column: "access_token_lifetime", as: Int.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            signInLog: try parse(row, "sign_in_log", table: "tenants", key: name, SignInLogMode.init(rawValue:)),
            keyRotationInterval: try row.decode(column: "key_rotation_seconds", as: Int?.self).map(TimeInterval.init),
            emailSignIn: try row.decode(column: "email_sign_in", as: Bool.self),
            verifyEmail: try row.decode(column: "verify_email", as: Bool.self))
    }

    public func setKeyRotation(_ interval: TimeInterval?, tenant: TenantName) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                """
                UPDATE tenants SET key_rotation_seconds = \(bind: interval.map { Int($0) }) WHERE name = \(bind: tenant.value) RETURNING name
                """
            ).all()).isEmpty
        }
    }

    public func setTokenSettings(tenant: TenantName, algorithm: SigningAlgorithm?, accessTokenLifetime: Int?) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                """
                UPDATE tenants SET signing_algorithm = COALESCE(\(bind: algorithm?.rawValue), signing_algorithm),
                    access_token_lifetime = COALESCE(\(bind: accessTokenLifetime), access_token_lifetime)
                WHERE name = \(bind: tenant.value) RETURNING name
                """
            ).all()).isEmpty
        }
    }

    // MARK: Leases

    public func acquireLease(_ name: String, holder: String, until: Date, now: Date) async throws -> Bool {
        // One statement: inserted, or taken over only from the same holder or an expired one.
        !(try await db.raw(
            """
            INSERT INTO leases (name, holder, expires_at) VALUES (\(bind: name), \(bind: holder), \(bind: until))
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
            WHERE leases.holder = excluded.holder OR leases.expires_at < \(bind: now)
            RETURNING name
            """
        ).all()).isEmpty
    }

    public func setVerifyEmail(_ on: Bool, tenant: TenantName) async throws -> Bool {
        try await countingChange {
            !(try await db.raw("UPDATE tenants SET verify_email = \(bind: on) WHERE name = \(bind: tenant.value) RETURNING name").all())
                .isEmpty
        }
    }

    public func setSignInLogMode(_ mode: SignInLogMode, tenant: TenantName) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                "UPDATE tenants SET sign_in_log = \(bind: mode.rawValue) WHERE name = \(bind: tenant.value) RETURNING name"
            ).all()).isEmpty
        }
    }
}
