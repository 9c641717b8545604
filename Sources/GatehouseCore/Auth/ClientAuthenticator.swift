import Foundation

/// A client that passed authentication, and how.
public struct AuthenticatedClient: Sendable {
    public let record: ClientRecord
    public let method: ClientAuthMethod
    /// Which credential authenticated it, for the sign-in log: `secret <secret ID>`,
    /// `certificate <SHA-1 thumbprint>` or `key <kid>`; nil for a public client.
    public var credential: String? = nil
    /// The secret that matched, if a secret did.
    public var secretID: String? = nil
    public var client: Client { record.client }

    public init(record: ClientRecord, method: ClientAuthMethod, credential: String? = nil, secretID: String? = nil) {
        self.record = record
        self.method = method
        self.credential = credential
        self.secretID = secretID
    }
}

/// Decides whether presented credentials authenticate a client (RFC 6749 §2.3, §3.2.1; RFC 7523 §3).
public struct ClientAuthenticator: Sendable {
    public let directory: any ClientDirectory
    public let hasher: SecretHasher
    public let replay: any ReplayStore
    public let assertions: ClientAssertionVerifier
    public let time: TimeSource

    public init(
        directory: any ClientDirectory, hasher: SecretHasher, replay: any ReplayStore, assertions: ClientAssertionVerifier = .init(),
        time: TimeSource = .system
    ) {
        self.directory = directory
        self.hasher = hasher
        self.replay = replay
        self.assertions = assertions
        self.time = time
    }

    /// Authenticates. `acceptedAudiences` are the values a client assertion's `aud` may take
    /// (the token endpoint URL and the issuer), worked out only when an assertion is presented.
    /// `grantType` only shapes the message when a confidential client sent no credentials.
    ///
    /// `gate` is the client throttle; only a credential check meets it (`Guess.clientCredential`):
    /// a public client, which has none, is never refused by it. A secret comparison is counted
    /// under the client's key before it runs and settled right after, with nothing in between
    /// that waits: a burst of wrong secrets gets no more comparisons than the gate's limit, and a
    /// busy client's successes are given back at once. An assertion is refused unchecked over the
    /// limit, and a signature that does not verify is counted after the fact (its check awaits
    /// the key collection, so admitting before it would hold a busy client's concurrency; nobody
    /// guesses an asymmetric signature, so the limit there only bounds the work).
    public func authenticate(
        _ presented: PresentedClientCredentials, tenant: TenantName, acceptedAudiences: @autoclosure () -> Set<String>,
        grantType: GrantType?, gate: ClientCredentialGate? = nil
    ) async throws -> AuthenticatedClient {
        let now = time.now()
        switch presented {
        case .none(let id):
            let record = try await find(tenant: tenant, id: id)
            guard record.client.type == .public, record.client.authMethods.contains(.none) else {
                throw CatalogueError(
                    grantType == .clientCredentials
                        ? Catalogue.credentialRequiredForClientCredentials : Catalogue.clientSecretOrAssertionRequired,
                    detail: "confidential client sent no credentials")
            }
            return AuthenticatedClient(record: record, method: .none)

        case .basic(let id, let secret), .post(let id, let secret):
            let record = try await find(tenant: tenant, id: id)
            // RFC 6749 §2.3.1: an empty secret is the same as none; a public client that sends one
            // (oidc-agent does, with `id:` in Basic) sends nothing.
            if secret.isEmpty, record.client.type == .public, record.client.authMethods.contains(.none) {
                return AuthenticatedClient(record: record, method: .none)
            }
            try requireMethod(presented.method, of: record.client)
            let admission = try gate.flatMap { gate throws(CatalogueError) in try gate.gate.admit(gate.key(id), now: now) }
            var matched: ClientSecretRecord? = nil
            for candidate in record.secrets where hasher.matches(secret, storedHash: candidate.hash) {
                matched = candidate
            }
            admission?.settle(failed: matched == nil)
            guard let matched else { throw CatalogueError(Catalogue.invalidClientSecret, detail: "no secret matched") }
            if let expiry = matched.expiresAt, expiry <= now {
                throw CatalogueError(
                    Catalogue.clientSecretExpired, ["clientId": id.value], detail: "secret \(matched.secretID) expired \(expiry)")
            }
            return AuthenticatedClient(
                record: record, method: presented.method, credential: "secret \(matched.secretID)", secretID: matched.secretID)

        case .assertion(let type, let jwt, let claimedClientID):
            guard type == PresentedClientCredentials.jwtBearerAssertionType else {
                throw CatalogueError(Catalogue.unsupportedAssertionType, ["type": type])
            }
            let claims = try assertions.unverifiedClaims(jwt)
            guard let subject = claims.sub ?? claims.iss else {
                throw CatalogueError(Catalogue.assertionMissingClaim, ["claim": "sub"])
            }
            let id = try ClientID(subject)
            if let claimedClientID, claimedClientID != id { throw CatalogueError(Catalogue.clientIdMismatch) }
            let record = try await find(tenant: tenant, id: id)
            try requireMethod(.privateKeyJWT, of: record.client)
            if let gate { try gate.gate.check(gate.key(id), now: now) }
            let credential: String
            do {
                credential = try await assertions.verify(
                    jwt: jwt, claims: claims, record: record, acceptedAudiences: acceptedAudiences(), replay: replay, now: now)
            } catch {
                if let gate, Guess.isGuess(error, of: Guess.clientCredential) { gate.gate.recordFailure(gate.key(id), now: now) }
                throw error
            }
            return AuthenticatedClient(record: record, method: .privateKeyJWT, credential: credential)
        }
    }

    private func find(tenant: TenantName, id: ClientID) async throws -> ClientRecord {
        guard let record = try await directory.lookup(tenant: tenant, id: id) else {
            throw CatalogueError(Catalogue.applicationNotFound, ["clientId": id.value, "tenant": tenant.value])
        }
        guard record.client.enabled else { throw CatalogueError(Catalogue.applicationDisabled, ["clientId": id.value]) }
        return record
    }

    private func requireMethod(_ method: ClientAuthMethod, of client: Client) throws(CatalogueError) {
        if client.type == .public {
            throw CatalogueError(Catalogue.publicClientWithCredential)
        }
        guard client.authMethods.contains(method) else {
            throw CatalogueError(
                Catalogue.authMethodNotAllowed,
                [
                    "clientId": client.id.value, "method": method.rawValue,
                    "allowed": client.authMethods.map(\.rawValue).sorted().joined(separator: ", "),
                ])
        }
    }
}
