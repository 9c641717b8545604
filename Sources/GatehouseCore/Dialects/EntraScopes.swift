import Foundation

/// How the Entra dialect reads `scope`: a permission is `{resource}/{name}` (for example
/// `api://orders/Orders.Read`), `{resource}/.default` means every permission the client was
/// registered with for that resource, and the OpenID Connect scopes stand alone. One request
/// names at most one resource, as on the Microsoft identity platform. `{resource}` names one of
/// the APIs granted to the client (an identifier or its application ID); the permissions are
/// the ones granted there (`ClientAccess`).
public enum EntraScopes {

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
        let names = scope.tokens.filter { !Client.openIDConnectScopes.contains($0) }.map { token in split(token)?.name ?? token }
        if !names.isEmpty { return names.joined(separator: " ") }
        return scope.isEmpty ? nil : scope.tokens.joined(separator: " ")
    }

    /// Delegated flows (authorization code, device code, password, on-behalf-of): the granted
    /// scope (full tokens, `.default` expanded) and the audience.
    public static func delegated(requested raw: String?, access: ClientAccess, fallback: String) throws(CatalogueError) -> (
        scope: Scope, audience: [String]
    ) {
        let client = access.client
        guard let raw else {
            let resolved = try ScopeAndAudience.resolve(
                requested: nil, resources: [], access: access, application: false, fallback: fallback, audienceValue: \.applicationID.value)
            return (resolved.scope, resolved.audience)
        }
        let requested = try Scope(parsing: raw)
        var granted: [String] = []
        var resource: (api: GrantedAPI, written: String)? = nil
        var plain: [String] = []
        /// One API per request, as on the Microsoft identity platform.
        func use(_ api: GrantedAPI, written: String, for token: String) throws(CatalogueError) {
            if let resource, resource.api.api.applicationID != api.api.applicationID {
                throw CatalogueError(
                    Catalogue.invalidScope, ["scope": token], detail: "a second resource '\(written)' after '\(resource.written)'")
            }
            resource = resource ?? (api, written)
        }
        for token in requested.tokens {
            guard let (tokenResource, name) = split(token) else {
                if client.allows(scope: token) {
                    if !Client.openIDConnectScopes.contains(token) { plain.append(token) }
                } else {
                    // A bare permission name: the first API granted it (9900121 if none was).
                    let (api, _) = try ScopeAndAudience.permission(token, targets: [], access: access, application: false)
                    try use(api, written: api.api.defaultAudience, for: token)
                }
                granted.append(token)
                continue
            }
            guard let api = access.api(named: tokenResource) else {
                if client.allowedScopes.set.contains(token) {
                    plain.append(token)
                    granted.append(token)
                    continue
                }
                throw CatalogueError(Catalogue.resourceNotFound, ["resource": tokenResource, "tenant": client.tenant.value])
            }
            try use(api, written: tokenResource, for: token)
            if name == ".default" {
                granted += api.permissions.map { "\(tokenResource)/\($0)" }
            } else {
                _ = try ScopeAndAudience.permission(token, targets: [], access: access, application: false)
                granted.append(token)
            }
        }
        var unique: [String] = []
        for token in granted where !unique.contains(token) { unique.append(token) }
        if let first = plain.first, resource != nil {
            throw CatalogueError(
                Catalogue.scopeNotAllowed, ["clientId": client.id.value, "scope": first],
                detail: "a scope of the client's own names no API: ask for it in a token without API permissions")
        }
        if !plain.isEmpty { return (Scope(tokens: unique), [fallback]) }
        if let resource { return (Scope(tokens: unique), [resource.api.api.applicationID.value]) }
        let audience = [access.apis.first.map(\.api.applicationID.value) ?? fallback]
        return (Scope(tokens: unique), audience)
    }

    /// Client credentials: exactly one `{resource}/.default` (else 1002012); the roles are the
    /// ones granted to the client on that API.
    public static func application(requested raw: String?, access: ClientAccess) throws(CatalogueError) -> (
        scope: Scope, audience: [String], roles: [String]
    ) {
        guard let raw else { throw CatalogueError(Catalogue.missingParameter, ["name": "scope"]) }
        let requested = try Scope(parsing: raw)
        guard requested.tokens.count == 1, let (resource, name) = split(requested.tokens[0]), name == ".default" else {
            throw CatalogueError(Catalogue.defaultScopeRequired, ["scope": String(raw.prefix(200))])
        }
        guard let api = access.api(named: resource) else {
            throw CatalogueError(Catalogue.resourceNotFound, ["resource": resource, "tenant": access.client.tenant.value])
        }
        return (requested, [api.api.applicationID.value], api.roles)
    }
}
