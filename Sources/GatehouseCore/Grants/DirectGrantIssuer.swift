import Foundation

/// Issues tokens to a user without an authorization code (password, device code): one grant
/// row (so refresh rotation, revocation and `grant_id` work as for codes) with a code nobody
/// knows, marked redeemed; a refresh token when the grant is offline; then the minter.
public struct DirectGrantIssuer: Sendable {
    public let grants: any GrantStore
    public let hasher: SecretHasher
    public let minter: UserTokenMinter
    public let time: TimeSource
    public let random: RandomSource

    public init(
        grants: any GrantStore, hasher: SecretHasher, minter: UserTokenMinter, time: TimeSource = .system, random: RandomSource = .system
    ) {
        self.grants = grants
        self.hasher = hasher
        self.minter = minter
        self.time = time
        self.random = random
    }

    /// `tokenAudience` narrows the access token's audience to some of the grant's (RFC 8707 §2.2).
    public func issue(
        user: User, scope: Scope, audience: [String], amr: [String], authTime: Date, sessionID: String?, request: TokenRequest,
        tokenAudience: [String]? = nil
    ) async throws -> GrantOutcome {
        let now = time.now()
        let client = request.client.client
        let offline = AuthorizationGrant.isOffline(client: client, scope: scope)
        let grant = AuthorizationGrant(
            id: random.token(byteCount: 16), tenant: client.tenant, clientID: client.id, userID: user.id, scope: scope, audience: audience,
            nonce: nil, authTime: authTime, sessionID: sessionID, amr: amr, codeHash: hasher.hash(random.token(byteCount: 32)),
            codeChallenge: nil, redirectURI: nil, codeExpiresAt: now, codeRedeemedAt: now, createdAt: now, offline: offline,
            binding: request.binding)
        try await grants.createGrant(grant)
        let refreshToken = try await Self.firstRefreshToken(of: grant, grants: grants, hasher: hasher, random: random, now: now)
        let response = try await minter.mint(
            grant: grant, user: user, scope: scope, request: request, refreshToken: refreshToken, includeNonce: false,
            audience: tokenAudience)
        return GrantOutcome(response: response, scope: scope, userID: user.id)
    }

    /// The first refresh token of an offline grant (nil otherwise), recorded at the grant's
    /// generation; 50173 if the grant was revoked meanwhile.
    static func firstRefreshToken(
        of grant: AuthorizationGrant, grants: any GrantStore, hasher: SecretHasher, random: RandomSource, now: Date
    ) async throws -> String? {
        guard grant.offline else { return nil }
        let value = random.token(byteCount: 32)
        guard try await grants.addRefreshToken(hash: hasher.hash(value), grantID: grant.id, generation: grant.generation, now: now) else {
            throw CatalogueError(Catalogue.grantRevoked, detail: "grant \(grant.id) revoked before its first refresh token")
        }
        return value
    }

    /// The scope and audience of a delegated request, in the request's dialect.
    public static func delegatedScope(_ request: TokenRequest) throws(CatalogueError) -> (scope: Scope, audience: [String]) {
        try request.dialect.delegatedAccess(
            requested: request.form["scope"], resources: request.form.all("resource"), access: request.client.record.access,
            fallback: request.issuer)
    }
}
