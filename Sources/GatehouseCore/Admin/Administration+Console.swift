import Foundation

/// Each tenant's built-in console client: a public client with the authorization code flow and
/// PKCE through which the console (`/{tenant}/console`) signs its operator in. Its redirect URI is
/// not stored: it is derived from the server's base URL (`redirectURI(baseURL:tenant:)`), so it
/// always points at the console of this server and no one can change it.
public enum BuiltInConsole {
    public static let clientID = "gatehouse-console"
    public static let name = "Gatehouse console"

    /// Whether `id` names the built-in console client (which cannot be removed or changed).
    public static func isBuiltIn(_ id: ClientID) -> Bool { id.value == clientID }

    /// The console's address for a tenant.
    public static func home(baseURL: String, tenant: String) -> String { "\(baseURL)/\(tenant)/console" }

    /// The one redirect URI of the console client of `tenant`.
    public static func redirectURI(baseURL: String, tenant: String) -> String { home(baseURL: baseURL, tenant: tenant) + "/callback" }

    /// The stored client as the server uses it: with the console's redirect and post-logout URIs.
    public static func withDerivedURIs(_ client: Client, baseURL: String) -> Client {
        guard isBuiltIn(client.id) else { return client }
        var client = client
        client.redirectURIs = [redirectURI(baseURL: baseURL, tenant: client.tenant.value)]
        client.postLogoutRedirectURIs = [home(baseURL: baseURL, tenant: client.tenant.value)]
        return client
    }

    static func client(tenant: TenantName, now: Date) throws -> Client {
        Client(
            tenant: tenant, id: try ClientID(clientID), name: name, type: .public, authMethods: [.none],
            grantTypes: [.authorizationCode], allowedScopes: Scope(tokens: ["openid", "profile"]),
            defaultScopes: Scope(tokens: ["openid"]), firstParty: true, createdAt: now)
    }
}

extension Administration {
    /// Refuses a change to one of the built-in clients (the console's, the admin API's own):
    /// their registration is the server's, so that no one can give them a redirect URI, a
    /// credential or API access (the console client signs users in without a consent page).
    static func refuseBuiltIn(_ id: ClientID, _ what: String) throws {
        if BuiltInConsole.isBuiltIn(id) || BuiltInAdminAPI.isBuiltIn(id) {
            throw AdministrationError.conflict(nil, "client '\(id)' is built in; it cannot \(what)")
        }
    }

    /// Gives `tenant` its console client if it has none (a tenant made before there was one).
    /// Returns whether it was created; a client of that ID that is not the built-in one (another
    /// type or flow) is refused, never adopted.
    @discardableResult
    public func ensureConsoleClient(tenant: TenantName) async throws -> Bool {
        let id = try ClientID(BuiltInConsole.clientID)
        if let existing = try await store.client(tenant: tenant, id: id) {
            guard existing.type == .public, existing.grantTypes == [.authorizationCode] else {
                throw AdministrationError.conflict(
                    nil, "tenant '\(tenant)' has a client '\(id)' that is not the built-in console's; remove or rename it")
            }
            return false
        }
        let client = try BuiltInConsole.client(tenant: tenant, now: time.now())
        do {
            try await store.createClient(client)
        } catch StoreError.conflict(_) {
            return false  // another node made it at the same time
        }
        try await audit("client.create", tenant: tenant, target: id.value, after: AuditView.client(client))
        return true
    }

    /// Every tenant gets its console client (at start, like the admin API). Returns the tenants
    /// given one, and those that could not be given one with the reason.
    public func ensureConsoleClients() async throws -> (created: [TenantName], refused: [(TenantName, String)]) {
        var created: [TenantName] = []
        var refused: [(TenantName, String)] = []
        for tenant in try await store.tenants() {
            do {
                if try await ensureConsoleClient(tenant: tenant.name) { created.append(tenant.name) }
            } catch let error as AdministrationError {
                refused.append((tenant.name, error.message))
            }
        }
        return (created, refused)
    }
}
