import Foundation

/// Clients that register themselves (RFC 7591) and manage their registration (RFC 7592): the
/// tenant's policy decides whether and how; the client is created through `Administration` (the
/// same rules and audit entries as `clients create`, the actor being the client itself), and its
/// registration access token is kept only as a keyed hash and replaced at every update.
public struct ClientRegistrar: Sendable {
    let administration: Administration
    /// Fetches a `jwks_uri` (through the outbound guard) and returns the key set's JSON text;
    /// nil refuses `jwks_uri`.
    let fetchKeySet: (@Sendable (String, Tenant) async throws -> String)?

    public init(administration: Administration, fetchKeySet: (@Sendable (String, Tenant) async throws -> String)? = nil) {
        self.administration = administration
        self.fetchKeySet = fetchKeySet
    }

    var store: any GatehouseStore { administration.store }

    /// A registration as the endpoint answers it (RFC 7591 §3.2.1, RFC 7592 §3).
    public struct Registration: Sendable {
        public let client: Client
        public let record: ClientRegistrationRecord
        /// Shown once: at registration, for a confidential client.
        public let clientSecret: String?
        /// Shown once: at registration and at each update.
        public let registrationAccessToken: String?

        /// The response members; `registrationClientURI` is where RFC 7592 requests go.
        public func document(registrationClientURI: String) -> [String: Any] {
            var document: [String: Any] = [:]
            if let data = record.metadata.data(using: .utf8), let stored = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                document = stored
            }
            document["client_id"] = client.id.value
            document["client_id_issued_at"] = Int(client.createdAt.timeIntervalSince1970)
            document["client_name"] = client.name
            document["redirect_uris"] = client.redirectURIs
            document["grant_types"] = client.grantTypes.map(\.rawValue).sorted()
            document["response_types"] = client.grantTypes.contains(.authorizationCode) ? ["code"] : []
            document["token_endpoint_auth_method"] = client.authMethods.first?.rawValue ?? "none"
            if let uri = client.backchannelLogoutURI {
                document["backchannel_logout_uri"] = uri
                document["backchannel_logout_session_required"] = client.backchannelLogoutSessionRequired
            }
            document["require_pushed_authorization_requests"] = client.requirePushedAuthorizationRequests
            document["require_signed_request_object"] = client.requireSignedRequestObject
            document["dpop_bound_access_tokens"] = client.requireDPoP
            if let jwks = client.jwks, document["jwks_uri"] == nil,
                let object = try? JSONSerialization.jsonObject(with: Data(jwks.utf8))
            {
                document["jwks"] = object
            }
            if let clientSecret {
                document["client_secret"] = clientSecret
                document["client_secret_expires_at"] = 0
            }
            if let registrationAccessToken { document["registration_access_token"] = registrationAccessToken }
            document["registration_client_uri"] = registrationClientURI
            return document
        }
    }

    /// RFC 7591 §3: registers a client under the tenant's policy. `bearer` is the request's
    /// bearer token (the initial access token under the `token` policy).
    public func register(tenant: Tenant, body: Data, bearer: String?) async throws -> Registration {
        let policy = tenant.clientRegistration.policy
        var initialToken: InitialAccessToken? = nil
        var initialTokenHash = ""
        switch policy {
        case .off:
            throw CatalogueError(Catalogue.clientRegistrationNotEnabled, ["tenant": tenant.name.value])
        case .initialAccessToken:
            guard let bearer, !bearer.isEmpty else {
                throw CatalogueError(Catalogue.initialAccessTokenInvalid, ["reason": "none was sent (Authorization: Bearer)"])
            }
            // Checked now; spent in the same transaction as the registration, so that a request
            // refused for any reason spends no use of it.
            let hash = administration.hasher.hash(bearer)
            guard
                let found = try await store.initialAccessTokens(tenant: tenant.name).first(where: {
                    constantTimeEquals(Array($0.hash.utf8), Array(hash.utf8))
                }), found.usesLeft > 0, found.expiresAt > administration.time.now()
            else {
                throw CatalogueError(Catalogue.initialAccessTokenInvalid, ["reason": "it is unknown, expired or used up"])
            }
            initialToken = found
            initialTokenHash = hash
        case .open:
            break
        }
        let metadata = try ClientMetadata(json: body, policy: policy)
        let id = try ClientID(administration.random.uuid().uuidString.lowercased())
        var spec = metadata.spec()
        spec.id = id
        spec.jwks = try await keySet(metadata, tenant: tenant)
        spec.allowedScopes = metadata.openIDConnectScopes
        let token = administration.random.token(byteCount: 32)
        let now = administration.time.now()
        let record = ClientRegistrationRecord(
            tenant: tenant.name, clientID: id, policy: policy, tokenHash: administration.hasher.hash(token),
            metadata: Self.storedMetadata(metadata), initialTokenID: initialToken?.id, createdAt: now, updatedAt: now)
        let admin = administration.acting(
            as: AdminActor(kind: .application, id: id.value, tenant: tenant.name), traceID: administration.traceID,
            source: administration.source)
        let finalSpec = spec
        let (spentHash, spends) = (initialTokenHash, initialToken != nil)
        let (client, secret) = try await Self.asMetadataError {
            try await store.atomically {
                // One use spent by one conditional write: a burst cannot spend more than the token has.
                if spends {
                    guard
                        try await store.spendInitialAccessToken(tenant: tenant.name, hash: spentHash, now: now) != nil
                    else { throw CatalogueError(Catalogue.initialAccessTokenInvalid, ["reason": "it is unknown, expired or used up"]) }
                }
                let created = try await admin.createClient(tenant: tenant.name, spec: finalSpec)
                try await store.addClientRegistration(record)
                return created
            }
        }
        return Registration(client: client, record: record, clientSecret: secret?.value, registrationAccessToken: token)
    }

    /// RFC 7592 §2.1: the registration, for the holder of its registration access token.
    public func read(tenant: Tenant, clientID raw: String, bearer: String?) async throws -> Registration {
        let (client, record) = try await authorize(tenant: tenant, clientID: raw, bearer: bearer)
        return Registration(client: client, record: record, clientSecret: nil, registrationAccessToken: nil)
    }

    /// RFC 7592 §2.2: replaces the registration with the request's metadata (the same rules as
    /// registering; the client's type stays), and replaces the registration access token.
    public func update(tenant: Tenant, clientID raw: String, bearer: String?, body: Data) async throws -> Registration {
        let (before, record) = try await authorize(tenant: tenant, clientID: raw, bearer: bearer)
        let object = try ClientMetadata.jsonObject(body)
        guard (object["client_id"] as? String) == before.id.value else {
            throw ClientMetadata.invalid("client_id", "must be the client's ID (RFC 7592 §2.2)")
        }
        if let secret = object["client_secret"] {
            let secrets = try await store.secrets(tenant: tenant.name, clientID: before.id)
            guard let text = secret as? String, secrets.contains(where: { administration.hasher.matches(text, storedHash: $0.hash) }) else {
                throw ClientMetadata.invalid("client_secret", "is not the client's secret")
            }
        }
        let metadata = try ClientMetadata(object: object, policy: record.policy)
        guard (metadata.tokenEndpointAuthMethod == .none) == (before.type == .public) else {
            throw ClientMetadata.invalid("token_endpoint_auth_method", "cannot turn a public client into a confidential one or back")
        }
        var change = Administration.ClientChange()
        change.name = metadata.clientName ?? before.name
        change.authMethods = [metadata.tokenEndpointAuthMethod]
        change.grantTypes = Set(metadata.grantTypes)
        change.redirectURIs = metadata.redirectURIs
        change.jwks = .some(try await keySet(metadata, tenant: tenant))
        change.backchannelLogoutURI = .some(metadata.backchannelLogoutURI)
        change.backchannelLogoutSessionRequired = metadata.backchannelLogoutSessionRequired
        change.requirePushedAuthorizationRequests = metadata.requirePushedAuthorizationRequests
        change.requireSignedRequestObject = metadata.requireSignedRequestObject
        change.requireDPoP = metadata.dpopBoundAccessTokens
        change.scopes = metadata.openIDConnectScopes
        change.defaultScopes = change.scopes
        let token = administration.random.token(byteCount: 32)
        var replaced = record
        replaced.tokenHash = administration.hasher.hash(token)
        replaced.metadata = Self.storedMetadata(metadata)
        replaced.updatedAt = administration.time.now()
        let admin = administration.acting(
            as: AdminActor(kind: .application, id: before.id.value, tenant: tenant.name), traceID: administration.traceID,
            source: administration.source)
        let (newRecord, finalChange) = (replaced, change)
        let client = try await Self.asMetadataError {
            try await store.atomically {
                // Conditional on the token presented: of two updates with one token, one wins.
                guard try await store.replaceClientRegistration(newRecord, expectedTokenHash: record.tokenHash) else {
                    throw CatalogueError(Catalogue.registrationAccessTokenInvalid, ["reason": "it was replaced by another update"])
                }
                return try await admin.updateClient(tenant: tenant.name, id: before.id, change: finalChange)
            }
        }
        return Registration(client: client, record: replaced, clientSecret: nil, registrationAccessToken: token)
    }

    /// RFC 7592 §2.3: removes the client, its secrets, grants of access and registration.
    public func delete(tenant: Tenant, clientID raw: String, bearer: String?) async throws {
        let (client, record) = try await authorize(tenant: tenant, clientID: raw, bearer: bearer)
        let admin = administration.acting(
            as: AdminActor(kind: .application, id: client.id.value, tenant: tenant.name), traceID: administration.traceID,
            source: administration.source)
        let store = self.store
        _ = try await store.atomically {
            // Still the token presented (an update may have replaced it meanwhile).
            guard try await store.clientRegistration(tenant: tenant.name, clientID: client.id)?.tokenHash == record.tokenHash else {
                throw CatalogueError(Catalogue.registrationAccessTokenInvalid, ["reason": "it was replaced by another update"])
            }
            return try await admin.removeClient(tenant: tenant.name, id: client.id)
        }
    }

    /// The client and its record when `bearer` is its current registration access token; RFC
    /// 7592 §2.1 answers an unknown client the same as a wrong token (401).
    private func authorize(tenant: Tenant, clientID raw: String, bearer: String?) async throws -> (Client, ClientRegistrationRecord) {
        // Registration turned off: clients no longer manage themselves (an administrator does).
        guard tenant.clientRegistration.policy != .off else {
            throw CatalogueError(Catalogue.clientRegistrationNotEnabled, ["tenant": tenant.name.value])
        }
        guard let bearer, !bearer.isEmpty else {
            throw CatalogueError(Catalogue.registrationAccessTokenInvalid, ["reason": "none was sent (Authorization: Bearer)"])
        }
        let hash = administration.hasher.hash(bearer)
        guard let id = try? ClientID(raw), let record = try await store.clientRegistration(tenant: tenant.name, clientID: id),
            constantTimeEquals(Array(hash.utf8), Array(record.tokenHash.utf8)),
            let client = try await store.client(tenant: tenant.name, id: id)
        else {
            throw CatalogueError(
                Catalogue.registrationAccessTokenInvalid, ["reason": "it is not this client's current registration access token"])
        }
        return (client, record)
    }

    /// The keys of a private_key_jwt client, or of one that signs its request objects: the JWKS
    /// sent, or the one at `jwks_uri`, fetched through the outbound guard at registration and at
    /// each update. Other clients' keys are not kept (nor fetched: a registration never makes
    /// the server fetch a URL it will not use).
    private func keySet(_ metadata: ClientMetadata, tenant: Tenant) async throws -> String? {
        guard metadata.tokenEndpointAuthMethod == .privateKeyJWT || metadata.requireSignedRequestObject else { return nil }
        guard let uri = metadata.jwksURI else { return metadata.jwks }
        guard let fetchKeySet else { throw ClientMetadata.invalid("jwks_uri", "this server does not fetch key sets") }
        let text: String
        do {
            text = try await fetchKeySet(uri, tenant)
        } catch let error as CatalogueError {
            throw ClientMetadata.invalid("jwks_uri", "could not be fetched (\(error.entry.number) \(error.entry.name))")
        }
        guard let data = text.data(using: .utf8), let set = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let keys = set["keys"] as? [Any], !keys.isEmpty, keys.count <= 10
        else { throw ClientMetadata.invalid("jwks_uri", "does not serve a JWK Set with 1 to 10 keys") }
        return text
    }

    /// The metadata members kept beside the client (RFC 7591 §2 links, `jwks_uri`, `scope`).
    static func storedMetadata(_ metadata: ClientMetadata) -> String {
        var object: [String: Any] = [:]
        for (key, value) in [
            ("client_uri", metadata.clientURI), ("logo_uri", metadata.logoURI), ("policy_uri", metadata.policyURI),
            ("tos_uri", metadata.tosURI), ("jwks_uri", metadata.jwksURI), ("scope", metadata.scope?.description),
        ] {
            if let value { object[key] = value }
        }
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// The administration service's refusals as RFC 7591 errors.
    static func asMetadataError<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as Administration.AdministrationError where error.kind == .invalid {
            if error.field == "redirect_uris" { throw ClientMetadata.redirect("", error.message) }
            throw ClientMetadata.invalid(error.field ?? "the request", error.message)
        }
    }
}
