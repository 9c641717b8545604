import Foundation

/// What a user allowed a client at one sign-in: created with its authorization code, then the
/// family of the refresh tokens issued from it. Revoking it ends the
/// code, every refresh token and (for introspection and userinfo) every access token issued from it.
public struct AuthorizationGrant: Sendable, Hashable {
    /// Public random identifier, carried in access tokens as `grant_id`.
    public let id: String
    public let tenant: TenantName
    public let clientID: ClientID
    public let userID: String
    public let scope: Scope
    public let audience: [String]
    public let nonce: String?
    public let authTime: Date
    /// The browser session (`sid`) the grant came from.
    public let sessionID: String?
    /// RFC 8176 authentication methods (`pwd`, `otp`, `mfa`).
    public let amr: [String]
    /// Keyed hash of the authorization code.
    public let codeHash: String
    public let codeChallenge: String?
    /// The redirect_uri the authorization request carried, if any (RFC 6749 §4.1.3).
    public let redirectURI: String?
    public let codeExpiresAt: Date
    public var codeRedeemedAt: Date?
    public let createdAt: Date
    /// Refresh tokens may be issued from this grant.
    public let offline: Bool
    /// Refresh token generation; rotation moves it on by one with a conditional update.
    public var generation: Int
    public var rotatedAt: Date?
    public var lastUsedAt: Date?
    public var revokedAt: Date?
    /// The key the grant is bound to (RFC 9449): `dpop_jkt` of the authorization request, or the
    /// proof's key of the request that redeemed the code or first used DPoP. The code needs a
    /// proof by it; so do a public client's refresh tokens.
    public var binding: TokenBinding?

    public init(
        id: String, tenant: TenantName, clientID: ClientID, userID: String, scope: Scope, audience: [String], nonce: String?,
        authTime: Date, sessionID: String?, amr: [String], codeHash: String, codeChallenge: String?, redirectURI: String?,
        codeExpiresAt: Date, codeRedeemedAt: Date? = nil, createdAt: Date, offline: Bool, generation: Int = 0,
        rotatedAt: Date? = nil, lastUsedAt: Date? = nil, revokedAt: Date? = nil, binding: TokenBinding? = nil
    ) {
        self.binding = binding
        self.id = id
        self.tenant = tenant
        self.clientID = clientID
        self.userID = userID
        self.scope = scope
        self.audience = audience
        self.nonce = nonce
        self.authTime = authTime
        self.sessionID = sessionID
        self.amr = amr
        self.codeHash = codeHash
        self.codeChallenge = codeChallenge
        self.redirectURI = redirectURI
        self.codeExpiresAt = codeExpiresAt
        self.codeRedeemedAt = codeRedeemedAt
        self.createdAt = createdAt
        self.offline = offline
        self.generation = generation
        self.rotatedAt = rotatedAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}

extension AuthorizationGrant {
    /// Whether refresh tokens may be issued: the client has the refresh grant, and for OpenID
    /// Connect requests `offline_access` was granted (plain OAuth: whenever the client may refresh).
    public static func isOffline(client: Client, scope: Scope) -> Bool {
        client.grantTypes.contains(.refreshToken) && (!scope.set.contains("openid") || scope.set.contains("offline_access"))
    }

    /// When its refresh tokens stop working: the earlier of the sliding end (last use + idle
    /// lifetime) and the absolute end (creation + absolute lifetime).
    public func refreshExpiry(policy: SignInPolicy) -> Date {
        min(
            createdAt.addingTimeInterval(policy.refreshAbsoluteLifetime),
            (lastUsedAt ?? createdAt).addingTimeInterval(policy.refreshIdleLifetime))
    }
}

/// The result of redeeming a code: one conditional update decides it.
public enum CodeRedemption: Sendable, Equatable {
    case redeemed(AuthorizationGrant)
    case alreadyRedeemed(AuthorizationGrant)
    case unknown
}

/// A refresh token as stored: its keyed hash, its grant and the generation it was issued at.
public struct RefreshTokenRecord: Sendable, Hashable {
    public let hash: String
    public let grantID: String
    public let generation: Int
    public let createdAt: Date
    /// Who rotated the grant to this token: a keyed hash of the rotating request's source address
    /// and user agent (`RefreshTokenGrant.originHash`); nil for the first token of a grant.
    public let origin: String?

    public init(hash: String, grantID: String, generation: Int, createdAt: Date, origin: String? = nil) {
        self.hash = hash
        self.grantID = grantID
        self.generation = generation
        self.createdAt = createdAt
        self.origin = origin
    }
}
