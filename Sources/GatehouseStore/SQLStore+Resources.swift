import Foundation
import GatehouseCore
import SQLKit

/// APIs (resource servers), their identifiers, and what each client may ask of them.
extension SQLStore {
    public func createAPI(_ api: API) async throws {
        try await countingChange {
            try await transaction {
                let rows = try await db.raw(
                    """
                    INSERT INTO apis (tenant, application_id, display_name, permissions, roles, access_token_lifetime, created_at)
                    VALUES (\(bind: api.tenant.value), \(bind: api.applicationID.value), \(bind: api.displayName),
                            \(bind: try Self.encode(api.permissions)), \(bind: try Self.encode(api.roles)),
                            \(bind: api.accessTokenLifetime), \(bind: api.createdAt))
                    ON CONFLICT DO NOTHING RETURNING application_id
                    """
                ).all()
                if rows.isEmpty { throw StoreError.conflict("API \(api.applicationID)") }
                try await insertIdentifiers(of: api)
            }
        }
    }

    /// Records `api`'s identifiers; `StoreError.conflict` if one names another API of the tenant.
    private func insertIdentifiers(of api: API) async throws {
        for (position, identifier) in api.identifiers.enumerated() {
            let rows = try await db.raw(
                """
                INSERT INTO api_identifiers (tenant, identifier, application_id, position)
                VALUES (\(bind: api.tenant.value), \(bind: identifier.value), \(bind: api.applicationID.value), \(bind: position))
                ON CONFLICT DO NOTHING RETURNING identifier
                """
            ).all()
            if rows.isEmpty { throw StoreError.conflict("API identifier \(identifier.value)") }
        }
    }

    public func api(tenant: TenantName, applicationID: ClientID) async throws -> API? {
        guard
            let row = try await db.raw(
                "SELECT * FROM apis WHERE tenant = \(bind: tenant.value) AND application_id = \(bind: applicationID.value)"
            ).first()
        else { return nil }
        return try await api(row)
    }

    public func api(tenant: TenantName, identifier: String) async throws -> API? {
        guard
            let row = try await db.raw(
                """
                SELECT a.* FROM api_identifiers i JOIN apis a ON a.tenant = i.tenant AND a.application_id = i.application_id
                WHERE i.tenant = \(bind: tenant.value) AND i.identifier = \(bind: identifier)
                """
            ).first()
        else { return nil }
        return try await api(row)
    }

    public func apis(tenant: TenantName) async throws -> [API] {
        var apis: [API] = []
        for row in try await db.raw("SELECT * FROM apis WHERE tenant = \(bind: tenant.value) ORDER BY application_id").all() {
            apis.append(try await api(row))
        }
        return apis
    }

    public func updateAPI(_ api: API) async throws -> Bool {
        try await countingChange {
            try await transaction {
                let rows = try await db.raw(
                    """
                    UPDATE apis SET display_name = \(bind: api.displayName), permissions = \(bind: try Self.encode(api.permissions)),
                        roles = \(bind: try Self.encode(api.roles)), access_token_lifetime = \(bind: api.accessTokenLifetime)
                    WHERE tenant = \(bind: api.tenant.value) AND application_id = \(bind: api.applicationID.value)
                    RETURNING application_id
                    """
                ).all()
                guard !rows.isEmpty else { return false }
                try await db.raw(
                    """
                    DELETE FROM api_identifiers WHERE tenant = \(bind: api.tenant.value) AND application_id = \(bind: api.applicationID.value)
                    """
                ).run()
                try await insertIdentifiers(of: api)
                return true
            }
        }
    }

    public func removeAPI(tenant: TenantName, applicationID: ClientID) async throws -> Bool {
        try await countingChange {
            try await transaction {
                for table in ["api_identifiers", "api_access", "role_assignments"] {
                    try await db.raw(
                        """
                        DELETE FROM \(unsafeRaw: table) WHERE tenant = \(bind: tenant.value) AND application_id = \(bind: applicationID.value)
                        """
                    ).run()
                }
                return
                    !(try await db.raw(
                        """
                        DELETE FROM apis WHERE tenant = \(bind: tenant.value) AND application_id = \(bind: applicationID.value)
                        RETURNING application_id
                        """
                    ).all()).isEmpty
            }
        }
    }

    public func setAccess(_ access: APIAccess) async throws -> Bool {
        try await countingChange {
            // One statement: the row is written only if the API exists.
            !(try await db.raw(
                """
                INSERT INTO api_access (tenant, client_id, application_id, permissions, roles, position)
                SELECT tenant, \(bind: access.clientID.value), application_id, \(bind: access.permissions.joined(separator: " ")),
                       \(bind: access.roles.joined(separator: " ")),
                       (SELECT COALESCE(MAX(position) + 1, 0) FROM api_access
                        WHERE tenant = \(bind: access.tenant.value) AND client_id = \(bind: access.clientID.value))
                FROM apis WHERE tenant = \(bind: access.tenant.value) AND application_id = \(bind: access.api.value)
                ON CONFLICT (tenant, client_id, application_id) DO UPDATE SET permissions = excluded.permissions, roles = excluded.roles
                RETURNING application_id
                """
            ).all()).isEmpty
        }
    }

    public func access(tenant: TenantName, clientID: ClientID) async throws -> [APIAccess] {
        try await db.raw(
            """
            SELECT * FROM api_access WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: clientID.value)
            ORDER BY position, application_id
            """
        ).all().map { row in
            APIAccess(
                tenant: tenant, clientID: clientID,
                api: try Self.parse(row, "application_id", table: "api_access", key: clientID.value) { try? ClientID($0) },
                permissions: Self.words(try row.decode(column: "permissions", as: String.self)),
                roles: Self.words(try row.decode(column: "roles", as: String.self)))
        }
    }

    public func removeAccess(tenant: TenantName, clientID: ClientID, api: ClientID) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                """
                DELETE FROM api_access WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: clientID.value)
                    AND application_id = \(bind: api.value) RETURNING application_id
                """
            ).all()).isEmpty
        }
    }

    /// An API from its row and its identifiers.
    private func api(_ row: any SQLRow) async throws -> API {
        let tenantValue = try row.decode(column: "tenant", as: String.self)
        let tenant = try Self.parse(row, "tenant", table: "apis", key: tenantValue) { try? TenantName($0) }
        let applicationID = try Self.parse(row, "application_id", table: "apis", key: tenantValue) { try? ClientID($0) }
        let identifiers = try await db.raw(
            """
            SELECT identifier FROM api_identifiers WHERE tenant = \(bind: tenant.value) AND application_id = \(bind: applicationID.value)
            ORDER BY position
            """
        ).all().map { identifierRow in
            try Self.parse(identifierRow, "identifier", table: "api_identifiers", key: applicationID.value) { try? ResourceIndicator($0) }
        }
        return API(
            tenant: tenant, applicationID: applicationID, displayName: try row.decode(column: "display_name", as: String.self),
            identifiers: identifiers, permissions: try Self.decodePermissions(row, "permissions"),
            roles: try Self.decodePermissions(row, "roles"),
            accessTokenLifetime: try row.decode(column: "access_token_lifetime", as: Int?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self))
    }

    static func encode(_ permissions: [APIPermission]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(permissions), as: UTF8.self)
    }

    static func decodePermissions(_ row: any SQLRow, _ column: String) throws -> [APIPermission] {
        let text = try row.decode(column: column, as: String.self)
        do {
            return try JSONDecoder().decode([APIPermission].self, from: Data(text.utf8))
        } catch {
            throw StoreError.corrupt("apis \(column): '\(text.prefix(64))'")
        }
    }
}
