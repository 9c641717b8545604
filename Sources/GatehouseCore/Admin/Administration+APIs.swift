import Foundation

/// APIs (resource servers): registered with their identifiers, permissions and roles, backed by a
/// confidential client whose ID is the API's application ID (its credentials are the API's own:
/// a resource server introspects with them).
extension Administration {
    /// Registers an API. Its client is the existing client `applicationID`, or a new confidential
    /// client of that ID with a secret (returned once). `issuers` are the tenant's issuers: the
    /// audience of tokens that name no resource, which no API may claim (its client would see
    /// them all at introspection).
    public func createAPI(
        tenant: TenantName, applicationID: ClientID?, displayName: String, identifiers: [ResourceIndicator],
        accessTokenLifetime: Int? = nil, issuers: Set<String> = [], withSecret: Bool = true
    ) async throws -> (API, NewSecret?) {
        guard try await store.tenant(named: tenant) != nil else { throw AdministrationError.notFound("tenant", tenant.value) }
        guard !identifiers.isEmpty else {
            throw AdministrationError.invalid("identifiers", "required", "an API needs at least one identifier")
        }
        if let issuer = identifiers.first(where: { issuers.contains($0.value) }) {
            throw AdministrationError.invalid(
                "identifiers", "issuer",
                "'\(issuer.value)' is the tenant's issuer (the audience of tokens that name no resource); an API needs an identifier of its own"
            )
        }
        if let lifetime = accessTokenLifetime, !(60...86_400).contains(lifetime) {
            throw AdministrationError.invalid("access_token_lifetime", "range", "an access token lifetime is 60 to 86400 seconds")
        }
        for identifier in identifiers {
            if let other = try await store.api(tenant: tenant, identifier: identifier.value) {
                throw AdministrationError.conflict("identifiers", "'\(identifier.value)' already names API '\(other.applicationID)'")
            }
        }
        let id = try applicationID ?? ClientID(random.uuid().uuidString.lowercased())
        // `api://{application ID}` (and the bare ID) always name an API: no identifier may name
        // another API that way, and no other API may hold this one's.
        for identifier in identifiers {
            let other = API.applicationID(in: identifier.value) ?? (try? ClientID(identifier.value))
            if let other, other != id, try await store.api(tenant: tenant, applicationID: other) != nil {
                throw AdministrationError.conflict("identifiers", "'\(identifier.value)' names API '\(other)'")
            }
        }
        for taken in [API.uriScheme + id.value, id.value] {
            if let other = try await store.api(tenant: tenant, identifier: taken) {
                throw AdministrationError.conflict("application_id", "'\(taken)' is already an identifier of API '\(other.applicationID)'")
            }
        }
        var secret: NewSecret? = nil
        if let client = try await store.client(tenant: tenant, id: id) {
            guard client.type == .confidential else {
                throw AdministrationError.invalid(
                    "application_id", "confidential", "client '\(id)' is public; an API's client holds credentials")
            }
        } else {
            var spec = ClientSpec(id: id, name: displayName)
            spec.grantTypes = []
            if !withSecret { spec.authMethods = [.clientSecretBasic, .clientSecretPost] }
            let created = try await createClient(tenant: tenant, spec: spec, withSecret: withSecret)
            secret = created.1
        }
        let api = API(
            tenant: tenant, applicationID: id, displayName: displayName, identifiers: identifiers,
            accessTokenLifetime: accessTokenLifetime, createdAt: time.now())
        do {
            try await store.createAPI(api)
        } catch StoreError.conflict(let what) {
            throw AdministrationError.conflict(nil, "\(what) in tenant '\(tenant)'")
        }
        try await audit("api.create", tenant: tenant, target: id.value, after: AuditView.api(api))
        return (api, secret)
    }

    /// `clients create --resource R --scope S` for one resource: the API that `resource` names
    /// (a new one, without a secret, if none does) defines each name as a permission and a role,
    /// and the client is granted them.
    func grantShorthand(tenant: TenantName, clientID: ClientID, resource: String, names: [String]) async throws {
        var api: API
        let named = API.applicationID(in: resource)
        if let existing = try await store.api(tenant: tenant, identifier: resource) {
            api = existing
        } else if let named, let existing = try await store.api(tenant: tenant, applicationID: named) {
            api = existing
        } else if let named, try await store.client(tenant: tenant, id: named)?.type == .confidential {
            // `api://{client ID}`: that client's own API, as an Entra app registration exposes one.
            api = try await createAPI(
                tenant: tenant, applicationID: named, displayName: resource, identifiers: [try ResourceIndicator(resource)]
            ).0
        } else {
            api = try await createAPI(
                tenant: tenant, applicationID: nil, displayName: resource, identifiers: [try ResourceIndicator(resource)],
                withSecret: false
            ).0
        }
        let before = api
        var changed = false
        for name in names {
            if api.permission(name) == nil {
                api.permissions.append(APIPermission(name: name))
                changed = true
            }
            if api.role(name) == nil {
                api.roles.append(APIPermission(name: name))
                changed = true
            }
        }
        if changed {
            _ = try await store.updateAPI(api)
            try await audit(
                "api.update", tenant: tenant, target: api.applicationID.value, before: AuditView.api(before), after: AuditView.api(api))
        }
        _ = try await grant(tenant: tenant, clientID: clientID, api: api.applicationID.value, permissions: names, roles: names)
    }

    public func api(tenant: TenantName, _ idOrIdentifier: String) async throws -> API {
        if let id = try? ClientID(idOrIdentifier), let api = try await store.api(tenant: tenant, applicationID: id) { return api }
        if let api = try await store.api(tenant: tenant, identifier: idOrIdentifier) { return api }
        if let api = try await store.api(tenant: tenant, named: idOrIdentifier) { return api }
        throw AdministrationError.notFound("API", idOrIdentifier, tenant: tenant)
    }

    /// Adds a delegated permission (`role: false`) or an application role to an API, with its
    /// description per language; a name it defines already gets the descriptions given.
    public func addPermission(
        tenant: TenantName, api idOrIdentifier: String, name: String, descriptions: [String: String], role: Bool
    ) async throws -> API {
        guard Scope.isValidToken(name[...]), !Client.openIDConnectScopes.contains(name), !name.contains("/"), name != ".default" else {
            throw AdministrationError.invalid(
                "name", "format",
                "'\(name)' cannot be a permission: a scope token without '/', not .default and not an OpenID Connect scope")
        }
        var api = try await api(tenant: tenant, idOrIdentifier)
        guard !BuiltInAdminAPI.isBuiltIn(api.applicationID) else {
            throw AdministrationError.conflict(nil, "the built-in admin API's permissions and roles are fixed (Admin.Read, Admin.Write)")
        }
        let before = api
        let list: WritableKeyPath<API, [APIPermission]> = role ? \.roles : \.permissions
        if let index = api[keyPath: list].firstIndex(where: { $0.name == name }) {
            api[keyPath: list][index].descriptions.merge(descriptions) { _, new in new }
        } else {
            api[keyPath: list].append(APIPermission(name: name, descriptions: descriptions))
        }
        _ = try await store.updateAPI(api)
        try await audit(
            role ? "api.role.add" : "api.permission.add", tenant: tenant, target: api.applicationID.value, before: AuditView.api(before),
            after: AuditView.api(api))
        return api
    }

    /// Grants a client permissions and roles on an API (added to what it has); each must be one
    /// the API defines.
    public func grant(
        tenant: TenantName, clientID: ClientID, api idOrIdentifier: String, permissions: [String], roles: [String]
    ) async throws -> APIAccess {
        try Self.refuseBuiltIn(clientID, "be granted API access")
        guard try await store.client(tenant: tenant, id: clientID) != nil else {
            throw AdministrationError.notFound("client", clientID.value, tenant: tenant)
        }
        let api = try await api(tenant: tenant, idOrIdentifier)
        if let unknown = permissions.first(where: { api.permission($0) == nil }) {
            throw AdministrationError.invalid("permissions", "unknown", "API '\(api.applicationID)' defines no permission '\(unknown)'")
        }
        if let unknown = roles.first(where: { api.role($0) == nil }) {
            throw AdministrationError.invalid("roles", "unknown", "API '\(api.applicationID)' defines no role '\(unknown)'")
        }
        let current = try await store.access(tenant: tenant, clientID: clientID).first { $0.api == api.applicationID }
        var access = current ?? APIAccess(tenant: tenant, clientID: clientID, api: api.applicationID)
        for name in permissions where !access.permissions.contains(name) { access.permissions.append(name) }
        for name in roles where !access.roles.contains(name) { access.roles.append(name) }
        guard try await store.setAccess(access) else { throw AdministrationError.notFound("API", api.applicationID.value, tenant: tenant) }
        if access != current {
            try await audit(
                "client.grant", tenant: tenant, target: clientID.value, before: AuditView.access(current), after: AuditView.access(access))
        }
        return access
    }

    /// Withdraws permissions and roles of a client on an API; with neither given, all of them.
    public func revoke(
        tenant: TenantName, clientID: ClientID, api idOrIdentifier: String, permissions: [String], roles: [String]
    ) async throws -> APIAccess? {
        let api = try await api(tenant: tenant, idOrIdentifier)
        guard var access = try await store.access(tenant: tenant, clientID: clientID).first(where: { $0.api == api.applicationID })
        else { return nil }
        let before = access
        access.permissions.removeAll { permissions.isEmpty && roles.isEmpty || permissions.contains($0) }
        access.roles.removeAll { permissions.isEmpty && roles.isEmpty || roles.contains($0) }
        // Nothing left: no grant (an empty one would still let the client name the API).
        let remaining: APIAccess? = access.permissions.isEmpty && access.roles.isEmpty ? nil : access
        if let remaining {
            _ = try await store.setAccess(remaining)
        } else {
            _ = try await store.removeAccess(tenant: tenant, clientID: clientID, api: api.applicationID)
        }
        try await audit(
            "client.revoke", tenant: tenant, target: clientID.value, before: AuditView.access(before), after: AuditView.access(remaining))
        return remaining
    }
}

extension Administration {
    /// Removes an API and every client's access to it; its client stays (`clients remove`).
    public func removeAPI(tenant: TenantName, api idOrIdentifier: String) async throws -> API {
        let api = try await api(tenant: tenant, idOrIdentifier)
        guard !BuiltInAdminAPI.isBuiltIn(api.applicationID) else {
            throw AdministrationError.conflict(nil, "the built-in admin API cannot be removed")
        }
        _ = try await store.removeAPI(tenant: tenant, applicationID: api.applicationID)
        try await audit("api.remove", tenant: tenant, target: api.applicationID.value, before: AuditView.api(api))
        return api
    }
}
