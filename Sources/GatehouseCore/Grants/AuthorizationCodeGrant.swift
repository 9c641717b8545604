import Foundation

/// The authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.5-4.6). The code is redeemed by one
/// conditional update; a second redemption revokes everything issued from the first (§4.1.2).
public struct AuthorizationCodeGrant: GrantHandler {
    public let grantType = GrantType.authorizationCode
    public let parameters: Set<String> = ["code", "redirect_uri", "code_verifier", "resource"]
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

    public func exchange(_ request: TokenRequest) async throws -> GrantOutcome {
        let code = try request.form.require("code")
        // A malformed resource is refused before the code is spent.
        for raw in request.form.all("resource") { _ = try ResourceIndicator(raw) }
        let now = time.now()
        let grant: AuthorizationGrant
        switch try await grants.redeemCode(hash: hasher.hash(code), now: now, binding: request.binding) {
        case .unknown:
            throw CatalogueError(Catalogue.invalidGrant, ["name": "code"], detail: "unknown code")
        case .alreadyRedeemed(let redeemed):
            let revoked = try await grants.revokeGrant(id: redeemed.id, now: now)
            throw CatalogueError(
                Catalogue.codeAlreadyRedeemed, detail: "grant \(redeemed.id) \(revoked ? "revoked now" : "was revoked already")")
        case .redeemed(let redeemed):
            grant = redeemed
        }
        do {
            try check(grant, request: request, now: now)
        } catch {
            // The code is used up either way; nothing was issued from it.
            try await grants.revokeGrant(id: grant.id, now: now)
            throw error
        }
        let audience: [String]
        do {
            audience = try ScopeAndAudience.narrowedAudience(requested: request.form.all("resource"), granted: grant.audience)
        } catch {
            // Like any other refusal of a redeemed code: nothing was issued from it.
            try await grants.revokeGrant(id: grant.id, now: now)
            throw error
        }
        let user = try await minter.activeUser(of: grant)
        let refreshToken = try await DirectGrantIssuer.firstRefreshToken(
            of: grant, grants: grants, hasher: hasher, random: random, now: now)
        let response = try await minter.mint(
            grant: grant, user: user, scope: grant.scope, request: request, refreshToken: refreshToken, includeNonce: true,
            audience: audience)
        return GrantOutcome(response: response, scope: grant.scope, userID: grant.userID)
    }

    private func check(_ grant: AuthorizationGrant, request: TokenRequest, now: Date) throws(CatalogueError) {
        guard grant.clientID == request.client.client.id, grant.tenant == request.tenant.name else {
            throw CatalogueError(Catalogue.grantIssuedToAnotherClient, ["name": "code"], detail: "code of client \(grant.clientID)")
        }
        // A grant revoked after its code was issued (consent withdrawn, user disabled, password
        // reset) yields no tokens for a code still in flight.
        guard grant.revokedAt == nil else {
            throw CatalogueError(Catalogue.codeExpired, detail: "grant \(grant.id) was revoked before its code was redeemed")
        }
        guard grant.codeExpiresAt > now else {
            throw CatalogueError(Catalogue.codeExpired, detail: "code expired at \(grant.codeExpiresAt)")
        }
        // RFC 9449 §10: a code requested with dpop_jkt is redeemed only with a proof by that key
        // (the store keeps the grant's binding when it has one, so a mismatch shows here).
        if let bound = grant.binding, !bound.matches(request.binding) {
            throw CatalogueError(
                Catalogue.codeBoundToKey,
                ["reason": request.binding == nil ? "the request has no DPoP proof" : "the proof is by another key"])
        }
        if let expected = grant.redirectURI {
            guard request.form["redirect_uri"] == expected else { throw CatalogueError(Catalogue.redirectURIMismatchAtRedemption) }
        }
        let verifier = request.form["code_verifier"]
        if let stored = grant.codeChallenge {
            guard let verifier else { throw CatalogueError(Catalogue.codeVerifierMissing) }
            guard CodeChallenge(stored: stored).isSatisfied(by: try CodeVerifier(verifier)) else {
                throw CatalogueError(Catalogue.pkceMismatch)
            }
        } else if verifier != nil {
            throw CatalogueError(Catalogue.codeVerifierUnexpected)
        }
    }
}
