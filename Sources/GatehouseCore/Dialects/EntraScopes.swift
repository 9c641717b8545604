import Foundation

/// How the Entra dialect reads `scope`: a permission is `{resource}/{name}` (for example
/// `api://orders/Orders.Read`), `{resource}/.default` means every permission the client was
/// registered with for that resource, and the OpenID Connect scopes stand alone. One request
/// names at most one resource, as on the Microsoft identity platform. A client's registered
/// permissions are the `{resource}/{name}` entries of its allowed scopes; the resources it may
/// call are its allowed resources.
public enum EntraScopes {
    public static let openIDScopes: Set<String> = ["openid", "profile", "email", "offline_access"]

    /// Splits `{resource}/{name}` at the last `/`; nil for a bare name.
    static func split(_ token: String) -> (resource: String, name: String)? {
        guard let slash = token.lastIndex(of: "/"), slash != token.startIndex else { return nil }
        let name = String(token[token.index(after: slash)...])
        let resource = String(token[..<slash])
        // The slash must not be the one of `scheme://` (`api://orders` is a resource, not a permission).
        guard !name.isEmpty, !resource.isEmpty, !resource.hasSuffix(":"), !resource.hasSuffix(":/") else { return nil }
        return (resource, name)
    }

    /// The permission names of a granted scope, without resource prefixes; the OpenID Connect
    /// scopes when there are no others (the `scp` claim).
    public static func permissionNames(_ scope: Scope) -> String? {
        let names = scope.tokens.compactMap { token in split(token)?.name }
        if !names.isEmpty { return names.joined(separator: " ") }
        return scope.isEmpty ? nil : scope.tokens.joined(separator: " ")
    }

    /// Delegated flows (authorization code, device code, password, on-behalf-of): the granted
    /// scope (full tokens, `.default` expanded) and the audience.
    public static func delegated(requested raw: String?, client: Client, tenant: TenantName, fallback: String) throws(CatalogueError) -> (
        scope: Scope, audience: [String]
    ) {
        guard let raw else {
            let scope = try ScopeAndAudience.grantedScope(requested: nil, client: client)
            return (scope, try ScopeAndAudience.audience(requested: [], client: client, tenant: tenant, fallback: fallback))
        }
        let requested = try Scope(parsing: raw)
        var granted: [String] = []
        var resource: String? = nil
        for token in requested.tokens {
            if openIDScopes.contains(token) {
                guard client.allows(scope: token) else {
                    throw CatalogueError(Catalogue.scopeNotAllowed, ["clientId": client.id.value, "scope": token])
                }
                granted.append(token)
                continue
            }
            guard let (tokenResource, name) = split(token) else {
                guard client.allows(scope: token) else {
                    throw CatalogueError(Catalogue.scopeNotAllowed, ["clientId": client.id.value, "scope": token])
                }
                granted.append(token)
                continue
            }
            if let resource, resource != tokenResource {
                throw CatalogueError(
                    Catalogue.invalidScope, ["scope": token], detail: "a second resource '\(tokenResource)' after '\(resource)'")
            }
            try requireResource(tokenResource, client: client, tenant: tenant)
            resource = tokenResource
            if name == ".default" {
                granted += registered(for: tokenResource, client: client)
            } else {
                guard client.allows(scope: token) else {
                    throw CatalogueError(Catalogue.scopeNotAllowed, ["clientId": client.id.value, "scope": token])
                }
                granted.append(token)
            }
        }
        var unique: [String] = []
        for token in granted where !unique.contains(token) { unique.append(token) }
        if let resource { return (Scope(tokens: unique), [resource]) }
        return (Scope(tokens: unique), try ScopeAndAudience.audience(requested: [], client: client, tenant: tenant, fallback: fallback))
    }

    /// Client credentials: exactly one `{resource}/.default` (else 1002012); the roles are the
    /// client's registered permissions for that resource.
    public static func application(requested raw: String?, client: Client, tenant: TenantName) throws(CatalogueError) -> (
        scope: Scope, audience: [String], roles: [String]
    ) {
        guard let raw else { throw CatalogueError(Catalogue.missingParameter, ["name": "scope"]) }
        let requested = try Scope(parsing: raw)
        guard requested.tokens.count == 1, let (resource, name) = split(requested.tokens[0]), name == ".default" else {
            throw CatalogueError(Catalogue.defaultScopeRequired, ["scope": String(raw.prefix(200))])
        }
        try requireResource(resource, client: client, tenant: tenant)
        let roles = registered(for: resource, client: client).compactMap { split($0)?.name }
        return (requested, [resource], roles)
    }

    private static func requireResource(_ resource: String, client: Client, tenant: TenantName) throws(CatalogueError) {
        guard client.allowedResources.contains(where: { $0.value == resource }) else {
            throw CatalogueError(Catalogue.resourceNotFound, ["resource": resource, "tenant": tenant.value])
        }
    }

    private static func registered(for resource: String, client: Client) -> [String] {
        client.allowedScopes.tokens.filter { split($0)?.resource == resource }
    }
}
