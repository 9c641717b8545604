import Foundation
import GatehouseCore
import SQLKit

/// Migration 11's data step: what `clients create --resource R --scope S` recorded on a client
/// before APIs were objects becomes APIs and grants (`ResourceShorthand`), so that every client
/// keeps exactly the access it had:
/// - each distinct resource URI of a tenant becomes an API (the one that already has it as an
///   identifier; for `api://{client ID}` of a confidential client, that client's own API; else a
///   new one: a confidential client with a new GUID as its application ID and no secret), with
///   the URI as display name and identifier;
/// - each scope of a client with resources that is not an OpenID Connect scope becomes a
///   permission and a role of each of its resources (`{resource}/{name}`: permission `name` of
///   that resource), granted to the client in the order of its resources;
/// - the client keeps only its other scopes (OpenID Connect ones, and those of a client without
///   resources: tokens whose audience is the issuer); its default scopes stay as they were.
enum ResourcesBecomeAPIs {
    static func run(on db: any SQLDatabase, now: Date) async throws {
        let rows = try await db.raw(
            """
            SELECT tenant, client_id, allowed_scopes, allowed_resources FROM clients
            WHERE allowed_resources <> '' ORDER BY tenant, client_id
            """
        ).all()
        guard !rows.isEmpty else { return }
        // (tenant, resource) → application ID; (tenant, application ID) → names its grants use.
        var apiOf: [String: String] = [:]
        var names: [String: (tenant: String, api: String, names: [String])] = [:]
        for row in rows {
            let tenant = try row.decode(column: "tenant", as: String.self)
            let clientID = try row.decode(column: "client_id", as: String.self)
            let scopes = SQLStore.words(try row.decode(column: "allowed_scopes", as: String.self))
            let resources = SQLStore.words(try row.decode(column: "allowed_resources", as: String.self)).filter {
                (try? ResourceIndicator($0)) != nil
            }
            let split = ResourceShorthand.split(scopes: scopes, resources: resources)
            for (position, entry) in split.apis.enumerated() {
                let key = "\(tenant)\u{0}\(entry.resource)"
                let applicationID: String
                if let known = apiOf[key] {
                    applicationID = known
                } else {
                    applicationID = try await api(for: entry.resource, tenant: tenant, db: db, now: now)
                    apiOf[key] = applicationID
                }
                let apiKey = "\(tenant)\u{0}\(applicationID)"
                var defined = names[apiKey]?.names ?? []
                for name in entry.names where !defined.contains(name) { defined.append(name) }
                names[apiKey] = (tenant, applicationID, defined)
                try await grant(entry.names, to: clientID, on: applicationID, tenant: tenant, position: position, db: db)
            }
            try await db.raw(
                """
                UPDATE clients SET allowed_scopes = \(bind: split.plain.joined(separator: " ")), allowed_resources = ''
                WHERE tenant = \(bind: tenant) AND client_id = \(bind: clientID)
                """
            ).run()
        }
        // Each API defines the names its grants use, as a permission and as a role.
        for entry in names.values {
            let applicationID = entry.api
            guard
                let row = try await db.raw(
                    "SELECT permissions, roles FROM apis WHERE tenant = \(bind: entry.tenant) AND application_id = \(bind: applicationID)"
                ).first()
            else { continue }
            var permissions = try SQLStore.decodePermissions(row, "permissions")
            var roles = try SQLStore.decodePermissions(row, "roles")
            for name in entry.names {
                if !permissions.contains(where: { $0.name == name }) { permissions.append(APIPermission(name: name)) }
                if !roles.contains(where: { $0.name == name }) { roles.append(APIPermission(name: name)) }
            }
            try await db.raw(
                """
                UPDATE apis SET permissions = \(bind: try SQLStore.encode(permissions)), roles = \(bind: try SQLStore.encode(roles))
                WHERE tenant = \(bind: entry.tenant) AND application_id = \(bind: applicationID)
                """
            ).run()
        }
        try await db.raw("UPDATE change_counter SET value = value + 1 WHERE id = 1").run()
    }

    /// Grants `names` as permissions and roles; a grant the client already has (made with
    /// `clients grant` before this migration) gets them added and keeps its place.
    private static func grant(
        _ names: [String], to clientID: String, on applicationID: String, tenant: String, position: Int, db: any SQLDatabase
    )
        async throws
    {
        let existing = try await db.raw(
            """
            SELECT permissions, roles FROM api_access
            WHERE tenant = \(bind: tenant) AND client_id = \(bind: clientID) AND application_id = \(bind: applicationID)
            """
        ).first()
        guard let existing else {
            let granted = names.joined(separator: " ")
            try await db.raw(
                """
                INSERT INTO api_access (tenant, client_id, application_id, permissions, roles, position)
                VALUES (\(bind: tenant), \(bind: clientID), \(bind: applicationID), \(bind: granted), \(bind: granted), \(bind: position))
                """
            ).run()
            return
        }
        func merged(_ column: String) throws -> String {
            var list = SQLStore.words(try existing.decode(column: column, as: String.self))
            for name in names where !list.contains(name) { list.append(name) }
            return list.joined(separator: " ")
        }
        try await db.raw(
            """
            UPDATE api_access SET permissions = \(bind: try merged("permissions")), roles = \(bind: try merged("roles"))
            WHERE tenant = \(bind: tenant) AND client_id = \(bind: clientID) AND application_id = \(bind: applicationID)
            """
        ).run()
    }

    /// The application ID of the API that `resource` names in the tenant, creating it (and its
    /// client, without a secret) if there is none.
    private static func api(for resource: String, tenant: String, db: any SQLDatabase, now: Date) async throws -> String {
        if let row = try await db.raw(
            "SELECT application_id FROM api_identifiers WHERE tenant = \(bind: tenant) AND identifier = \(bind: resource)"
        ).first() {
            return try row.decode(column: "application_id", as: String.self)
        }
        // `api://{client ID}` names that client's own API, as an Entra app registration exposes one.
        var own: String? = nil
        if let named = API.applicationID(in: resource)?.value {
            if try await db.raw("SELECT 1 AS x FROM apis WHERE tenant = \(bind: tenant) AND application_id = \(bind: named)").first() != nil
            {
                return named
            }
            let client = try await db.raw(
                "SELECT client_type FROM clients WHERE tenant = \(bind: tenant) AND client_id = \(bind: named)"
            ).first()
            if try client?.decode(column: "client_type", as: String.self) == ClientType.confidential.rawValue { own = named }
        }
        let applicationID = own ?? UUID().uuidString.lowercased()
        if own == nil {
            try await db.raw(
                """
                INSERT INTO clients (tenant, client_id, name, client_type, auth_methods, grant_types, allowed_scopes, default_scopes, allowed_resources, created_at)
                VALUES (\(bind: tenant), \(bind: applicationID), \(bind: resource), 'confidential', 'client_secret_basic client_secret_post',
                        '', '', '', '', \(bind: now))
                """
            ).run()
        }
        try await db.raw(
            """
            INSERT INTO apis (tenant, application_id, display_name, permissions, roles, access_token_lifetime, created_at)
            VALUES (\(bind: tenant), \(bind: applicationID), \(bind: resource), '[]', '[]', NULL, \(bind: now))
            """
        ).run()
        try await db.raw(
            """
            INSERT INTO api_identifiers (tenant, identifier, application_id, position)
            VALUES (\(bind: tenant), \(bind: resource), \(bind: applicationID), 0)
            """
        ).run()
        return applicationID
    }
}
