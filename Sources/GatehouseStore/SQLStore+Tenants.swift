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
        // A loop rather than a throwing `map` on the awaited rows: Swift 6.3's release build
        // crashed (signal 11) splitting this coroutine in LLVM.
        let rows = try await db.raw("SELECT tenant FROM clients WHERE client_id = \(bind: id.value) ORDER BY tenant").all()
        var names: [TenantName] = []
        for row in rows { names.append(try TenantName(try row.decode(column: "tenant", as: String.self))) }
        return names
    }

    public func tenants() async throws -> [Tenant] {
        try await db.raw("SELECT * FROM tenants ORDER BY name").all().map(Self.tenant)
    }

    static func tenant(_ row: any SQLRow) throws -> Tenant {
        let name = try row.decode(column: "name", as: String.self)
        var tenant = Tenant(
            name: try TenantName(name),
            id: try parse(row, "id", table: "tenants", key: name, UUID.init(uuidString:)),
            displayName: try row.decode(column: "display_name", as: String.self),
            signingAlgorithm: try parse(row, "signing_algorithm", table: "tenants", key: name, SigningAlgorithm.init(rawValue:)),
            accessTokenLifetime: try row.decode(column: "access_token_lifetime", as: Int.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            signInLog: try parse(row, "sign_in_log", table: "tenants", key: name, SignInLogMode.init(rawValue:)),
            keyRotationInterval: try row.decode(column: "key_rotation_seconds", as: Int?.self).map(TimeInterval.init),
            emailSignIn: try row.decode(column: "email_sign_in", as: Bool.self),
            verifyEmail: try row.decode(column: "verify_email", as: Bool.self),
            registration: try parse(row, "registration", table: "tenants", key: name, RegistrationPolicy.init(rawValue:)),
            registrationDomains: (try row.decode(column: "registration_domains", as: String?.self) ?? "").split(separator: " ").map(
                String.init),
            branding: TenantBranding(
                primaryColor: try row.decode(column: "brand_color", as: String?.self),
                supportContact: try row.decode(column: "support_contact", as: String?.self),
                logoDigest: try row.decode(column: "logo_digest", as: String?.self)),
            passkeyPolicy: try row.decode(column: "passkey_policy", as: String?.self) == nil
                ? PasskeyPolicy() : parse(row, "passkey_policy", table: "tenants", key: name, PasskeyPolicy.init(stored:)))
        tenant.clientRegistration = ClientRegistrationSettings(
            policy: try parse(row, "client_registration", table: "tenants", key: name, ClientRegistrationPolicy.init(rawValue:)),
            apis: words(try row.decode(column: "registration_apis", as: String?.self) ?? ""),
            allowLocalFetches: try row.decode(column: "allow_local_fetches", as: Bool.self),
            metadataDocuments: try row.decode(column: "client_id_metadata_documents", as: Bool.self))
        tenant.requirePushedAuthorizationRequests = try row.decode(column: "require_par", as: Bool.self)
        tenant.requireDPoPNonce = try row.decode(column: "require_dpop_nonce", as: Bool.self)
        return tenant
    }

    public func setRegistration(_ policy: RegistrationPolicy, domains: [String], tenant: TenantName) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                """
                UPDATE tenants SET registration = \(bind: policy.rawValue), registration_domains = \(bind: domains.joined(separator: " "))
                WHERE name = \(bind: tenant.value) RETURNING name
                """
            ).all()).isEmpty
        }
    }

    public func setBranding(displayName: String, primaryColor: String?, supportContact: String?, tenant: TenantName) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                """
                UPDATE tenants SET display_name = \(bind: displayName), brand_color = \(bind: primaryColor), support_contact = \(bind: supportContact)
                WHERE name = \(bind: tenant.value) RETURNING name
                """
            ).all()).isEmpty
        }
    }

    public func setLogo(_ logo: TenantLogo?, tenant: TenantName) async throws -> Bool {
        try await countingChange {
            try await transaction {
                guard
                    !(try await self.db.raw(
                        "UPDATE tenants SET logo_digest = \(bind: logo?.digest) WHERE name = \(bind: tenant.value) RETURNING name"
                    ).all()).isEmpty
                else { return false }
                try await self.db.raw("DELETE FROM tenant_logos WHERE tenant = \(bind: tenant.value)").run()
                if let logo {
                    try await self.db.raw(
                        """
                        INSERT INTO tenant_logos (tenant, content_type, data)
                        VALUES (\(bind: tenant.value), \(bind: logo.contentType), \(bind: Data(logo.data).base64EncodedString()))
                        """
                    ).run()
                }
                return true
            }
        }
    }

    public func logo(tenant: TenantName) async throws -> TenantLogo? {
        guard let row = try await db.raw("SELECT content_type, data FROM tenant_logos WHERE tenant = \(bind: tenant.value)").first(),
            let data = Data(base64Encoded: try row.decode(column: "data", as: String.self))
        else { return nil }
        return TenantLogo(stored: try row.decode(column: "content_type", as: String.self), data: Array(data))
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

    public func setClientRegistration(_ settings: ClientRegistrationSettings, tenant: TenantName) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                """
                UPDATE tenants SET client_registration = \(bind: settings.policy.rawValue),
                                   registration_apis = \(bind: settings.apis.joined(separator: " ")),
                                   allow_local_fetches = \(bind: settings.allowLocalFetches),
                                   client_id_metadata_documents = \(bind: settings.metadataDocuments)
                WHERE name = \(bind: tenant.value) RETURNING name
                """
            ).all()).isEmpty
        }
    }

    public func setRequireDPoPNonce(_ on: Bool, tenant: TenantName) async throws -> Bool {
        try await countingChange {
            !(try await db.raw("UPDATE tenants SET require_dpop_nonce = \(bind: on) WHERE name = \(bind: tenant.value) RETURNING name")
                .all()).isEmpty
        }
    }

    public func setRequirePushedAuthorizationRequests(_ on: Bool, tenant: TenantName) async throws -> Bool {
        try await countingChange {
            !(try await db.raw("UPDATE tenants SET require_par = \(bind: on) WHERE name = \(bind: tenant.value) RETURNING name").all())
                .isEmpty
        }
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
