import Foundation

/// Decides the granted scope and the audience of a token request (RFC 6749 §3.3, RFC 8707 §2).
public enum ScopeAndAudience {
    /// The requested scope, or the client's defaults; every token must be allowed for the client
    /// (`delegated`: a user's token, where the OpenID Connect scopes need no listing; an
    /// application's token takes only what the client lists).
    public static func grantedScope(requested raw: String?, client: Client, delegated: Bool = true) throws(CatalogueError) -> Scope {
        guard let raw else {
            guard !client.defaultScopes.isEmpty else { throw CatalogueError(Catalogue.noScope, ["clientId": client.id.value]) }
            return client.defaultScopes
        }
        let requested = try Scope(parsing: raw)
        if let refused = requested.tokens.first(where: { delegated ? !client.allows(scope: $0) : !client.allowedScopes.set.contains($0) }) {
            throw CatalogueError(Catalogue.scopeNotAllowed, ["clientId": client.id.value, "scope": refused])
        }
        return requested
    }

    /// RFC 8707 §2.2 at the token endpoint for a grant the user authorized (code, refresh, device):
    /// the `resource` values narrow the token's audience among those of the grant; none keeps the
    /// grant's. A value the grant does not cover is `invalid_target` (9900125), a malformed one 9900123.
    public static func narrowedAudience(requested raws: [String], granted: [String]) throws(CatalogueError) -> [String] {
        guard !raws.isEmpty else { return granted }
        var audience: [String] = []
        for raw in raws {
            let resource = try ResourceIndicator(raw)
            guard granted.contains(resource.value) else {
                throw CatalogueError(
                    Catalogue.resourceNotInGrant, ["resource": resource.value], detail: "the grant's audience is \(granted)")
            }
            if !audience.contains(resource.value) { audience.append(resource.value) }
        }
        return audience
    }

    /// The `aud` values: the requested resources, each allowed for the client; without any, the
    /// client's first allowed resource, or else `fallback` (the issuer).
    public static func audience(requested raws: [String], client: Client, tenant: TenantName, fallback: String) throws(CatalogueError)
        -> [String]
    {
        guard !raws.isEmpty else {
            return [client.allowedResources.first?.value ?? fallback]
        }
        var audience: [String] = []
        for raw in raws {
            let resource = try ResourceIndicator(raw)
            guard client.allowedResources.contains(resource) else {
                throw CatalogueError(Catalogue.resourceNotFound, ["resource": resource.value, "tenant": tenant.value])
            }
            if !audience.contains(resource.value) { audience.append(resource.value) }
        }
        return audience
    }
}
