import Foundation

/// A tenant's rules for clients that register themselves (RFC 7591) and for URLs that others
/// choose (client ID metadata documents, `jwks_uri`).
extension Administration {
    /// Changes the tenant's client registration settings (nil leaves each as it is). `apis` are
    /// identifiers or application IDs of the tenant's APIs, or `["*"]` for any API a client names.
    public func setClientRegistration(
        tenant name: TenantName, policy: ClientRegistrationPolicy? = nil, apis: [String]? = nil, allowLocalFetches: Bool? = nil,
        metadataDocuments: Bool? = nil
    ) async throws -> Tenant {
        guard let before = try await store.tenant(named: name) else { throw AdministrationError.notFound("tenant", name.value) }
        var settings = before.clientRegistration
        if let policy { settings.policy = policy }
        if let apis {
            guard apis.count <= 50 else { throw AdministrationError.invalid("registration_apis", "count", "at most 50 APIs") }
            var kept: [String] = []
            for value in apis {
                if value == "*" {
                    guard apis.count == 1 else {
                        throw AdministrationError.invalid("registration_apis", "format", "'*' (any API) stands alone")
                    }
                    kept = ["*"]
                    continue
                }
                guard let api = try await store.api(tenant: name, named: value) else {
                    throw AdministrationError.invalid("registration_apis", "exists", "no API '\(value.prefix(100))' in tenant \(name)")
                }
                guard !BuiltInAdminAPI.isBuiltIn(api.applicationID) else {
                    throw AdministrationError.invalid(
                        "registration_apis", "admin", "the admin API is never open to clients that register themselves")
                }
                let identifier = api.identifiers.first?.value ?? api.applicationID.value
                if !kept.contains(identifier) { kept.append(identifier) }
            }
            settings.apis = kept
        }
        if let allowLocalFetches { settings.allowLocalFetches = allowLocalFetches }
        if let metadataDocuments { settings.metadataDocuments = metadataDocuments }
        _ = try await store.setClientRegistration(settings, tenant: name)
        var after = before
        after.clientRegistration = settings
        try await audit(
            "tenant.client_registration.update", tenant: name, target: name.value,
            before: AuditView.keys(Self.auditKeys(before.clientRegistration)), after: AuditView.keys(Self.auditKeys(settings)))
        return after
    }

    static func auditKeys(_ settings: ClientRegistrationSettings) -> [String: String?] {
        [
            "client_registration": settings.policy.rawValue, "registration_apis": settings.apis.joined(separator: " "),
            "allow_local_fetches": String(settings.allowLocalFetches),
            "client_id_metadata_documents": String(settings.metadataDocuments),
        ]
    }

    /// A new initial access token: its value is shown once and stored only as a keyed hash.
    public struct NewInitialAccessToken: Sendable {
        public let token: InitialAccessToken
        public let value: String
    }

    /// Makes an initial access token for the tenant (RFC 7591 §3): good for `uses`
    /// registrations (1-1000) until `lifetime` (1 hour to 90 days) has passed.
    public func createInitialAccessToken(
        tenant: TenantName, label: String, lifetime: TimeInterval = 7 * 86_400, uses: Int = 1
    ) async throws -> NewInitialAccessToken {
        guard try await store.tenant(named: tenant) != nil else { throw AdministrationError.notFound("tenant", tenant.value) }
        guard (3_600...(90 * 86_400)).contains(lifetime) else {
            throw AdministrationError.invalid("lifetime", "range", "an initial access token lives 1 hour to 90 days")
        }
        guard (1...1_000).contains(uses) else {
            throw AdministrationError.invalid("uses", "range", "an initial access token makes 1 to 1000 registrations")
        }
        let label = label.trimmingCharacters(in: .whitespaces)
        guard label.count <= 200, !label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw AdministrationError.invalid("label", "format", "a label has at most 200 characters and no control characters")
        }
        let value = random.token(byteCount: 32)
        let now = time.now()
        let token = InitialAccessToken(
            tenant: tenant, id: random.token(byteCount: 6), hash: hasher.hash(value), label: label, createdAt: now,
            expiresAt: now.addingTimeInterval(lifetime), usesLeft: uses)
        try await store.addInitialAccessToken(token)
        try await audit(
            "tenant.initial_access_token.create", tenant: tenant, target: token.id,
            after: AuditView.keys([
                "label": label, "uses": String(uses), "expires_at": ISO8601DateFormatter().string(from: token.expiresAt),
            ]))
        return NewInitialAccessToken(token: token, value: value)
    }

    public func initialAccessTokens(tenant: TenantName) async throws -> [InitialAccessToken] {
        guard try await store.tenant(named: tenant) != nil else { throw AdministrationError.notFound("tenant", tenant.value) }
        return try await store.initialAccessTokens(tenant: tenant)
    }

    public func removeInitialAccessToken(tenant: TenantName, id: String) async throws {
        guard try await store.removeInitialAccessToken(tenant: tenant, id: id) else {
            throw AdministrationError.notFound("initial access token", id, tenant: tenant)
        }
        try await audit("tenant.initial_access_token.remove", tenant: tenant, target: id)
    }
}
