import Foundation

/// A tenant's rules for clients that register themselves (RFC 7591) and for URLs that others
/// choose (client ID metadata documents, `jwks_uri`).
extension Administration {
    /// Changes the tenant's client registration settings (nil leaves each as it is). `apis` are
    /// identifiers or application IDs of the tenant's APIs, or `["*"]` for any API a client names.
    public func setClientRegistration(
        tenant name: TenantName, policy: ClientRegistrationPolicy? = nil, apis: [String]? = nil, allowLocalFetches: Bool? = nil
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
                let identifier = api.identifiers.first?.value ?? api.applicationID.value
                if !kept.contains(identifier) { kept.append(identifier) }
            }
            settings.apis = kept
        }
        if let allowLocalFetches { settings.allowLocalFetches = allowLocalFetches }
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
        ]
    }
}
