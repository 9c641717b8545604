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
        let scope = try ScopeAndAudience.grantedScope(requested: request.form["scope"], client: client)
        let audience = try ScopeAndAudience.audience(requested: request.form.all("resource"), client: client, tenant: request.tenant.name, fallback: request.issuer)
        let token = try await issuer.issueAccessToken(
            tenant: request.tenant, issuer: request.issuer, subject: client.id.value, clientID: client.id, audience: audience, scope: scope)
        return GrantOutcome(
            response: TokenResponse(accessToken: token.token, expiresIn: token.expiresIn, scope: scope.isEmpty ? nil : scope.description),
            scope: scope)
    }
}
