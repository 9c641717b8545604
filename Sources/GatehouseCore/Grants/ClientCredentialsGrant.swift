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
        let access = try request.dialect.applicationAccess(
            requested: request.form["scope"], resources: request.form.all("resource"), access: request.client.record.access,
            fallback: request.issuer)
        let token = try await issuer.issueAccessToken(
            tenant: request.tenant, issuer: request.issuer,
            subject: TokenSubject(objectID: client.id.value, clientMethod: request.client.method, roles: access.roles),
            clientID: client.id, audience: access.audience, scope: access.scope, dialect: request.dialect,
            lifetime: request.client.record.access.accessTokenLifetime(
                audience: access.audience, tenantDefault: request.tenant.accessTokenLifetime), binding: request.binding)
        return GrantOutcome(
            response: TokenResponse(
                accessToken: token.token, tokenType: request.binding?.tokenType ?? "Bearer", expiresIn: token.expiresIn,
                scope: access.responseScope),
            scope: access.scope)
    }
}
