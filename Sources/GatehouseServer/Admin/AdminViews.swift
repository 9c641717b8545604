import Foundation
import GatehouseAdminAPI
import GatehouseCore
import OpenAPIRuntime

/// Core's objects as the admin API's document shows them: no secret value, hash, sealed seed or
/// private key, ever.
enum AdminViews {
    typealias Schemas = Components.Schemas

    static func tenant(_ tenant: Tenant, configuration: ServerConfiguration) -> Schemas.Tenant {
        Schemas.Tenant(
            name: tenant.name.value, id: tenant.guid, displayName: tenant.displayName,
            signingAlgorithm: Schemas.Tenant.SigningAlgorithmPayload(rawValue: tenant.signingAlgorithm.rawValue) ?? .es256,
            accessTokenLifetime: tenant.accessTokenLifetime,
            signInLog: Schemas.Tenant.SignInLogPayload(rawValue: tenant.signInLog.rawValue) ?? .aggregate,
            emailSignIn: tenant.emailSignIn, verifyEmail: tenant.verifyEmail,
            requirePushedAuthorizationRequests: tenant.requirePushedAuthorizationRequests,
            requireDpopNonce: tenant.requireDPoPNonce,
            keyRotationSeconds: tenant.keyRotationInterval.map { Int($0) },
            issuer: configuration.issuer(tenant.name.value),
            createdAt: tenant.createdAt,
            registration: Schemas.Tenant.RegistrationPayload(rawValue: tenant.registration.rawValue),
            registrationDomains: tenant.registrationDomains, primaryColor: tenant.branding.primaryColor,
            supportContact: tenant.branding.supportContact, logoSha256: tenant.branding.logoDigest,
            passkeyUserVerification: .init(rawValue: tenant.passkeyPolicy.userVerification.rawValue),
            passkeyAttestation: .init(rawValue: tenant.passkeyPolicy.attestation.rawValue),
            passkeyCounterRegression: .init(rawValue: tenant.passkeyPolicy.counterRegression.rawValue),
            passkeyRequired: tenant.passkeyPolicy.required,
            clientRegistration: .init(rawValue: tenant.clientRegistration.policy.rawValue),
            registrationApis: tenant.clientRegistration.apis, allowLocalFetches: tenant.clientRegistration.allowLocalFetches,
            clientIdMetadataDocuments: tenant.clientRegistration.metadataDocuments)
    }

    static func initialAccessToken(_ token: InitialAccessToken) -> Schemas.InitialAccessToken {
        Schemas.InitialAccessToken(
            tokenId: token.id, label: token.label, createdAt: token.createdAt, expiresAt: token.expiresAt, usesLeft: token.usesLeft)
    }

    static func passkey(_ passkey: Passkey) -> Schemas.Passkey {
        Schemas.Passkey(
            credentialId: passkey.credentialID, name: passkey.name, publicKey: Base64URL.encode(passkey.publicKey),
            signCount: Int64(passkey.signCount), transports: passkey.transports, aaguid: passkey.aaguid,
            backupEligible: passkey.backupEligible, backedUp: passkey.backedUp, attestation: passkey.attestationFormat,
            counterRegressed: passkey.counterRegressed, createdAt: passkey.createdAt, lastUsedAt: passkey.lastUsedAt)
    }

    static func permissions(_ list: [APIPermission]) -> [Schemas.Permission] {
        list.map { Schemas.Permission(name: $0.name, descriptions: .init(additionalProperties: $0.descriptions)) }
    }

    static func api(_ api: API) -> Schemas.Api {
        Schemas.Api(
            applicationId: api.applicationID.value, displayName: api.displayName, identifiers: api.identifiers.map(\.value),
            permissions: permissions(api.permissions), roles: permissions(api.roles), accessTokenLifetime: api.accessTokenLifetime,
            builtIn: BuiltInAdminAPI.isBuiltIn(api.applicationID), createdAt: api.createdAt)
    }

    static func access(_ access: APIAccess) -> Schemas.Access {
        Schemas.Access(api: access.api.value, permissions: access.permissions, roles: access.roles)
    }

    static func client(_ client: Client, store: any GatehouseStore) async throws -> Schemas.Client {
        let secrets = try await store.secrets(tenant: client.tenant, clientID: client.id)
        let grants = try await store.access(tenant: client.tenant, clientID: client.id)
        let selfRegistered = try await store.clientRegistration(tenant: client.tenant, clientID: client.id) != nil
        return Schemas.Client(
            clientId: client.id.value, name: client.name, enabled: client.enabled, firstParty: client.firstParty,
            backchannelLogoutUri: client.backchannelLogoutURI,
            backchannelLogoutSessionRequired: client.backchannelLogoutSessionRequired,
            requirePushedAuthorizationRequests: client.requirePushedAuthorizationRequests,
            requireSignedRequestObject: client.requireSignedRequestObject,
            dpopBoundAccessTokens: client.requireDPoP,
            source: selfRegistered ? .selfRegistered : .administrator,
            _type: client.type == .public ? ._public : .confidential, authMethods: client.authMethods.map(\.rawValue).sorted(),
            grantTypes: client.grantTypes.map(\.rawValue).sorted(), scopes: client.allowedScopes.tokens,
            defaultScopes: client.defaultScopes.tokens, redirectUris: client.redirectURIs,
            postLogoutRedirectUris: client.postLogoutRedirectURIs, hasJwks: client.jwks != nil,
            certificates: client.certificates.compactMap { pem in
                (try? ClientCertificate(pem: pem)).map {
                    Schemas.Certificate(sha256: Base64URL.encode($0.sha256), subject: $0.subject, notAfter: $0.notValidAfter)
                }
            },
            secrets: secrets.map {
                Schemas.Secret(
                    secretId: $0.secretID, hint: $0.hint, createdAt: $0.createdAt, expiresAt: $0.expiresAt, lastUsedAt: $0.lastUsedAt)
            },
            apiAccess: grants.map(access), createdAt: client.createdAt)
    }

    static func user(_ user: User, store: any GatehouseStore) async throws -> Schemas.User {
        let roles = try await store.roleAssignments(tenant: user.tenant, userID: user.id)
        // TOTP or a passkey.
        let passkeys = try await store.passkeyCount(tenant: user.tenant, userID: user.id)
        let hasSecondFactor = user.sealedTOTPSecret != nil || passkeys > 0
        return Schemas.User(
            id: user.id, username: user.username.value, email: user.email, emailVerified: user.email == nil ? nil : user.emailVerified,
            displayName: user.displayName, language: user.language, enabled: user.enabled,
            secondFactor: hasSecondFactor, roles: roles.map { .init(api: $0.api.value, role: $0.role) },
            createdAt: user.createdAt, updatedAt: user.updatedAt)
    }

    static func key(_ key: SigningKeyRecord) -> Schemas.SigningKey {
        Schemas.SigningKey(
            kid: key.kid, algorithm: key.algorithm.rawValue,
            status: Schemas.SigningKey.StatusPayload(rawValue: key.status.rawValue) ?? .retired, createdAt: key.createdAt,
            retiredAt: key.retiredAt)
    }

    static func signIn(_ event: SignInEvent) -> Schemas.SignIn {
        Schemas.SignIn(
            time: event.time, tenant: event.tenant, clientId: event.clientID, userId: event.userID, step: event.grantType,
            scopes: event.scopes, credential: event.credential,
            result: event.result == .success ? .success : .failure, errorCode: event.errorCode, error: event.error,
            traceId: event.traceID, correlationId: event.correlationID, clientIp: event.clientIP, userAgent: event.userAgent,
            latencyMs: Double(event.latencyMicros) / 1000)
    }

    static func audit(_ entry: AuditEntry) -> Schemas.AuditEntry {
        func object(_ text: String?) -> OpenAPIObjectContainer? {
            text.flatMap { try? JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data($0.utf8)) }
        }
        return Schemas.AuditEntry(
            id: entry.id, at: entry.at, tenant: entry.tenant.value, actor: entry.actor, action: entry.action, target: entry.target,
            before: object(entry.before), after: object(entry.after), traceId: entry.traceID, source: entry.source)
    }

    /// A JSON object from a request (a JWKS) as the text Core keeps.
    static func text(_ object: OpenAPIObjectContainer) throws -> String {
        String(decoding: try JSONEncoder().encode(object), as: UTF8.self)
    }
}
