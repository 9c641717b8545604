import Foundation

/// Gives the key ring of a tenant.
public protocol KeyRingProvider: Sendable {
    func keyRing(for tenant: TenantName) async throws -> KeyRing
}

/// An issued access token.
public struct IssuedAccessToken: Sendable {
    public let token: String
    public let expiresIn: Int
    public let claims: AccessTokenClaims
}

/// Turns decided claims into signed JWT access tokens (RFC 9068).
public struct TokenIssuer: Sendable {
    public let keyRings: any KeyRingProvider
    public let time: TimeSource
    public let random: RandomSource

    public init(keyRings: any KeyRingProvider, time: TimeSource = .system, random: RandomSource = .system) {
        self.keyRings = keyRings
        self.time = time
        self.random = random
    }

    /// Signs an access token. With `entra`, the token carries the v2.0 claims and `scp`/`roles`
    /// instead of `scope` (the Entra dialect).
    public func issueAccessToken(
        tenant: Tenant, issuer: String, subject: String, clientID: ClientID, audience: [String], scope: Scope,
        authTime: Date? = nil, grantID: String? = nil, entra: EntraTokenContext? = nil
    ) async throws -> IssuedAccessToken {
        let now = Int(time.now().timeIntervalSince1970)
        let lifetime = tenant.accessTokenLifetime
        let jti = random.token(byteCount: 16)
        let entraClaims = entra.map { context in
            EntraAccessClaims(
                tid: tenant.guid, oid: context.objectID, azpacr: context.azpacr,
                scp: context.roles == nil ? EntraScopes.permissionNames(scope) : nil,
                roles: context.roles, uti: jti, rh: random.token(byteCount: 12), name: context.name,
                preferredUsername: context.preferredUsername, idtyp: context.roles == nil ? nil : "app")
        }
        let claims = AccessTokenClaims(
            iss: issuer, sub: subject, aud: audience, exp: now + lifetime, iat: now,
            jti: jti, clientID: clientID.value, scope: scope.isEmpty || entra != nil ? nil : scope.description,
            authTime: authTime.map { Int($0.timeIntervalSince1970) }, grantID: grantID, entra: entraClaims)
        let ring = try await keyRings.keyRing(for: tenant.name)
        let token = try await ring.sign(claims, type: "at+jwt")
        return IssuedAccessToken(token: token, expiresIn: lifetime, claims: claims)
    }
}

/// What the Entra dialect adds to an access token beyond the request: who the token is about
/// and how the client authenticated.
public struct EntraTokenContext: Sendable {
    public let objectID: String
    public let azpacr: String
    /// Application permissions for app-only tokens; nil for delegated tokens (then `scp`).
    public let roles: [String]?
    public let name: String?
    public let preferredUsername: String?

    public init(objectID: String, azpacr: String, roles: [String]? = nil, name: String? = nil, preferredUsername: String? = nil) {
        self.objectID = objectID
        self.azpacr = azpacr
        self.roles = roles
        self.name = name
        self.preferredUsername = preferredUsername
    }
}

/// A successful token response (RFC 6749 §5.1), plus the Entra dialect's `ext_expires_in` and
/// `client_info` (base64url of `{"uid":…,"utid":…}`).
public struct TokenResponse: Sendable, Encodable, Equatable {
    public let accessToken: String
    public let tokenType: String
    public let expiresIn: Int
    public let scope: String?
    public let refreshToken: String?
    public let idToken: String?
    public var extExpiresIn: Int?
    public var clientInfo: String?

    public init(
        accessToken: String, tokenType: String = "Bearer", expiresIn: Int, scope: String?, refreshToken: String? = nil,
        idToken: String? = nil
    ) {
        self.refreshToken = refreshToken
        self.idToken = idToken
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresIn = expiresIn
        self.scope = scope
    }

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case scope
        case refreshToken = "refresh_token"
        case idToken = "id_token"
        case extExpiresIn = "ext_expires_in"
        case clientInfo = "client_info"
    }

    /// Optional members are left out rather than written as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tokenType, forKey: .tokenType)
        try container.encodeIfPresent(scope, forKey: .scope)
        try container.encode(expiresIn, forKey: .expiresIn)
        try container.encodeIfPresent(extExpiresIn, forKey: .extExpiresIn)
        try container.encode(accessToken, forKey: .accessToken)
        try container.encodeIfPresent(refreshToken, forKey: .refreshToken)
        try container.encodeIfPresent(idToken, forKey: .idToken)
        try container.encodeIfPresent(clientInfo, forKey: .clientInfo)
    }
}
