import Foundation

/// The client credentials grant (RFC 6749 §4.4). Confidential clients only (§4.4: "MUST only be
/// used by confidential clients"); the subject of the token is the client itself.
public struct ClientCredentialsGrant: GrantHandler {
    public let grantType = GrantType.clientCredentials
    public let parameters: Set<String> = ["scope", "resource"]
    public let issuer: TokenIssuer

    public init(issuer: TokenIssuer) {
        self.issuer = issuer
    }

    public func exchange(_ request: TokenRequest) async throws -> GrantOutcome {
        let client = request.client.client
        if request.dialect == .entra {
            // Entra: exactly `{resource}/.default`; the token carries the registered permissions as `roles`.
            let (scope, audience, roles) = try EntraScopes.application(
                requested: request.form["scope"], client: client, tenant: request.tenant.name)
            let context = EntraTokenContext(
                objectID: client.id.value, azpacr: EntraAccessClaims.azpacr(request.client.method), roles: roles)
            let token = try await issuer.issueAccessToken(
                tenant: request.tenant, issuer: request.issuer, subject: client.id.value, clientID: client.id, audience: audience,
                scope: scope, entra: context)
            // Entra's client credentials response has no scope.
            return GrantOutcome(response: TokenResponse(accessToken: token.token, expiresIn: token.expiresIn, scope: nil), scope: scope)
        }
        let scope = try ScopeAndAudience.grantedScope(requested: request.form["scope"], client: client)
        let audience = try ScopeAndAudience.audience(
            requested: request.form.all("resource"), client: client, tenant: request.tenant.name, fallback: request.issuer)
        let token = try await issuer.issueAccessToken(
            tenant: request.tenant, issuer: request.issuer, subject: client.id.value, clientID: client.id, audience: audience, scope: scope)
        return GrantOutcome(
            response: TokenResponse(accessToken: token.token, expiresIn: token.expiresIn, scope: scope.isEmpty ? nil : scope.description),
            scope: scope)
    }
}
