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

    public init(grants: any GrantStore, hasher: SecretHasher, minter: UserTokenMinter, time: TimeSource = .system, random: RandomSource = .system) {
        self.grants = grants
        self.hasher = hasher
        self.minter = minter
        self.time = time
        self.random = random
    }

    public func issue(user: User, scope: Scope, audience: [String], amr: [String], authTime: Date, sessionID: String?, request: TokenRequest) async throws -> GrantOutcome {
        let now = time.now()
        let client = request.client.client
        let isOpenID = scope.set.contains("openid")
        let offline = client.grantTypes.contains(.refreshToken) && (!isOpenID || scope.set.contains("offline_access"))
        let grant = AuthorizationGrant(
            id: random.token(byteCount: 16), tenant: client.tenant, clientID: client.id, userID: user.id, scope: scope, audience: audience,
            nonce: nil, authTime: authTime, sessionID: sessionID, amr: amr, codeHash: hasher.hash(random.token(byteCount: 32)),
            codeChallenge: nil, redirectURI: nil, codeExpiresAt: now, codeRedeemedAt: now, createdAt: now, offline: offline)
        try await grants.createGrant(grant)
        var refreshToken: String? = nil
        if offline {
            let value = random.token(byteCount: 32)
            guard try await grants.addRefreshToken(hash: hasher.hash(value), grantID: grant.id, generation: 0, now: now) else {
                throw CatalogueError(Catalogue.grantRevoked, detail: "grant \(grant.id) revoked at creation")
            }
            refreshToken = value
        }
        let response = try await minter.mint(grant: grant, user: user, scope: scope, request: request, refreshToken: refreshToken, includeNonce: false)
        return GrantOutcome(response: response, scope: scope, userID: user.id)
    }

    /// The scope and audience of a delegated request, in the request's dialect.
    public static func delegatedScope(_ request: TokenRequest) throws(CatalogueError) -> (scope: Scope, audience: [String]) {
        try ScopeAndAudience.delegated(requested: request.form["scope"], resources: request.form.all("resource"), client: request.client.client,
                                       tenant: request.tenant.name, fallback: request.issuer, dialect: request.dialect)
    }
}
