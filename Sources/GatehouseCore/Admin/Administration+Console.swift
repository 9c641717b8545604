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

    /// The stored client as the server uses it: the console's (or the account page's) redirect
    /// and post-logout URIs.
    public static func withDerivedURIs(_ client: Client, baseURL: String) -> Client {
        let home: String
        if isBuiltIn(client.id) {
            home = Self.home(baseURL: baseURL, tenant: client.tenant.value)
        } else if BuiltInAccount.isBuiltIn(client.id) {
            home = BuiltInAccount.home(baseURL: baseURL, tenant: client.tenant.value)
        } else {
            return client
        }
        var client = client
        client.redirectURIs = [home + "/callback"]
        client.postLogoutRedirectURIs = [home]
        return client
    }

    static func client(tenant: TenantName, now: Date) throws -> Client {
        Client(
            tenant: tenant, id: try ClientID(clientID), name: name, type: .public, authMethods: [.none],
            grantTypes: [.authorizationCode], allowedScopes: Scope(tokens: ["openid", "profile"]),
            defaultScopes: Scope(tokens: ["openid"]), firstParty: true, createdAt: now)
    }
}

/// Each tenant's built-in account page client (`/{tenant}/account`): like the console's, a public
/// first-party client with the authorization code flow and PKCE whose redirect URI is derived
/// from the base URL; any user of the tenant may use it (the page shows only their own account).
public enum BuiltInAccount {
    public static let clientID = "gatehouse-account"
    public static let name = "Account page"

    public static func isBuiltIn(_ id: ClientID) -> Bool { id.value == clientID }
    public static func home(baseURL: String, tenant: String) -> String { "\(baseURL)/\(tenant)/account" }
    public static func redirectURI(baseURL: String, tenant: String) -> String { home(baseURL: baseURL, tenant: tenant) + "/callback" }

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
        if BuiltInConsole.isBuiltIn(id) || BuiltInAccount.isBuiltIn(id) || BuiltInAdminAPI.isBuiltIn(id) {
            throw AdministrationError.conflict(nil, "client '\(id)' is built in; it cannot \(what)")
        }
    }

    /// Gives `tenant` its console and account page clients if it lacks them (a tenant made before
    /// there were). Returns whether one was created; a client of such an ID that is not the
    /// built-in one (another type or flow) is refused, never adopted.
    @discardableResult
    public func ensureConsoleClient(tenant: TenantName) async throws -> Bool {
        let console = try await ensureBuiltInClient(tenant: tenant, BuiltInConsole.client(tenant: tenant, now: time.now()))
        let account = try await ensureBuiltInClient(tenant: tenant, BuiltInAccount.client(tenant: tenant, now: time.now()))
        return console || account
    }

    private func ensureBuiltInClient(tenant: TenantName, _ client: Client) async throws -> Bool {
        let id = client.id
        if let existing = try await store.client(tenant: tenant, id: id) {
            guard existing.type == .public, existing.grantTypes == [.authorizationCode] else {
                throw AdministrationError.conflict(
                    nil, "tenant '\(tenant)' has a client '\(id)' that is not the built-in one; remove or rename it")
            }
            return false
        }
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
