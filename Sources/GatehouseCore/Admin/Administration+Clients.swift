import Foundation

/// Changing a client after it was created: the same rules as creating one, its secrets and
/// certificates kept (`clients update`).
extension Administration {
    /// What to change; nil leaves a property as it is. Lists replace the registered ones.
    public struct ClientChange: Sendable {
        public var name: String?
        public var authMethods: Set<ClientAuthMethod>?
        public var grantTypes: Set<GrantType>?
        /// The client's scopes; with `resources`, split as on `clients create` (`ResourceShorthand`):
        /// the API names are granted on those APIs, the others stay the client's own.
        public var scopes: Scope?
        public var defaultScopes: Scope?
        public var resources: [ResourceIndicator] = []
        public var redirectURIs: [String]?
        public var postLogoutRedirectURIs: [String]?
        /// A new JWKS (`.some(nil)` removes it).
        public var jwks: String??
        /// Certificates (PEM) to register besides those the client has, as `addCertificate` does;
        /// with `authMethods` `[.privateKeyJWT]` this moves a client from secrets to certificates
        /// in one change.
        public var addCertificates: [String] = []
        /// Disables (false) or enables (true) the client.
        public var enabled: Bool?
        /// Marks the client first-party (its users see no consent page) or not.
        public var firstParty: Bool?
        /// A new back-channel logout URI (`.some(nil)` removes it).
        public var backchannelLogoutURI: String??
        public var backchannelLogoutSessionRequired: Bool?
        public var requirePushedAuthorizationRequests: Bool?
        public var requireSignedRequestObject: Bool?
        public var requireDPoP: Bool?

        public init() {}
    }

    /// Applies `change` to a client; its ID, type, secrets, certificates and existing API grants stay.
    public func updateClient(tenant: TenantName, id: ClientID, change: ClientChange) async throws -> Client {
        try Self.refuseBuiltIn(id, "be changed")
        guard let before = try await store.client(tenant: tenant, id: id) else {
            throw AdministrationError.notFound("client", id.value, tenant: tenant)
        }
        var client = before
        if let name = change.name { client.name = name }
        if let methods = change.authMethods { client.authMethods = methods }
        if let grants = change.grantTypes { client.grantTypes = grants }
        if let uris = change.redirectURIs { client.redirectURIs = uris }
        if let uris = change.postLogoutRedirectURIs { client.postLogoutRedirectURIs = uris }
        if let jwks = change.jwks { client.jwks = jwks }
        if let enabled = change.enabled { client.enabled = enabled }
        for pem in change.addCertificates {
            guard let parsed = try? ClientCertificate(pem: pem) else {
                throw AdministrationError.invalid("certificates", "format", "not a readable PEM X.509 certificate")
            }
            guard !client.certificates.compactMap({ try? ClientCertificate(pem: $0) }).contains(where: { $0.sha256 == parsed.sha256 })
            else {
                throw AdministrationError.conflict("certificate", "this certificate is registered already")
            }
            client.certificates.append(pem)
        }
        if let firstParty = change.firstParty { client.firstParty = firstParty }
        if let uri = change.backchannelLogoutURI { client.backchannelLogoutURI = uri }
        if let required = change.backchannelLogoutSessionRequired { client.backchannelLogoutSessionRequired = required }
        if let required = change.requirePushedAuthorizationRequests { client.requirePushedAuthorizationRequests = required }
        if let required = change.requireSignedRequestObject { client.requireSignedRequestObject = required }
        if let required = change.requireDPoP { client.requireDPoP = required }
        let shorthand = ResourceShorthand.split(
            scopes: change.scopes?.tokens ?? (change.resources.isEmpty ? client.allowedScopes.tokens : []),
            resources: change.resources.map(\.value))
        if change.scopes != nil || !change.resources.isEmpty { client.allowedScopes = Scope(tokens: shorthand.plain) }
        if let defaults = change.defaultScopes { client.defaultScopes = defaults }
        try Self.checkRegistration(client)
        for entry in shorthand.apis {
            try await grantShorthand(tenant: tenant, clientID: id, resource: entry.resource, names: entry.names)
        }
        // Each default scope must be one the client may ask for.
        let access = ClientAccess(client: client, apis: try await ClientRecord.grantedAPIs(of: client, in: store))
        for token in client.defaultScopes.tokens {
            let allowed =
                client.allows(scope: token)
                || (try? ScopeAndAudience.permission(token, targets: [], access: access, application: false)) != nil
                || (try? ScopeAndAudience.permission(token, targets: [], access: access, application: true)) != nil
            guard allowed else {
                throw AdministrationError.invalid("default_scopes", "allowed", "default scope '\(token)' is not one the client may request")
            }
        }
        guard try await store.updateClient(client) else { throw AdministrationError.notFound("client", id.value, tenant: tenant) }
        try await audit(
            "client.update", tenant: tenant, target: id.value, before: AuditView.client(before), after: AuditView.client(client))
        return client
    }

    /// Removes one of a client's certificates, named by its thumbprint (SHA-256 base64url or hex,
    /// or the SHA-1 hex that `add-certificate` prints); the client must keep a way to authenticate.
    public func removeCertificate(tenant: TenantName, clientID: ClientID, thumbprint: String) async throws -> Client {
        guard let before = try await store.client(tenant: tenant, id: clientID) else {
            throw AdministrationError.notFound("client", clientID.value, tenant: tenant)
        }
        let wanted = thumbprint.lowercased()
        let kept = before.certificates.filter { pem in
            guard let certificate = try? ClientCertificate(pem: pem) else { return true }
            let sha256Hex = certificate.sha256.map { String(format: "%02x", $0) }.joined()
            return
                !(Base64URL.encode(certificate.sha256) == thumbprint || sha256Hex == wanted
                || certificate.thumbprintHex.lowercased().replacingOccurrences(of: ":", with: "")
                    == wanted.replacingOccurrences(of: ":", with: ""))
        }
        guard kept.count < before.certificates.count else {
            throw AdministrationError.notFound("certificate", thumbprint, tenant: tenant)
        }
        var after = before
        after.certificates = kept
        try Self.checkRegistration(after)
        _ = try await store.setCertificates(tenant: tenant, id: clientID, certificates: kept)
        try await audit(
            "client.certificate.remove", tenant: tenant, target: clientID.value, before: AuditView.client(before),
            after: AuditView.client(after))
        return after
    }

    /// The rules every registration keeps (on create and on change): auth methods that fit the
    /// client type, keys for private_key_jwt, readable certificates, usable redirect URIs, a
    /// redirect URI for the code flow.
    static func checkRegistration(_ client: Client) throws {
        let methods = client.authMethods
        if client.type == .public {
            guard methods == [.none] else {
                throw AdministrationError.invalid("auth_methods", "public", "a public client authenticates with 'none' only")
            }
            guard !client.grantTypes.contains(.clientCredentials) else {
                throw AdministrationError.invalid(
                    "grant_types", "confidential", "client_credentials is for confidential clients only (RFC 6749 §4.4)")
            }
        } else if methods.contains(.none) || methods.isEmpty {
            throw AdministrationError.invalid(
                "auth_methods", "confidential", "a confidential client authenticates with a secret or a key, not 'none'")
        }
        if methods.contains(.privateKeyJWT) {
            guard client.jwks != nil || !client.certificates.isEmpty else {
                throw AdministrationError.invalid("jwks", "required", "private_key_jwt needs the client's JWKS or a certificate")
            }
            if let jwks = client.jwks { try validatePublicJWKS(jwks) }
        }
        for pem in client.certificates where (try? ClientCertificate(pem: pem)) == nil {
            throw AdministrationError.invalid("certificates", "format", "a certificate is not a readable PEM X.509 certificate")
        }
        for uri in client.redirectURIs + client.postLogoutRedirectURIs {
            do { _ = try RedirectURI(uri) } catch {
                throw AdministrationError.invalid(
                    "redirect_uris", "format",
                    "'\(uri)' is not a usable redirect URI: absolute, no fragment, a port in 1-65535, and not a javascript:, data:, file: or similar scheme"
                )
            }
        }
        if let uri = client.backchannelLogoutURI {
            do {
                _ = try OutboundGuard.target(uri, loopbackHTTP: true)
            } catch {
                throw AdministrationError.invalid(
                    "backchannel_logout_uri", "format",
                    "'\(RecordedValue.cut(uri, to: 200))' is not a usable back-channel logout URI: https (or http to 127.0.0.1, [::1] or localhost), no user information, no fragment"
                )
            }
        }
        if client.requireSignedRequestObject && client.jwks == nil {
            throw AdministrationError.invalid(
                "require_signed_request_object", "keys", "signed request objects are checked with the client's JWKS: register it first")
        }
        if client.grantTypes.contains(.authorizationCode) && client.redirectURIs.isEmpty {
            throw AdministrationError.invalid("redirect_uris", "required", "authorization_code needs at least one redirect URI")
        }
    }
}
