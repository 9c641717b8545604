import Foundation

/// What the CLI and first start do: create tenants with keys, clients with secrets.
/// Secrets are generated here (256 bits), returned once, and stored only as keyed hashes.
public struct Administration: Sendable {
    public let store: any GatehouseStore
    public let hasher: SecretHasher
    public let time: TimeSource
    public let random: RandomSource
    /// Who is asking (the audit log's `actor`); `acting(as:traceID:source:)` sets it per request.
    public internal(set) var actor: AdminActor
    public internal(set) var traceID: String?
    public internal(set) var source: String?
    /// Composes account mails (verification links) that changes queue in the outbox; nil queues none.
    public var mailer: AccountMailer?

    public init(
        store: any GatehouseStore, hasher: SecretHasher, time: TimeSource = .system, random: RandomSource = .system,
        actor: AdminActor = .commandLine(user: ProcessInfo.processInfo.environment["USER"] ?? "operator")
    ) {
        self.store = store
        self.hasher = hasher
        self.time = time
        self.random = random
        self.actor = actor
    }

    /// Creates a tenant with an active signing key and a next key, published ahead of use.
    @discardableResult
    public func createTenant(
        name: TenantName, displayName: String? = nil, algorithm: SigningAlgorithm = .es256, accessTokenLifetime: Int = 3600
    ) async throws -> Tenant {
        guard !Self.reservedTenantNames.contains(name.value), UUID(uuidString: name.value) == nil else {
            throw AdministrationError.invalid("name", "reserved", "'\(name)' is a path of the server itself; choose another tenant name")
        }
        guard (60...86_400).contains(accessTokenLifetime) else {
            throw AdministrationError.invalid("access_token_lifetime", "range", "an access token lifetime is 60 to 86400 seconds")
        }
        let now = time.now()
        let tenant = Tenant(
            name: name, id: random.uuid(), displayName: displayName ?? name.value, signingAlgorithm: algorithm,
            accessTokenLifetime: accessTokenLifetime, createdAt: now)
        do {
            try await store.createTenant(tenant)
        } catch StoreError.conflict {
            throw AdministrationError.conflict("name", "tenant '\(name)' already exists")
        }
        for status in [KeyStatus.active, .next] {
            try await store.addKey(
                try SigningKeyMaterial.generate(
                    tenant: name, algorithm: algorithm, kid: random.token(byteCount: 12), status: status, now: now))
        }
        try await audit("tenant.create", tenant: name, target: name.value, after: AuditView.tenant(tenant))
        try await ensureAdminAPI(tenant: name)
        try await ensureConsoleClient(tenant: name)
        return tenant
    }

    /// First path segments the server serves itself (the admin API, the error page, health and
    /// metrics): a tenant of that name could not be reached.
    /// So are the Entra aliases and GUID-shaped names (a tenant is also reached by its GUID).
    public static let reservedTenantNames: Set<String> = [
        "admin", "error", "health", "metrics", "common", "organizations", "consumers",
    ]

    /// The outcome of a key rotation.
    public struct Rotation: Sendable {
        public let activated: String
        public let retired: String?
        public let next: String
    }

    /// Rotates a tenant's signing keys: the published `next` key becomes `active`, the `active`
    /// one is `retired` (still published, so tokens it signed keep verifying), and a new `next`
    /// key is published. Rotate only after the next key has been in the JWKS for longer than
    /// clients cache it (5 minutes).
    public func rotateKeys(tenant: TenantName) async throws -> Rotation {
        guard let record = try await store.tenant(named: tenant) else {
            throw AdministrationError.notFound("tenant", tenant.value)
        }
        let keys = try await store.keys(tenant: tenant)
        guard let next = keys.last(where: { $0.status == .next }) else {
            throw AdministrationError.conflict(nil, "tenant '\(tenant)' has no next key")
        }
        let newNext = try SigningKeyMaterial.generate(
            tenant: tenant, algorithm: record.signingAlgorithm, kid: random.token(byteCount: 12), status: .next, now: time.now())
        // One change: promote, retire and add together (a reader sees the old ring or the new one).
        guard try await store.rotateKeys(tenant: tenant, promote: next.kid, newNext: newNext) else {
            throw AdministrationError.conflict(
                nil, "another rotation of tenant '\(tenant)' ran at the same time; run it again if you need another")
        }
        let oldActive = keys.filter { $0.status == .active }
        let rotation = Rotation(activated: next.kid, retired: oldActive.last?.kid, next: newNext.kid)
        try await audit(
            "key.rotate", tenant: tenant, target: tenant.value,
            before: AuditView.keys(["active": oldActive.last?.kid, "next": next.kid]),
            after: AuditView.keys(["active": rotation.activated, "retired": rotation.retired, "next": rotation.next]))
        return rotation
    }

    /// A new algorithm reaches the keys through the normal rotation: the published next key (which
    /// has signed nothing) is replaced by one of the new algorithm, which the next rotation makes
    /// active; the active key keeps signing until then and stays in the JWKS, retired, after it.
    /// The new key is added before the old one goes, so there is a next key throughout.
    func replaceNextKey(tenant: TenantName, algorithm: SigningAlgorithm) async throws {
        let oldNext = try await store.keys(tenant: tenant).filter { $0.status == .next }
        if !oldNext.contains(where: { $0.algorithm == algorithm }) {
            try await store.addKey(
                try SigningKeyMaterial.generate(
                    tenant: tenant, algorithm: algorithm, kid: random.token(byteCount: 12), status: .next, now: time.now()))
        }
        for key in oldNext where key.algorithm != algorithm { _ = try await store.removeKey(tenant: tenant, kid: key.kid) }
    }

    /// Removes a retired key from the JWKS. With `longestTokenLifetime`, only once no token it
    /// signed can still be valid (its retirement plus that lifetime plus `KeyRotationPolicy.clockSkew`);
    /// without, at once (an emergency: a key that leaked).
    public func removeRetiredKey(tenant: TenantName, kid: String, longestTokenLifetime: TimeInterval? = nil) async throws {
        guard let key = try await store.keys(tenant: tenant).first(where: { $0.kid == kid }) else {
            throw AdministrationError.notFound("key", kid, tenant: tenant)
        }
        guard key.status == .retired else {
            throw AdministrationError.conflict(nil, "key '\(kid)' is \(key.status.rawValue); only retired keys can be removed")
        }
        if let lifetime = longestTokenLifetime, let retired = key.retiredAt {
            let expired = retired.addingTimeInterval(lifetime + KeyRotationPolicy.clockSkew)
            if time.now() < expired {
                throw AdministrationError.conflict(
                    "kid",
                    "tokens that key '\(kid)' signed may be valid until \(ISO8601DateFormatter().string(from: expired)); remove it after "
                        + "that (automatic rotation does), or now with --force if it leaked (those tokens then fail verification)")
            }
        }
        _ = try await store.removeKey(tenant: tenant, kid: kid)
        try await audit("key.remove", tenant: tenant, target: kid, before: AuditView.keys(["kid": kid, "status": key.status.rawValue]))
    }

    /// A newly created secret: the value is shown once and never stored.
    public struct NewSecret: Sendable {
        public let record: ClientSecretRecord
        public let value: String
    }

    public struct ClientSpec: Sendable {
        public var id: ClientID?
        public var name: String
        public var type: ClientType = .confidential
        public var authMethods: Set<ClientAuthMethod>?
        /// nil: the registration's kind decides (`defaultGrantTypes`).
        public var grantTypes: Set<GrantType>?
        /// Empty for a client that signs users in: the OpenID Connect scopes and offline_access.
        public var allowedScopes: Scope = .empty
        public var defaultScopes: Scope?
        public var allowedResources: [ResourceIndicator] = []
        public var jwks: String?
        public var secretLifetime: TimeInterval?
        public var redirectURIs: [String] = []
        public var postLogoutRedirectURIs: [String] = []
        /// Certificates (PEM) for private_key_jwt assertions naming them by x5t/x5t#S256/x5c.
        public var certificates: [String] = []
        /// The organisation's own app: no consent page for the scopes it is allowed.
        public var firstParty = false
        /// Back-channel logout, pushed and signed requests (`Client`).
        public var backchannelLogoutURI: String?
        public var backchannelLogoutSessionRequired = false
        public var requirePushedAuthorizationRequests = false
        public var requireSignedRequestObject = false
        /// Every token request with a DPoP proof (`Client.requireDPoP`).
        public var requireDPoP = false

        public init(id: ClientID? = nil, name: String) {
            self.id = id
            self.name = name
        }

        /// A client that signs users in (it has redirect URIs) gets the code flow with refresh
        /// tokens; a public client without them nothing until granted; any other client credentials.
        public var defaultGrantTypes: Set<GrantType> {
            !redirectURIs.isEmpty ? [.authorizationCode, .refreshToken] : type == .public ? [] : [.clientCredentials]
        }

        /// What a client that signs users in may ask for when no scope is given.
        public static let signInScopes = Scope(tokens: ["openid", "profile", "email", "offline_access"])
    }

    /// Registers one more certificate for a client that authenticates with private_key_jwt
    /// (rotation: register the new one, switch the client over, remove the old one).
    public func addCertificate(tenant: TenantName, clientID: ClientID, pem: String) async throws -> ClientCertificate {
        try Self.refuseBuiltIn(clientID, "take a certificate")
        guard let client = try await store.client(tenant: tenant, id: clientID) else {
            throw AdministrationError.notFound("client", clientID.value, tenant: tenant)
        }
        guard client.authMethods.contains(.privateKeyJWT) else {
            throw AdministrationError.invalid(
                "auth_methods", "private_key_jwt",
                "client '\(clientID)' does not use private_key_jwt; register it with a certificate or the private_key_jwt auth method")
        }
        guard let parsed = try? ClientCertificate(pem: pem) else {
            throw AdministrationError.invalid("certificate", "format", "not a readable PEM X.509 certificate")
        }
        let existing = client.certificates.compactMap { try? ClientCertificate(pem: $0) }
        guard !existing.contains(where: { $0.sha256 == parsed.sha256 }) else {
            throw AdministrationError.conflict("certificate", "this certificate is registered already")
        }
        _ = try await store.setCertificates(tenant: tenant, id: clientID, certificates: client.certificates + [pem])
        var after = client
        after.certificates.append(pem)
        try await audit(
            "client.certificate.add", tenant: tenant, target: clientID.value, before: AuditView.client(client),
            after: AuditView.client(after))
        return parsed
    }

    /// Creates a client; a confidential client that authenticates with a secret gets one.
    /// `withSecret: false` leaves out the first secret (an API made by `--resource`, whose
    /// operator adds one when its resource server needs it).
    public func createClient(tenant: TenantName, spec: ClientSpec, withSecret: Bool = true) async throws -> (Client, NewSecret?) {
        guard try await store.tenant(named: tenant) != nil else { throw AdministrationError.notFound("tenant", tenant.value) }
        let id = try spec.id ?? ClientID(random.uuid().uuidString.lowercased())
        let methods: Set<ClientAuthMethod> =
            spec.authMethods
            ?? (spec.type == .public
                ? [.none] : (spec.jwks != nil || !spec.certificates.isEmpty ? [.privateKeyJWT] : [.clientSecretBasic, .clientSecretPost]))
        var spec = spec
        if spec.allowedScopes.isEmpty && !spec.redirectURIs.isEmpty { spec.allowedScopes = ClientSpec.signInScopes }
        let defaults = spec.defaultScopes ?? spec.allowedScopes
        if let stray = defaults.notContained(in: spec.allowedScopes).first {
            throw AdministrationError.invalid("default_scopes", "allowed", "default scope '\(stray)' is not among the allowed scopes")
        }
        // `--resource` + `--scope`: find or create each API, then grant (`ResourceShorthand`).
        let shorthand = ResourceShorthand.split(scopes: spec.allowedScopes.tokens, resources: spec.allowedResources.map(\.value))
        var client = Client(
            tenant: tenant, id: id, name: spec.name, type: spec.type, authMethods: methods,
            grantTypes: spec.grantTypes ?? spec.defaultGrantTypes,
            allowedScopes: Scope(tokens: shorthand.plain), defaultScopes: defaults, jwks: spec.jwks, redirectURIs: spec.redirectURIs,
            postLogoutRedirectURIs: spec.postLogoutRedirectURIs, certificates: spec.certificates, firstParty: spec.firstParty,
            createdAt: time.now())
        client.backchannelLogoutURI = spec.backchannelLogoutURI
        client.backchannelLogoutSessionRequired = spec.backchannelLogoutSessionRequired
        client.requirePushedAuthorizationRequests = spec.requirePushedAuthorizationRequests
        client.requireSignedRequestObject = spec.requireSignedRequestObject
        client.requireDPoP = spec.requireDPoP
        try Self.checkRegistration(client)
        do {
            try await store.createClient(client)
        } catch StoreError.conflict {
            throw AdministrationError.conflict("client_id", "a client with this ID exists in tenant '\(tenant)'")
        }
        try await audit("client.create", tenant: tenant, target: id.value, after: AuditView.client(client))
        var secret: NewSecret? = nil
        if withSecret, methods.contains(.clientSecretBasic) || methods.contains(.clientSecretPost) {
            secret = try await addSecret(tenant: tenant, clientID: id, lifetime: spec.secretLifetime)
        }
        for entry in shorthand.apis {
            try await grantShorthand(tenant: tenant, clientID: id, resource: entry.resource, names: entry.names)
        }
        return (client, secret)
    }

    /// Adds a secret to a client, for rotation: old and new work until the old one is removed or expires.
    public func addSecret(tenant: TenantName, clientID: ClientID, lifetime: TimeInterval?) async throws -> NewSecret {
        guard let client = try await store.client(tenant: tenant, id: clientID) else {
            throw AdministrationError.notFound("client", clientID.value, tenant: tenant)
        }
        guard client.type == .confidential else { throw AdministrationError.invalid(nil, "confidential", "public clients have no secrets") }
        let value = random.token(byteCount: 32)
        let now = time.now()
        let record = ClientSecretRecord(
            tenant: tenant, clientID: clientID, secretID: random.token(byteCount: 6), hash: hasher.hash(value),
            hint: String(value.prefix(3)), createdAt: now, expiresAt: lifetime.map { now.addingTimeInterval($0) })
        try await store.addSecret(record)
        try await audit("client.secret.add", tenant: tenant, target: clientID.value, after: AuditView.secret(record))
        return NewSecret(record: record, value: value)
    }

    /// Removes one secret of a client (rotation's last step).
    public func removeSecret(tenant: TenantName, clientID: ClientID, secretID: String) async throws {
        let secrets = try await store.secrets(tenant: tenant, clientID: clientID)
        guard let record = secrets.first(where: { $0.secretID == secretID }) else {
            throw AdministrationError.notFound("secret", secretID, tenant: tenant)
        }
        // A confidential client keeps a way to authenticate: its last secret goes only when it has
        // keys for private_key_jwt.
        if secrets.count == 1, let client = try await store.client(tenant: tenant, id: clientID), client.type == .confidential,
            !(client.authMethods.contains(.privateKeyJWT) && (client.jwks != nil || !client.certificates.isEmpty))
        {
            throw AdministrationError.conflict(
                "secret_id",
                "secret '\(secretID)' is client '\(clientID)''s last credential: add a secret or a certificate first, or remove the client")
        }
        guard try await store.removeSecret(tenant: tenant, clientID: clientID, secretID: secretID) else {
            throw AdministrationError.notFound("secret", secretID, tenant: tenant)
        }
        try await audit("client.secret.remove", tenant: tenant, target: clientID.value, before: AuditView.secret(record))
    }

    /// Removes a client with its secrets and grants of API access.
    public func removeClient(tenant: TenantName, id: ClientID) async throws -> Client {
        guard !BuiltInAdminAPI.isBuiltIn(id) else {
            throw AdministrationError.conflict(nil, "client '\(id)' is the built-in admin API's; it cannot be removed")
        }
        guard !BuiltInConsole.isBuiltIn(id), !BuiltInAccount.isBuiltIn(id) else {
            throw AdministrationError.conflict(nil, "client '\(id)' is built in; it cannot be removed")
        }
        guard let client = try await store.client(tenant: tenant, id: id), try await store.removeClient(tenant: tenant, id: id) else {
            throw AdministrationError.notFound("client", id.value, tenant: tenant)
        }
        try await audit("client.remove", tenant: tenant, target: id.value, before: AuditView.client(client))
        return client
    }

    /// Changes a tenant's sign-in log mode or key rotation interval (nil leaves each as it is;
    /// `keyRotation: .some(nil)` turns scheduled rotation off).
    public func updateTenant(
        tenant name: TenantName, signInLog: SignInLogMode? = nil, keyRotation: TimeInterval?? = nil,
        algorithm: SigningAlgorithm? = nil, accessTokenLifetime: Int? = nil, emailSignIn: Bool? = nil, verifyEmail: Bool? = nil,
        requirePushedAuthorizationRequests: Bool? = nil, requireDPoPNonce: Bool? = nil
    ) async throws -> Tenant {
        guard let before = try await store.tenant(named: name) else { throw AdministrationError.notFound("tenant", name.value) }
        if let accessTokenLifetime, !(60...86_400).contains(accessTokenLifetime) {
            throw AdministrationError.invalid("access_token_lifetime", "range", "an access token lifetime is 60 to 86400 seconds")
        }
        var after = before
        if let emailSignIn, emailSignIn != before.emailSignIn {
            switch try await store.setEmailSignIn(emailSignIn, tenant: name) {
            case .done: after.emailSignIn = emailSignIn
            case .noSuchTenant: throw AdministrationError.notFound("tenant", name.value)
            case .duplicates(let addresses):
                let shown = addresses.prefix(10).joined(separator: ", ") + (addresses.count > 10 ? " and \(addresses.count - 10) more" : "")
                throw AdministrationError.conflict(
                    "email_sign_in",
                    "several users of tenant '\(name)' have the same email address (\(shown)); give each address to one user, then turn email sign-in on"
                )
            }
        }
        if algorithm != nil || accessTokenLifetime != nil {
            _ = try await store.setTokenSettings(tenant: name, algorithm: algorithm, accessTokenLifetime: accessTokenLifetime)
            if let accessTokenLifetime { after.accessTokenLifetime = accessTokenLifetime }
            if let algorithm, algorithm != before.signingAlgorithm {
                after.signingAlgorithm = algorithm
                try await replaceNextKey(tenant: name, algorithm: algorithm)
            }
        }
        if let verifyEmail {
            _ = try await store.setVerifyEmail(verifyEmail, tenant: name)
            after.verifyEmail = verifyEmail
        }
        if let required = requirePushedAuthorizationRequests {
            _ = try await store.setRequirePushedAuthorizationRequests(required, tenant: name)
            after.requirePushedAuthorizationRequests = required
        }
        if let required = requireDPoPNonce {
            _ = try await store.setRequireDPoPNonce(required, tenant: name)
            after.requireDPoPNonce = required
        }
        if let mode = signInLog {
            _ = try await store.setSignInLogMode(mode, tenant: name)
            after.signInLog = mode
        }
        if let interval = keyRotation {
            if let interval, !(86_400...(3650 * 86_400)).contains(interval) {
                throw AdministrationError.invalid("key_rotation_seconds", "range", "keys rotate every 1 to 3650 days")
            }
            _ = try await store.setKeyRotation(interval, tenant: name)
            after.keyRotationInterval = interval
        }
        try await audit("tenant.update", tenant: name, target: name.value, before: AuditView.tenant(before), after: AuditView.tenant(after))
        return after
    }

    /// Scope tokens as given (each may hold several, space-separated), each checked (RFC 6749 §3.3).
    public static func parseScopes(_ words: [String], field: String = "scopes") throws -> Scope {
        let tokens = words.flatMap { $0.split(separator: " ").map(String.init) }
        if let bad = tokens.first(where: { !Scope.isValidToken($0[...]) }) {
            throw AdministrationError.invalid(field, "format", "'\(bad)' is not a valid scope token (RFC 6749 §3.3)")
        }
        return Scope(tokens: tokens)
    }

    /// Resource indicators (RFC 8707 §2) as given to `clients create` and `update`.
    public static func parseResources(_ raws: [String], field: String = "resources") throws -> [ResourceIndicator] {
        try raws.map { raw in
            do { return try ResourceIndicator(raw) } catch {
                throw AdministrationError.invalid(field, "format", "'\(raw)' is not an absolute URI without fragment (RFC 8707)")
            }
        }
    }

    /// Grant types by their `grant_type` value or short name.
    public static func parseGrantTypes(_ raws: [String]) throws -> Set<GrantType> {
        Set(
            try raws.map { raw in
                guard let grant = GrantType.named(raw) else {
                    throw AdministrationError.invalid("grant_types", "unknown", "unknown grant type '\(raw)'")
                }
                return grant
            })
    }

    /// Client authentication methods (RFC 7591 §2 `token_endpoint_auth_method` values).
    public static func parseAuthMethods(_ raws: [String]) throws -> Set<ClientAuthMethod> {
        Set(
            try raws.map { raw in
                guard let method = ClientAuthMethod(rawValue: raw) else {
                    throw AdministrationError.invalid("auth_methods", "unknown", "unknown auth method '\(raw)'")
                }
                return method
            })
    }

    /// Accepts only a JWKS of public asymmetric keys.
    public static func validatePublicJWKS(_ json: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let keys = object["keys"] as? [[String: Any]], !keys.isEmpty
        else { throw AdministrationError.invalid("jwks", "format", "the JWKS must be a JSON object with a non-empty 'keys' array") }
        for key in keys {
            guard let kty = key["kty"] as? String, ["EC", "RSA", "OKP"].contains(kty) else {
                throw AdministrationError.invalid("jwks", "format", "JWKS keys must be EC, RSA or OKP public keys")
            }
            if key["d"] != nil {
                throw AdministrationError.invalid("jwks", "public", "the JWKS contains a private key; register only public keys")
            }
        }
    }
}
