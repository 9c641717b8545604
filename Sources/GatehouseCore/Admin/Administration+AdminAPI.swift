import Foundation

/// Each tenant's built-in admin API: a registered API whose application roles `Admin.Read` and
/// `Admin.Write` (and delegated permissions of the same names) let a principal of that tenant,
/// or of the administrative tenant, use the admin API.
public enum BuiltInAdminAPI {
    public static let applicationID = "gatehouse-admin"
    public static let identifier = "api://gatehouse-admin"
    public static let readRole = "Admin.Read"
    public static let writeRole = "Admin.Write"

    static func api(tenant: TenantName, now: Date) throws -> API {
        let descriptions = [
            readRole: ["en": "Read the tenant's configuration and logs", "vi": "Đọc cấu hình và nhật ký của tenant"],
            writeRole: ["en": "Change the tenant's configuration", "vi": "Thay đổi cấu hình của tenant"],
        ]
        let entries = [readRole, writeRole].map { APIPermission(name: $0, descriptions: descriptions[$0] ?? [:]) }
        return API(
            tenant: tenant, applicationID: try ClientID(applicationID), displayName: "Gatehouse admin API",
            identifiers: [try ResourceIndicator(identifier)], permissions: entries, roles: entries, createdAt: now)
    }

    /// Whether `id` names the built-in admin API (which cannot be removed).
    public static func isBuiltIn(_ id: ClientID) -> Bool { id.value == applicationID }

    /// The setting that records which tenant `admin bootstrap` made administrative: a configured
    /// administrative tenant counts only when the database says the same (a tenant that merely
    /// has the name never becomes administrative by accident).
    public static let administrativeTenantSetting = "administrative_tenant"
}

extension Administration {
    /// Gives `tenant` its admin API if it has none (a tenant made before there was one).
    /// Returns whether it was created.
    @discardableResult
    public func ensureAdminAPI(tenant: TenantName) async throws -> Bool {
        let id = try ClientID(BuiltInAdminAPI.applicationID)
        if try await store.api(tenant: tenant, applicationID: id) != nil { return false }
        let now = time.now()
        if let other = try await store.api(tenant: tenant, identifier: BuiltInAdminAPI.identifier) {
            throw AdministrationError.conflict(
                nil, "API '\(other.applicationID)' holds the identifier \(BuiltInAdminAPI.identifier) that the admin API needs")
        }
        // A client of that ID made by someone else (its secrets and grants theirs) is not adopted.
        if try await store.client(tenant: tenant, id: id) != nil {
            throw AdministrationError.conflict(
                nil, "tenant '\(tenant)' has a client '\(id)' that is not the built-in admin API's; remove or rename it")
        }
        // The API's own client: confidential, with no secret and no grant (nothing signs in as it).
        let client = Client(
            tenant: tenant, id: id, name: "Gatehouse admin API", type: .confidential, authMethods: [.clientSecretBasic, .clientSecretPost],
            grantTypes: [], allowedScopes: .empty, defaultScopes: .empty, createdAt: now)
        try await store.createClient(client)
        try await audit("client.create", tenant: tenant, target: id.value, after: AuditView.client(client))
        let api = try BuiltInAdminAPI.api(tenant: tenant, now: now)
        try await store.createAPI(api)
        try await audit("api.create", tenant: tenant, target: api.applicationID.value, after: AuditView.api(api))
        return true
    }

    /// Every tenant gets its admin API (at server start). Returns the tenants given one, and those
    /// that could not be given one with the reason (a client of its ID that is someone else's).
    public func ensureAdminAPIs() async throws -> (created: [TenantName], refused: [(TenantName, String)]) {
        var created: [TenantName] = []
        var refused: [(TenantName, String)] = []
        for tenant in try await store.tenants() {
            do {
                if try await ensureAdminAPI(tenant: tenant.name) { created.append(tenant.name) }
            } catch let error as AdministrationError {
                refused.append((tenant.name, error.message))
            }
        }
        return (created, refused)
    }

    /// The tenants an administrator can reach, in name order, a page at a time.
    public func tenants(reachableFrom tenant: TenantName?, cursor: String?, limit: Int) async throws -> Page<Tenant> {
        let all = try await store.tenants().filter { tenant == nil || $0.name == tenant }.sorted { $0.name.value < $1.name.value }
        return try Page.slice(all, after: cursor, limit: limit) { $0.name.value }
    }

    public func tenant(_ name: TenantName) async throws -> Tenant {
        guard let tenant = try await store.tenant(named: name) else { throw AdministrationError.notFound("tenant", name.value) }
        return tenant
    }

    public func clients(tenant: TenantName, cursor: String?, limit: Int) async throws -> Page<Client> {
        _ = try await self.tenant(tenant)
        return try Page.slice(try await store.clients(tenant: tenant).sorted { $0.id.value < $1.id.value }, after: cursor, limit: limit) {
            $0.id.value
        }
    }

    public func client(tenant: TenantName, id: ClientID) async throws -> Client {
        guard let client = try await store.client(tenant: tenant, id: id) else {
            throw AdministrationError.notFound("client", id.value, tenant: tenant)
        }
        return client
    }

    public func apis(tenant: TenantName, cursor: String?, limit: Int) async throws -> Page<API> {
        _ = try await self.tenant(tenant)
        return try Page.slice(
            try await store.apis(tenant: tenant).sorted { $0.applicationID.value < $1.applicationID.value }, after: cursor, limit: limit
        ) { $0.applicationID.value }
    }

    public func users(tenant: TenantName, cursor: String?, limit: Int) async throws -> Page<User> {
        _ = try await self.tenant(tenant)
        return try Page.slice(try await store.users(tenant: tenant).sorted { $0.id < $1.id }, after: cursor, limit: limit) { $0.id }
    }
}

extension Administration {
    /// What `admin bootstrap` made (or found).
    public struct Bootstrap: Sendable {
        public let tenant: Tenant
        public let tenantCreated: Bool
        public let user: User?
        public let client: Client
        /// The automation client's secret, if the client was made now (shown once).
        public let secret: NewSecret?
    }

    /// Makes the administrative tenant (with its admin API), a first administrator holding
    /// `Admin.Write` (when `username` is given; made with `password` if new) and an automation
    /// client holding `Admin.Write` through client credentials. Run again, it keeps what exists.
    public func bootstrap(
        tenant name: TenantName, username: String?, password: String?, passwords: any PasswordHasher, clientID: ClientID
    ) async throws -> Bootstrap {
        // Checked before anything is recorded: a new administrator needs a password; an
        // automation client of that ID must be the one an earlier bootstrap made.
        if let username, (try? await findUser(tenant: name, username)) == nil, password == nil {
            throw AdministrationError.invalid("password", "required", "a new administrator needs a password")
        }
        if try await store.client(tenant: name, id: clientID) != nil,
            !(try await store.access(tenant: name, clientID: clientID)).contains(where: {
                BuiltInAdminAPI.isBuiltIn($0.api) && $0.roles.contains(BuiltInAdminAPI.writeRole)
            })
        {
            throw AdministrationError.conflict(
                "client_id", "client '\(clientID)' exists in tenant '\(name)' and does not hold Admin.Write; choose another client ID")
        }
        // One administrative tenant per database, recorded here.
        let recorded = try await store.setting(BuiltInAdminAPI.administrativeTenantSetting, insertingIfAbsent: name.value)
        guard recorded == name.value else {
            throw AdministrationError.conflict(
                nil, "this database's administrative tenant is '\(recorded)'; set gatehouse.admin_tenant to it")
        }
        var created = false
        let tenant: Tenant
        if let existing = try await store.tenant(named: name) {
            tenant = existing
            try await ensureAdminAPI(tenant: name)
        } else {
            tenant = try await createTenant(name: name, displayName: "Administration")
            created = true
        }
        var user: User? = nil
        if let username {
            if let existing = try? await findUser(tenant: name, username) {
                user = existing
            } else {
                guard let password else {
                    throw AdministrationError.invalid("password", "required", "a new administrator needs a password")
                }
                user = try await createUser(
                    tenant: name, username: username, email: nil, displayName: username, password: password, passwords: passwords)
            }
            if let user {
                _ = try await assignRole(tenant: name, user: user.id, api: BuiltInAdminAPI.applicationID, role: BuiltInAdminAPI.writeRole)
            }
        }
        var secret: NewSecret? = nil
        let client: Client
        if let existing = try await store.client(tenant: name, id: clientID) {
            client = existing
        } else {
            var spec = ClientSpec(id: clientID, name: "Gatehouse automation")
            spec.grantTypes = [.clientCredentials]
            (client, secret) = try await createClient(tenant: name, spec: spec)
        }
        _ = try await grant(
            tenant: name, clientID: client.id, api: BuiltInAdminAPI.applicationID, permissions: [], roles: [BuiltInAdminAPI.writeRole])
        return Bootstrap(tenant: tenant, tenantCreated: created, user: user, client: client, secret: secret)
    }
}
