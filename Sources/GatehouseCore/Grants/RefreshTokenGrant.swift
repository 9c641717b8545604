import Foundation

/// The refresh token grant (RFC 6749 §6) with rotation on every use, exactly one live refresh
/// token per grant, reuse detection, a grace period for retries that answers the same successor,
/// and sliding and absolute lifetimes (`RefreshRotation`).
public struct RefreshTokenGrant: GrantHandler {
    public let grantType = GrantType.refreshToken
    public let parameters: Set<String> = ["refresh_token", "scope", "resource"]
    public let grants: any GrantStore
    public let hasher: SecretHasher
    public let minter: UserTokenMinter
    public let policy: SignInPolicy
    public let time: TimeSource
    public let random: RandomSource
    /// The tenant's APIs: an audience value that names one the client is no longer granted stops
    /// the refresh (nil: none checked).
    public let apis: (any ResourceStore)?

    public init(
        grants: any GrantStore, hasher: SecretHasher, minter: UserTokenMinter, policy: SignInPolicy, time: TimeSource = .system,
        random: RandomSource = .system, apis: (any ResourceStore)? = nil
    ) {
        self.apis = apis
        self.grants = grants
        self.hasher = hasher
        self.minter = minter
        self.policy = policy
        self.time = time
        self.random = random
    }

    public func exchange(_ request: TokenRequest) async throws -> GrantOutcome {
        let presented = try request.form.require("refresh_token")
        let now = time.now()
        guard let (record, found) = try await grants.refreshTokenWithGrant(hash: hasher.hash(presented)),
            found.tenant == request.tenant.name
        else {
            throw CatalogueError(Catalogue.invalidGrant, ["name": "refresh_token"], detail: "unknown refresh token")
        }
        var grant = found
        guard grant.clientID == request.client.client.id else {
            throw CatalogueError(
                Catalogue.grantIssuedToAnotherClient, ["name": "refresh_token"], detail: "refresh token of client \(grant.clientID)")
        }
        // RFC 9449 §5: a public client's refresh tokens are bound to the key it used DPoP with;
        // without a proof by that key they are refused (the grant is not revoked: whoever holds
        // a copy without the key must not be able to end the client's grant). A grant's binding
        // is fixed when its first refresh token is issued, so it cannot change under this loop.
        let bound = request.client.client.type == .public && grant.binding != nil
        if bound, let binding = grant.binding, !binding.matches(request.binding) {
            throw CatalogueError(
                Catalogue.refreshTokenBoundToKey,
                ["reason": request.binding == nil ? "the request has no DPoP proof" : "the proof is by another key"],
                detail: "grant \(grant.id)")
        }
        let scope = try narrowedScope(request.form["scope"], grant: grant, request: request)
        let audience = try ScopeAndAudience.narrowedAudience(requested: request.form.all("resource"), granted: grant.audience)
        let access = request.client.record.access
        var withdrawn: Set<String> = []
        if let apis {
            for value in audience where access.api(named: value) == nil {
                if try await apis.api(tenant: request.tenant.name, named: value) != nil { withdrawn.insert(value) }
            }
        }
        try ScopeAndAudience.requireStillGranted(scope: scope, audience: audience, access: access, withdrawn: withdrawn)
        // Everything that can refuse is checked before the rotation: a refused request must not
        // move the grant on, or the token the client still holds would later count as reuse.
        let user = try await minter.activeUser(of: grant)
        for _ in 0..<4 {
            if let revokedAt = grant.revokedAt {
                throw CatalogueError(Catalogue.grantRevoked, detail: "grant \(grant.id) revoked at \(revokedAt)")
            }
            if now > grant.refreshExpiry(policy: policy) {
                throw CatalogueError(
                    Catalogue.refreshTokenExpired,
                    detail: "grant \(grant.id) created \(grant.createdAt), last used \(grant.lastUsedAt ?? grant.createdAt)")
            }
            // The successor is a function of the presented token and its generation under the
            // server key: every retry of one token answers the same one, and only its hash is stored.
            let value = Self.successor(of: presented, generation: record.generation, grantID: grant.id, hasher: hasher)
            let issued: Bool
            let window = policy.refreshRetryWindow(for: request.client.client.type, bound: bound)
            var note: String? = nil
            switch RefreshRotation.decide(presented: record.generation, grant: grant, now: now, window: window) {
            case .rotate(let generation):
                issued = try await grants.rotate(
                    grantID: grant.id, from: generation, newHash: hasher.hash(value), now: now, origin: originHash(request.origin))
            case .reissue(let generation):
                // The rotation from this very token stored its successor as the live token.
                guard let live = try await grants.refreshToken(hash: hasher.hash(value)), live.grantID == grant.id,
                    live.generation == generation
                else {
                    try await grants.revokeGrant(id: grant.id, now: now)
                    throw CatalogueError(
                        Catalogue.refreshTokenReused,
                        detail:
                            "generation \(record.generation) presented within the grace period, but it was not the token rotated from; grant \(grant.id) revoked"
                    )
                }
                // A public client has no credential: a retry is its own only if it comes from where
                // the rotation came from (address and user agent); anything else is a replay.
                // With a bound grant the key decides (checked above): a replayer lacks it.
                if request.client.client.type == .public, !bound, let rotatedBy = live.origin,
                    !constantTimeEquals(Array(rotatedBy.utf8), Array(originHash(request.origin).utf8))
                {
                    try await grants.revokeGrant(id: grant.id, now: now)
                    throw CatalogueError(
                        Catalogue.refreshTokenReused,
                        detail:
                            "generation \(record.generation) presented within the grace period from another address or user agent than the rotation (from \(request.origin.source)); grant \(grant.id) revoked"
                    )
                }
                issued = true
                // Kept whole in the sign-in log (never only counted): a retry is what a thief's
                // replay would look like too.
                note =
                    "retry of the replaced refresh token (generation \(record.generation)) \(Int(now.timeIntervalSince(grant.rotatedAt ?? now)))"
                    + " s after the rotation, within the \(Int(window)) s window: the same successor answered; grant \(grant.id)"
            case .reuseDetected:
                try await grants.revokeGrant(id: grant.id, now: now)
                throw CatalogueError(
                    Catalogue.refreshTokenReused,
                    detail: "generation \(record.generation) presented, grant at \(grant.generation); grant \(grant.id) revoked")
            }
            if issued {
                let response = try await minter.mint(
                    grant: grant, user: user, scope: scope, request: request, refreshToken: value, includeNonce: false, audience: audience)
                return GrantOutcome(response: response, scope: scope, userID: grant.userID, note: note)
            }
            // Another request moved the grant on (or revoked it): decide again on fresh state.
            guard let fresh = try await grants.grant(id: grant.id) else { break }
            grant = fresh
        }
        throw CatalogueError(Catalogue.invalidGrant, ["name": "refresh_token"], detail: "grant vanished or contention")
    }

    /// Who a request came from, as a rotation records it: a keyed hash of its source address and
    /// user agent (neither is stored as it is).
    func originHash(_ origin: RequestOrigin) -> String {
        hasher.derive("refresh-origin", "\(origin.source)\u{0}\(origin.userAgent ?? "")")
    }

    /// The refresh token that replaces `presented` (of `generation`, in grant `grantID`).
    static func successor(of presented: String, generation: Int, grantID: String, hasher: SecretHasher) -> String {
        hasher.derive("refresh-successor", "\(grantID)\u{0}\(generation)\u{0}\(presented)")
    }

    /// RFC 6749 §6: the scope may narrow, never widen; by default it is the grant's.
    private func narrowedScope(_ raw: String?, grant: AuthorizationGrant, request: TokenRequest) throws(CatalogueError) -> Scope {
        guard let raw else { return grant.scope }
        let requested = try request.dialect.refreshScope(
            requested: raw, access: request.client.record.access, fallback: request.issuer)
        if let extra = requested.notContained(in: grant.scope).first { throw CatalogueError(Catalogue.scopeExceedsGrant, ["scope": extra]) }
        return requested
    }
}
