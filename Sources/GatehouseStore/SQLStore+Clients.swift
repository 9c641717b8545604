import Foundation
import GatehouseCore
import SQLKit

/// Clients and their secrets.
extension SQLStore {
    public func createClient(_ client: Client) async throws {
        try await countingChange {
            let rows = try await db.raw(
                """
                INSERT INTO clients (tenant, client_id, name, client_type, auth_methods, grant_types, allowed_scopes, default_scopes, allowed_resources, jwks, redirect_uris, post_logout_redirect_uris, certificates, enabled, first_party, created_at, backchannel_logout_uri, backchannel_logout_session_required, require_par, require_signed_request_object, require_dpop)
                VALUES (\(bind: client.tenant.value), \(bind: client.id.value), \(bind: client.name), \(bind: client.type.rawValue),
                        \(bind: client.authMethods.map(\.rawValue).sorted().joined(separator: " ")),
                        \(bind: client.grantTypes.map(\.rawValue).sorted().joined(separator: " ")),
                        \(bind: client.allowedScopes.description), \(bind: client.defaultScopes.description),
                        '', \(bind: client.jwks),
                        \(bind: client.redirectURIs.joined(separator: " ")), \(bind: client.postLogoutRedirectURIs.joined(separator: " ")),
                        \(bind: client.certificates.joined(separator: "\n")), \(bind: client.enabled), \(bind: client.firstParty),
                        \(bind: client.createdAt), \(bind: client.backchannelLogoutURI), \(bind: client.backchannelLogoutSessionRequired),
                        \(bind: client.requirePushedAuthorizationRequests), \(bind: client.requireSignedRequestObject),
                        \(bind: client.requireDPoP))
                ON CONFLICT DO NOTHING RETURNING client_id
                """
            ).all()
            if rows.isEmpty { throw StoreError.conflict("client \(client.id)") }
        }
    }

    public func client(tenant: TenantName, id: ClientID) async throws -> Client? {
        try await db.raw("SELECT * FROM clients WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: id.value)").first().map(
            Self.client)
    }

    public func clients(tenant: TenantName) async throws -> [Client] {
        try await db.raw("SELECT * FROM clients WHERE tenant = \(bind: tenant.value) ORDER BY client_id").all().map(Self.client)
    }

    /// A column read into a value type; a value that does not parse is `StoreError.corrupt`
    /// naming the table, the row's key and the column, never a silent default.
    static func parse<T>(_ row: any SQLRow, _ column: String, table: String, key: String, _ make: (String) -> T?) throws -> T {
        let raw = try row.decode(column: column, as: String.self)
        guard let value = make(raw) else {
            throw StoreError.corrupt("\(table) \(key): \(column) '\(raw.prefix(64))'")
        }
        return value
    }

    static func words(_ value: String) -> [String] { value.split(separator: " ").map(String.init) }

    static func client(_ row: any SQLRow) throws -> Client {
        let tenant = try row.decode(column: "tenant", as: String.self)
        let id = try row.decode(column: "client_id", as: String.self)
        var client = Client(
            tenant: try TenantName(tenant),
            id: try ClientID(id),
            name: try row.decode(column: "name", as: String.self),
            type: try parse(row, "client_type", table: "clients", key: "\(tenant)/\(id)", ClientType.init(rawValue:)),
            authMethods: Set(words(try row.decode(column: "auth_methods", as: String.self)).compactMap(ClientAuthMethod.init(rawValue:))),
            grantTypes: Set(words(try row.decode(column: "grant_types", as: String.self)).map(GrantType.init(rawValue:))),
            allowedScopes: Scope(tokens: words(try row.decode(column: "allowed_scopes", as: String.self))),
            defaultScopes: Scope(tokens: words(try row.decode(column: "default_scopes", as: String.self))),
            jwks: try row.decode(column: "jwks", as: String?.self),
            redirectURIs: words(try row.decode(column: "redirect_uris", as: String.self)),
            postLogoutRedirectURIs: words(try row.decode(column: "post_logout_redirect_uris", as: String.self)),
            certificates: ClientCertificate.pemBlocks(try row.decode(column: "certificates", as: String.self)),
            enabled: try row.decode(column: "enabled", as: Bool.self),
            firstParty: try row.decode(column: "first_party", as: Bool.self),
            createdAt: try row.decode(column: "created_at", as: Date.self))
        client.backchannelLogoutURI = try row.decode(column: "backchannel_logout_uri", as: String?.self)
        client.backchannelLogoutSessionRequired = try row.decode(column: "backchannel_logout_session_required", as: Bool.self)
        client.requirePushedAuthorizationRequests = try row.decode(column: "require_par", as: Bool.self)
        client.requireSignedRequestObject = try row.decode(column: "require_signed_request_object", as: Bool.self)
        client.requireDPoP = try row.decode(column: "require_dpop", as: Bool.self)
        return client
    }

    public func updateClient(_ client: Client) async throws -> Bool {
        try await countingChange {
            try await db.raw(
                """
                UPDATE clients SET name = \(bind: client.name),
                    auth_methods = \(bind: client.authMethods.map(\.rawValue).sorted().joined(separator: " ")),
                    grant_types = \(bind: client.grantTypes.map(\.rawValue).sorted().joined(separator: " ")),
                    allowed_scopes = \(bind: client.allowedScopes.description), default_scopes = \(bind: client.defaultScopes.description),
                    jwks = \(bind: client.jwks), redirect_uris = \(bind: client.redirectURIs.joined(separator: " ")),
                    post_logout_redirect_uris = \(bind: client.postLogoutRedirectURIs.joined(separator: " ")),
                    certificates = \(bind: client.certificates.joined(separator: "\n")), enabled = \(bind: client.enabled),
                    first_party = \(bind: client.firstParty), backchannel_logout_uri = \(bind: client.backchannelLogoutURI),
                    backchannel_logout_session_required = \(bind: client.backchannelLogoutSessionRequired),
                    require_par = \(bind: client.requirePushedAuthorizationRequests),
                    require_signed_request_object = \(bind: client.requireSignedRequestObject),
                    require_dpop = \(bind: client.requireDPoP)
                WHERE tenant = \(bind: client.tenant.value) AND client_id = \(bind: client.id.value) RETURNING client_id
                """
            ).first() != nil
        }
    }

    public func setCertificates(tenant: TenantName, id: ClientID, certificates: [String]) async throws -> Bool {
        try await countingChange {
            try await db.raw(
                """
                UPDATE clients SET certificates = \(bind: certificates.joined(separator: "\n"))
                WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: id.value) RETURNING client_id
                """
            ).first() != nil
        }
    }

    public func removeClient(tenant: TenantName, id: ClientID) async throws -> Bool {
        try await countingChange {
            try await transaction {
                try await db.raw("DELETE FROM client_secrets WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: id.value)").run()
                try await db.raw("DELETE FROM api_access WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: id.value)").run()
                try await db.raw(
                    "DELETE FROM client_registrations WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: id.value)"
                ).run()
                // An API it backed goes with it (its credentials were the API's own).
                for table in ["api_identifiers", "api_access", "apis"] {
                    try await db.raw(
                        "DELETE FROM \(unsafeRaw: table) WHERE tenant = \(bind: tenant.value) AND application_id = \(bind: id.value)"
                    ).run()
                }
                let rows = try await db.raw(
                    "DELETE FROM clients WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: id.value) RETURNING client_id"
                ).all()
                return !rows.isEmpty
            }
        }
    }

    public func addSecret(_ secret: ClientSecretRecord) async throws {
        try await countingChange {
            let rows = try await db.raw(
                """
                INSERT INTO client_secrets (tenant, client_id, secret_id, hash, hint, created_at, expires_at)
                VALUES (\(bind: secret.tenant.value), \(bind: secret.clientID.value), \(bind: secret.secretID), \(bind: secret.hash),
                        \(bind: secret.hint), \(bind: secret.createdAt), \(bind: secret.expiresAt))
                ON CONFLICT DO NOTHING RETURNING secret_id
                """
            ).all()
            if rows.isEmpty { throw StoreError.conflict("secret \(secret.secretID)") }
        }
    }

    public func secrets(tenant: TenantName, clientID: ClientID) async throws -> [ClientSecretRecord] {
        try await db.raw(
            """
            SELECT * FROM client_secrets WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: clientID.value) ORDER BY created_at, secret_id
            """
        ).all().map { row in
            ClientSecretRecord(
                tenant: try TenantName(try row.decode(column: "tenant", as: String.self)),
                clientID: try ClientID(try row.decode(column: "client_id", as: String.self)),
                secretID: try row.decode(column: "secret_id", as: String.self),
                hash: try row.decode(column: "hash", as: String.self),
                hint: try row.decode(column: "hint", as: String.self),
                createdAt: try row.decode(column: "created_at", as: Date.self),
                expiresAt: try row.decode(column: "expires_at", as: Date?.self),
                lastUsedAt: try row.decode(column: "last_used_at", as: Date?.self))
        }
    }

    public func noteSecretUse(_ uses: [SecretUse]) async throws {
        // Bookkeeping, not a registration change: the change counter stays (no cache reloads).
        for use in uses {
            try await db.raw(
                """
                UPDATE client_secrets SET last_used_at = \(bind: use.at)
                WHERE tenant = \(bind: use.tenant.value) AND client_id = \(bind: use.clientID.value) AND secret_id = \(bind: use.secretID)
                    AND (last_used_at IS NULL OR last_used_at < \(bind: use.at))
                """
            ).run()
        }
    }

    public func removeSecret(tenant: TenantName, clientID: ClientID, secretID: String) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                """
                DELETE FROM client_secrets WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: clientID.value) AND secret_id = \(bind: secretID)
                RETURNING secret_id
                """
            ).all()).isEmpty
        }
    }
}
