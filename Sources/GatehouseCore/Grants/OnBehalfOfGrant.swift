import Foundation

/// On-behalf-of (the Microsoft identity platform's use of the RFC 7523 JWT bearer grant with
/// `requested_token_use=on_behalf_of`): a confidential API exchanges the user's access token it
/// received for a token to a downstream API, for the same user. The assertion must be a live
/// user access token of this tenant (signature, issuer, expiry, revocation, grant) whose
/// audience is the calling client (its client ID or `api://{client ID}`).
public struct OnBehalfOfGrant: GrantHandler {
    public let grantType = GrantType.jwtBearer
    public let parameters: Set<String> = ["assertion", "requested_token_use", "scope", "resource"]
    public let inspector: TokenInspector
    public let users: any UserStore
    public let issuer: DirectGrantIssuer

    public init(inspector: TokenInspector, users: any UserStore, issuer: DirectGrantIssuer) {
        self.inspector = inspector
        self.users = users
        self.issuer = issuer
    }

    public func exchange(_ request: TokenRequest) async throws -> GrantOutcome {
        let use = try request.form.require("requested_token_use")
        guard use == "on_behalf_of" else {
            throw CatalogueError(
                Catalogue.invalidParameterValue, ["name": "requested_token_use"],
                detail: "only on_behalf_of is supported, got \(use.prefix(40))")
        }
        let assertion = try request.form.require("assertion")
        let client = request.client.client
        guard client.type == .confidential else {
            throw CatalogueError(Catalogue.publicClientWithCredential, detail: "on-behalf-of needs a confidential client")
        }
        let claims: AccessTokenClaims
        switch await inspector.accessToken(assertion, tenant: request.tenant.name, issuers: request.tenantIssuers) {
        case .success(let valid): claims = valid
        case .failure(let reason): throw CatalogueError(Catalogue.invalidAssertion, ["reason": reason.rawValue])
        }
        guard claims.isUserToken, let authTime = claims.authTime else {
            throw CatalogueError(Catalogue.invalidAssertion, ["reason": "not a token issued to a user"])
        }
        let ownNames: Set<String> = [client.id.value, "api://\(client.id.value)"]
        guard claims.aud.contains(where: ownNames.contains) else {
            throw CatalogueError(Catalogue.assertionAudienceMismatch, ["clientId": client.id.value], detail: "assertion aud \(claims.aud)")
        }
        guard let user = try await users.user(tenant: request.tenant.name, id: claims.sub) else {
            throw CatalogueError(Catalogue.invalidAssertion, ["reason": "the user no longer exists"])
        }
        guard user.enabled else { throw CatalogueError(Catalogue.userDisabled, detail: "user \(user.id) is disabled") }
        let (scope, audience) = try DirectGrantIssuer.delegatedScope(request)
        return try await issuer.issue(
            user: user, scope: scope, audience: audience, amr: ["pwd"], authTime: Date(timeIntervalSince1970: Double(authTime)),
            sessionID: nil, request: request)
    }
}
