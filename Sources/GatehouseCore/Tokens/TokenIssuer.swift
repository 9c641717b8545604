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

    public func issueAccessToken(tenant: Tenant, issuer: String, subject: String, clientID: ClientID, audience: [String], scope: Scope,
                                 authTime: Date? = nil, grantID: String? = nil) async throws -> IssuedAccessToken {
        let now = Int(time.now().timeIntervalSince1970)
        let lifetime = tenant.accessTokenLifetime
        let claims = AccessTokenClaims(
            iss: issuer, sub: subject, aud: audience, exp: now + lifetime, iat: now,
            jti: random.token(byteCount: 16), clientID: clientID.value, scope: scope.isEmpty ? nil : scope.description,
            authTime: authTime.map { Int($0.timeIntervalSince1970) }, grantID: grantID)
        let ring = try await keyRings.keyRing(for: tenant.name)
        let token = try await ring.sign(claims, type: "at+jwt")
        return IssuedAccessToken(token: token, expiresIn: lifetime, claims: claims)
    }
}

/// A successful token response (RFC 6749 §5.1).
public struct TokenResponse: Sendable, Encodable, Equatable {
    public let accessToken: String
    public let tokenType: String
    public let expiresIn: Int
    public let scope: String?
    public let refreshToken: String?
    public let idToken: String?

    public init(accessToken: String, tokenType: String = "Bearer", expiresIn: Int, scope: String?, refreshToken: String? = nil, idToken: String? = nil) {
        self.refreshToken = refreshToken
        self.idToken = idToken
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresIn = expiresIn
        self.scope = scope
    }

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in", scope
        case refreshToken = "refresh_token", idToken = "id_token"
    }
}
