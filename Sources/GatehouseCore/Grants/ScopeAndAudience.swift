import Foundation

/// Decides the granted scope and the audience of a token request (RFC 6749 §3.3, RFC 8707 §2)
/// from the client and the APIs it was granted.
///
/// A scope token is one of:
/// - an OpenID Connect scope (`openid profile email offline_access`): in a user's token, allowed
///   to every client that signs users in unless it lists fewer (`Client.allows(scope:)`);
/// - a scope the client lists itself: a token that names no API (audience: the issuer), so never
///   together with an API's names or a `resource`;
/// - an API's permission (a user's token) or role (an application's token), written
///   `{identifier}/{name}` (`api://orders/Orders.Read`) or as the bare name with the API named by
///   `resource` (`Orders.Read` + `resource=api://orders`), or bare alone, for the first granted API
///   that has it. Names match case-sensitively; a name the API does not define is 65005, one it
///   defines but did not grant the client 9900121. In a token for several APIs, a bare name must
///   be granted on each of them (each resource server reads the same `scope`).
public enum ScopeAndAudience {
    /// What a request was granted: the scope (tokens as requested) and the audience.
    public struct Resolved: Sendable, Equatable {
        public let scope: Scope
        public let audience: [String]
        /// The APIs the scope's permissions or roles belong to, in order, with the names.
        public let names: [String]
    }

    /// Resolves a request (`application`: client credentials, whose names are roles). Without a
    /// scope, the client's default scopes (none: 9900122). `audienceValue` is how the dialect
    /// names an API in `aud` when the request did not name it by `resource`.
    public static func resolve(
        requested raw: String?, resources: [String], access: ClientAccess, application: Bool, fallback: String,
        audienceValue: (API) -> String
    ) throws(CatalogueError) -> Resolved {
        let client = access.client
        let scope: Scope
        if let raw {
            scope = try Scope(parsing: raw)
        } else {
            guard !client.defaultScopes.isEmpty else { throw CatalogueError(Catalogue.noScope, ["clientId": client.id.value]) }
            scope = client.defaultScopes
        }
        let targets = try namedAPIs(resources, access: access)
        var used: [GrantedAPI] = []
        var names: [String] = []
        var bare: [String] = []
        var plain: [String] = []
        for token in scope.tokens {
            if !application, Client.openIDConnectScopes.contains(token) {
                guard client.allows(scope: token) else {
                    throw CatalogueError(Catalogue.scopeNotAllowed, ["clientId": client.id.value, "scope": token])
                }
                continue
            }
            if client.allowedScopes.set.contains(token) {
                plain.append(token)
                continue
            }
            let (granted, name) = try permission(token, targets: targets.map(\.api), access: access, application: application)
            if !used.contains(where: { $0.api.applicationID == granted.api.applicationID }) { used.append(granted) }
            names.append(name)
            if EntraScopes.split(token) == nil { bare.append(name) }
        }
        if let first = plain.first, !targets.isEmpty || !used.isEmpty {
            throw CatalogueError(
                Catalogue.scopeNotAllowed, ["clientId": client.id.value, "scope": first],
                detail: "a scope of the client's own names no API: ask for it in a token without API permissions or resource")
        }
        let apis = targets.isEmpty ? used : targets.map(\.api)
        if apis.count > 1,
            let name = bare.first(where: { name in !apis.allSatisfy { $0.granted(application: application).contains(name) } })
        {
            throw CatalogueError(
                Catalogue.scopeNotAllowed, ["clientId": client.id.value, "scope": name],
                detail: "a token for several APIs carries a bare name granted on only some of them: prefix it with its API's identifier")
        }
        let audience: [String]
        if !targets.isEmpty {
            audience = targets.map(\.value)
        } else if !used.isEmpty {
            audience = used.map { audienceValue($0.api) }
        } else if !plain.isEmpty {
            audience = [fallback]
        } else {
            // Only OpenID Connect scopes: the client's first API, as before APIs were objects.
            audience = [access.apis.first.map { audienceValue($0.api) } ?? fallback]
        }
        var unique: [String] = []
        for value in audience where !unique.contains(value) { unique.append(value) }
        return Resolved(scope: scope, audience: unique, names: names)
    }

    /// The granted APIs that `resource` values name (each must name one: else 500011), with the
    /// value as written (the `aud` a client that names a resource expects).
    static func namedAPIs(_ raws: [String], access: ClientAccess) throws(CatalogueError) -> [(api: GrantedAPI, value: String)] {
        var named: [(api: GrantedAPI, value: String)] = []
        for raw in raws {
            let resource = try ResourceIndicator(raw)
            guard let api = access.api(named: resource.value) else {
                throw CatalogueError(Catalogue.resourceNotFound, ["resource": resource.value, "tenant": access.client.tenant.value])
            }
            if !named.contains(where: { $0.api.api.applicationID == api.api.applicationID }) { named.append((api, resource.value)) }
        }
        return named
    }

    /// The API and name a scope token that is not a plain scope of the client stands for.
    static func permission(_ token: String, targets: [GrantedAPI], access: ClientAccess, application: Bool) throws(CatalogueError)
        -> (GrantedAPI, String)
    {
        let clientID = access.client.id.value
        var candidates = targets.isEmpty ? access.apis : targets
        var name = token
        var explicit: GrantedAPI? = targets.count == 1 ? targets[0] : nil
        if let (prefix, suffix) = EntraScopes.split(token) {
            guard let named = access.api(named: prefix) else {
                throw CatalogueError(Catalogue.scopeNotAllowed, ["clientId": clientID, "scope": token])
            }
            guard targets.isEmpty || targets.contains(where: { $0.api.applicationID == named.api.applicationID }) else {
                throw CatalogueError(
                    Catalogue.invalidScope, ["scope": token], detail: "the scope names API \(named.api.applicationID); no resource names it"
                )
            }
            candidates = [named]
            explicit = named
            name = suffix
        }
        if let granted = candidates.first(where: { $0.granted(application: application).contains(name) }) { return (granted, name) }
        if let explicit, !explicit.defines(name, application: application) {
            throw CatalogueError(
                Catalogue.permissionNotDefined,
                ["scope": name, "api": explicit.api.identifiers.first?.value ?? explicit.api.applicationID.value],
                detail: application ? "no such application role" : "no such delegated permission")
        }
        throw CatalogueError(Catalogue.scopeNotAllowed, ["clientId": clientID, "scope": token])
    }

    /// A refresh (RFC 6749 §6) mints tokens for what the grant was given; the client must still
    /// hold it: no audience value in `withdrawn` (values that name an API of the tenant the client
    /// is no longer granted: 500011), every name still granted on the audience's APIs or a scope
    /// of the client's own (else 9900121). A value that names no API at all (the issuer, under
    /// whatever base URL it was issued) is no grant to check.
    public static func requireStillGranted(scope: Scope, audience: [String], access: ClientAccess, withdrawn: Set<String>)
        throws(CatalogueError)
    {
        let client = access.client
        if let value = audience.first(where: withdrawn.contains) {
            throw CatalogueError(
                Catalogue.resourceNotFound, ["resource": value, "tenant": client.tenant.value],
                detail: "the client's access to this API was withdrawn after the grant")
        }
        let apis = audience.compactMap(access.api(named:))
        for token in scope.tokens where !Client.openIDConnectScopes.contains(token) && !client.allowedScopes.set.contains(token) {
            let held: Bool
            if let (prefix, name) = EntraScopes.split(token), let api = access.api(named: prefix) {
                held = api.permissions.contains(name)
            } else {
                held = apis.contains { $0.permissions.contains(token) }
            }
            guard held else {
                throw CatalogueError(
                    Catalogue.scopeNotAllowed, ["clientId": client.id.value, "scope": token],
                    detail: "the permission was withdrawn after the grant")
            }
        }
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
}
