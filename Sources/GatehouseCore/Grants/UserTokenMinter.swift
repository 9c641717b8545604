import Foundation

/// Mints the tokens of a user grant: an access token (RFC 9068, with `auth_time` and
/// `grant_id`), an ID token when `openid` is in scope (OpenID Connect Core §2, §3.1.3.6), and
/// hands back a new opaque refresh token value when asked.
public struct UserTokenMinter: Sendable {
    public let issuer: TokenIssuer
    public let users: UserDirectory
    public let policy: SignInPolicy
    /// Where users' application roles are read (nil: tokens carry none).
    public let roles: (any RoleAssignmentStore)?

    public init(issuer: TokenIssuer, users: UserDirectory, policy: SignInPolicy, roles: (any RoleAssignmentStore)? = nil) {
        self.issuer = issuer
        self.users = users
        self.policy = policy
        self.roles = roles
    }

    /// The application roles `user` holds on the APIs in `audience` that the client was granted,
    /// each still defined by its API (RFC 9068 §2.2.3.1 `roles`).
    func roles(of user: User, audience: [String], access: ClientAccess) async throws -> [String] {
        let apis = audience.compactMap { access.api(named: $0)?.api }
        guard !apis.isEmpty, let store = roles else { return [] }
        var names: [String] = []
        for assignment in try await store.roleAssignments(tenant: user.tenant, userID: user.id)
        where apis.contains(where: { $0.applicationID == assignment.api && $0.role(assignment.role) != nil })
            && !names.contains(assignment.role)
        {
            names.append(assignment.role)
        }
        return names
    }

    /// The grant's user, who must still exist and be enabled.
    public func activeUser(of grant: AuthorizationGrant) async throws -> User {
        try await activeUser(tenant: grant.tenant, id: grant.userID)
    }

    /// The user, who must still exist (else 50173) and be enabled (else 50057).
    public func activeUser(tenant: TenantName, id: String) async throws -> User {
        guard let user = try await users.user(tenant: tenant, id: id) else {
            throw CatalogueError(Catalogue.grantRevoked, detail: "user \(id) no longer exists")
        }
        guard user.enabled else { throw CatalogueError(Catalogue.userDisabled, detail: "user \(user.id) is disabled") }
        return user
    }

    /// `audience` narrows the access token's to some of the grant's (RFC 8707 §2.2); nil: the grant's.
    public func mint(
        grant: AuthorizationGrant, user: User, scope: Scope, request: TokenRequest, refreshToken: String?, includeNonce: Bool,
        audience: [String]? = nil
    ) async throws -> TokenResponse {
        let audience = audience ?? grant.audience
        let access = try await issuer.issueAccessToken(
            tenant: request.tenant, issuer: request.issuer, subject: .user(user, clientMethod: request.client.method),
            clientID: grant.clientID, audience: audience, scope: scope, dialect: request.dialect, authTime: grant.authTime,
            grantID: grant.id,
            lifetime: request.client.record.access.accessTokenLifetime(
                audience: audience, tenantDefault: request.tenant.accessTokenLifetime),
            roles: try await roles(of: user, audience: audience, access: request.client.record.access), binding: request.binding)
        var idToken: String? = nil
        if scope.set.contains("openid") {
            let now = access.claims.iat
            let scopes = scope.set
            let ring = try await issuer.keyRings.keyRing(for: request.tenant.name)
            var claims = IDTokenClaims(
                iss: request.issuer, sub: user.id, aud: grant.clientID.value, exp: now + policy.idTokenLifetime, iat: now,
                authTime: Int(grant.authTime.timeIntervalSince1970), nonce: includeNonce ? grant.nonce : nil, azp: grant.clientID.value,
                atHash: IDTokenClaims.atHash(access.token, algorithm: ring.algorithm), sid: grant.sessionID,
                acr: grant.amr.contains("mfa") ? "2" : "1", amr: grant.amr.isEmpty ? nil : grant.amr,
                name: scopes.contains("profile") ? user.displayName : nil,
                preferredUsername: scopes.contains("profile") ? user.username.value : nil,
                email: scopes.contains("email") ? user.email : nil,
                emailVerified: scopes.contains("email") && user.email != nil ? user.emailVerified : nil)
            request.dialect.decorate(&claims, user: user, tenant: request.tenant, scopes: scopes, random: issuer.random)
            idToken = try await ring.sign(claims, type: "JWT")
        }
        return TokenResponse(
            accessToken: access.token, tokenType: request.binding?.tokenType ?? "Bearer", expiresIn: access.expiresIn,
            scope: scope.description, refreshToken: refreshToken, idToken: idToken)
    }
}
