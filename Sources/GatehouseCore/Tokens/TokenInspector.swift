import Foundation
import JWTKit

/// What a presented token turned out to be (introspection, revocation, userinfo).
public enum InspectedToken: Sendable {
    case access(AccessTokenClaims)
    case refresh(RefreshTokenRecord, AuthorizationGrant)
}

/// Recognises and checks access tokens (signature, issuer, expiry, revocation of the token and of
/// its grant) and refresh tokens (known hash, live grant, lifetimes).
public struct TokenInspector: Sendable {
    public let keyRings: any KeyRingProvider
    public let grants: any GrantStore
    public let state: SignInStateStore
    public let hasher: SecretHasher
    public let policy: SignInPolicy
    public let time: TimeSource

    public init(
        keyRings: any KeyRingProvider, grants: any GrantStore, state: SignInStateStore, hasher: SecretHasher, policy: SignInPolicy,
        time: TimeSource = .system
    ) {
        self.keyRings = keyRings
        self.grants = grants
        self.state = state
        self.hasher = hasher
        self.policy = policy
        self.time = time
    }

    /// A valid access token's claims, or a short reason why not.
    public func accessToken(_ raw: String, tenant: TenantName, issuers: Set<String>) async -> Result<AccessTokenClaims, InspectionFailure> {
        guard raw.split(separator: ".", omittingEmptySubsequences: false).count == 3 else { return .failure(.malformed) }
        let claims: AccessTokenClaims
        do {
            claims = try await keyRings.keyRing(for: tenant).verify(raw, as: AccessTokenClaims.self)
        } catch {
            return .failure(.signature)
        }
        let now = time.now()
        guard issuers.contains(claims.iss) else { return .failure(.issuer) }
        guard Double(claims.exp) > now.timeIntervalSince1970 else { return .failure(.expired) }
        do {
            if try await state.isAccessTokenRevoked(jti: claims.jti, now: now) { return .failure(.revoked) }
            if let grantID = claims.grantID {
                guard let grant = try await grants.grant(id: grantID), grant.revokedAt == nil else { return .failure(.revoked) }
            }
        } catch {
            return .failure(.unavailable)
        }
        return .success(claims)
    }

    /// A live refresh token and its grant, or nil. A replaced token inside its retry window
    /// (`SignInPolicy.refreshRetryWindow(for:)`, for the presenting client's type: only the
    /// grant's own client is answered about it) still counts as live.
    public func refreshToken(_ raw: String, tenant: TenantName, clientType: ClientType = .public) async throws -> (
        RefreshTokenRecord, AuthorizationGrant
    )? {
        guard let (record, grant) = try await grants.refreshTokenWithGrant(hash: hasher.hash(raw)), grant.tenant == tenant,
            grant.revokedAt == nil
        else { return nil }
        let now = time.now()
        guard now <= grant.refreshExpiry(policy: policy),
            RefreshRotation.decide(
                presented: record.generation, grant: grant, now: now,
                window: policy.refreshRetryWindow(for: clientType, bound: clientType == .public && grant.binding != nil))
                != .reuseDetected
        else { return nil }
        return (record, grant)
    }

    /// Tries the hinted type first (RFC 7009 §2.1, RFC 7662 §2.1), then the other.
    public func inspect(_ raw: String, hint: String?, tenant: TenantName, issuers: Set<String>, clientType: ClientType = .public)
        async throws -> InspectedToken?
    {
        let looksLikeJWT = raw.contains(".")
        if hint == "refresh_token" || !looksLikeJWT {
            if let (record, grant) = try await refreshToken(raw, tenant: tenant, clientType: clientType) { return .refresh(record, grant) }
            if looksLikeJWT, case .success(let claims) = await accessToken(raw, tenant: tenant, issuers: issuers) { return .access(claims) }
            return nil
        }
        if case .success(let claims) = await accessToken(raw, tenant: tenant, issuers: issuers) { return .access(claims) }
        if let (record, grant) = try await refreshToken(raw, tenant: tenant, clientType: clientType) { return .refresh(record, grant) }
        return nil
    }
}

public enum InspectionFailure: String, Error, Sendable {
    case malformed = "malformed token"
    case signature = "signature does not verify"
    case issuer = "issued by another tenant"
    case expired = "token expired"
    case revoked = "token revoked"
    case unavailable = "revocation state unavailable"
}
