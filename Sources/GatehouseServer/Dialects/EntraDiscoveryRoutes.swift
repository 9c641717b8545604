import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import NIOCore

/// The Microsoft identity platform's discovery surface (docs/entra.md): the v2.0 OpenID
/// configuration and keys per tenant (by name, domain or GUID, and `common`/`organizations`
/// with the `{tenantid}` issuer template), instance discovery and user realm discovery. These
/// are the Entra dialect's own routes, registered in its group.
struct EntraDiscoveryRoutes: Sendable {
    let dialect = EntraDialect()
    let configuration: ServerConfiguration
    let tenants: TenantDirectory
    let store: any TenantStore
    let keyRings: KeyRingRegistry
    let grants: GrantRegistry

    func register(on router: some RouterMethods<GatehouseContext>) {
        router.get("/:tenant/v2.0/.well-known/openid-configuration") { _, context in
            try await self.metadata(segment: context.parameters.get("tenant") ?? "")
        }
        router.get("/:tenant/discovery/v2.0/keys") { _, context in
            try await self.keys(segment: context.parameters.get("tenant") ?? "")
        }
        // Registered under `:tenant` (a constant `/common` branch would hide `/common/v2.0/...` from
        // the parameter routes); only `common` answers.
        router.get("/:tenant/discovery/instance") { request, context in
            try Self.requireCommon(context, request)
            return try self.instance(request)
        }
        router.get("/:tenant/userrealm/:user") { request, context in
            try Self.requireCommon(context, request)
            return self.userRealm(context.parameters.get("user") ?? "")
        }
    }

    static func requireCommon(_ context: GatehouseContext, _ request: Request) throws {
        guard context.parameters.get("tenant") == "common" else {
            throw CatalogueError(
                Catalogue.endpointNotFound, ["method": request.method.rawValue, "path": String(request.uri.path.prefix(200))])
        }
    }

    private func metadata(segment: String) async throws -> Response {
        let issuer: String
        let algorithms: [String]
        if dialect.isMultiTenantAlias(segment) {
            issuer = EntraDialect.issuer(baseURL: configuration.baseURL, tenantID: "{tenantid}")
            algorithms = Array(Set(try await store.tenants().map(\.signingAlgorithm.rawValue))).sorted()
        } else {
            let tenant = try await tenants.resolveForDiscovery(segment)
            issuer = dialect.issuer(baseURL: configuration.baseURL, tenant: tenant)
            let signing = try await keyRings.keyRing(for: tenant.name).algorithm
            algorithms = [signing.rawValue] + (tenant.signingAlgorithm == signing ? [] : [tenant.signingAlgorithm.rawValue])
        }
        let host = URLComponents(string: configuration.baseURL)?.host ?? "localhost"
        // The endpoints keep the segment as addressed: MSAL takes its tenant (and cache realm) from token_endpoint.
        let document: [String: Any] = [
            "token_endpoint": configuration.endpoint(segment, dialect.endpointPath("token")),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": "\(configuration.baseURL)/\(segment)/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": algorithms,
            "response_types_supported": ["code"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": issuer,
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": configuration.endpoint(segment, "oidc/userinfo"),
            "authorization_endpoint": configuration.endpoint(segment, dialect.endpointPath("authorize")),
            "device_authorization_endpoint": configuration.endpoint(segment, dialect.endpointPath("devicecode")),
            "http_logout_supported": false,
            "frontchannel_logout_supported": false,
            "end_session_endpoint": configuration.endpoint(segment, dialect.endpointPath("logout")),
            "claims_supported": [
                "sub", "iss", "aud", "exp", "iat", "nbf", "auth_time", "acr", "amr", "nonce", "preferred_username", "name",
                "tid", "oid", "ver", "uti", "rh", "at_hash", "sid", "email",
            ],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": grants.grantTypes.map(\.rawValue),
            "tenant_region_scope": "WW",
            "cloud_instance_name": host,
            "cloud_graph_host_name": host,
            "msgraph_host": host,
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.withoutEscapingSlashes, .sortedKeys])
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/json; charset=utf-8", .cacheControl: "max-age=86400, private",
                .accessControlAllowOrigin: "*",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A tenant's JWKS; for `common`/`organizations` the keys of every tenant.
    private func keys(segment: String) async throws -> Response {
        var keys: [Any] = []
        let all =
            dialect.isMultiTenantAlias(segment)
            ? try await store.tenants() : [try await tenants.resolveForDiscovery(segment)]
        for tenant in all {
            guard let ring = try? await keyRings.keyRing(for: tenant.name),
                let object = try? JSONSerialization.jsonObject(with: Data(ring.jwksJSON.utf8)) as? [String: Any],
                let tenantKeys = object["keys"] as? [[String: Any]]
            else { continue }
            keys += tenantKeys.map { key in
                var key = key
                key["issuer"] = dialect.issuer(baseURL: configuration.baseURL, tenant: tenant)
                return key
            }
        }
        let data = try JSONSerialization.data(withJSONObject: ["keys": keys], options: [.withoutEscapingSlashes, .sortedKeys])
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/json; charset=utf-8", .cacheControl: "max-age=86400, private",
                .accessControlAllowOrigin: "*",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Instance discovery (`?authorization_endpoint=…&api-version=1.1`): this server vouches only
    /// for authorization endpoints on its own base URL.
    private func instance(_ request: Request) throws -> Response {
        guard let endpoint = request.uri.queryParameters["authorization_endpoint"].map(String.init) else {
            throw CatalogueError(Catalogue.missingParameter, ["name": "authorization_endpoint"])
        }
        let prefix = configuration.baseURL + "/"
        guard endpoint.hasPrefix(prefix), let segment = endpoint.dropFirst(prefix.count).split(separator: "/").first,
            endpoint.hasSuffix("/oauth2/v2.0/authorize") || endpoint.hasSuffix("/oauth2/authorize")
        else {
            throw CatalogueError(Catalogue.unknownInstance, detail: "authorization_endpoint \(endpoint.prefix(200))")
        }
        let host = URLComponents(string: configuration.baseURL)?.host ?? "localhost"
        let document: [String: Any] = [
            "tenant_discovery_endpoint": "\(configuration.baseURL)/\(segment)/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [["preferred_network": host, "preferred_cache": host, "aliases": [host]]],
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.withoutEscapingSlashes, .sortedKeys])
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// User realm discovery, which MSAL calls before a username/password request: every account
    /// here is "Managed" (no federation), whatever the username, so the answer reveals nothing.
    private func userRealm(_ user: String) -> Response {
        let domain = user.split(separator: "@").last.map(String.init) ?? ""
        let document: [String: Any] = [
            "ver": "1.0", "account_type": "Managed", "domain_name": domain,
            "cloud_instance_name": URLComponents(string: configuration.baseURL)?.host ?? "localhost",
            "cloud_audience_urn": "urn:federation:MicrosoftOnline",
        ]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
