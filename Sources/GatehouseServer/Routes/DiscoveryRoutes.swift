import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import NIOCore

/// Metadata: OpenID Connect Discovery 1.0 §4, RFC 8414 §3 and the tenant's JWKS (RFC 7517 §5).
/// Only what the server really does is advertised.
struct DiscoveryRoutes: Sendable {
    let configuration: ServerConfiguration
    let tenants: TenantDirectory
    let keyRings: KeyRingRegistry
    let grants: GrantRegistry
    let texts: CatalogueTexts

    func register(on router: some RouterMethods<GatehouseContext>) {
        router.get("/:tenant/.well-known/openid-configuration") { _, context in
            try await self.metadata(tenantSegment: context.parameters.get("tenant") ?? "")
        }
        router.get("/.well-known/oauth-authorization-server/:tenant") { _, context in
            try await self.metadata(tenantSegment: context.parameters.get("tenant") ?? "")
        }
        router.get("/.well-known/openid-configuration/:tenant") { _, context in
            try await self.metadata(tenantSegment: context.parameters.get("tenant") ?? "")
        }
        router.get("/:tenant/discovery/keys") { _, context in
            let tenant = try await self.tenants.resolveForDiscovery(context.parameters.get("tenant") ?? "")
            let ring = try await self.keyRings.keyRing(for: tenant.name)
            return Self.json(ring.jwksJSON, contentType: "application/jwk-set+json", cache: "public, max-age=300")
        }
    }

    private func metadata(tenantSegment: String) async throws -> Response {
        let tenant = try await tenants.resolveForDiscovery(tenantSegment)
        let name = tenant.name.value
        // The active key's algorithm signs; after `tenants set --algorithm` the tenant's signs from
        // the next rotation: both are advertised in between.
        let signing = try await keyRings.keyRing(for: tenant.name).algorithm
        let algorithms = [signing.rawValue] + (tenant.signingAlgorithm == signing ? [] : [tenant.signingAlgorithm.rawValue])
        var document: [String: Any] = [
            "issuer": configuration.issuer(name),
            "token_endpoint": configuration.tokenEndpoint(name),
            "authorization_endpoint": configuration.endpoint(name, "oauth2/authorize"),
            "userinfo_endpoint": configuration.endpoint(name, "oidc/userinfo"),
            "introspection_endpoint": configuration.endpoint(name, "oauth2/introspect"),
            "revocation_endpoint": configuration.endpoint(name, "oauth2/revoke"),
            "end_session_endpoint": configuration.endpoint(name, "oauth2/logout"),
            "device_authorization_endpoint": configuration.endpoint(name, "oauth2/devicecode"),
            "introspection_endpoint_auth_methods_supported": ClientAuthMethod.allCases.filter { $0 != .none }.map(\.rawValue),
            "revocation_endpoint_auth_methods_supported": ClientAuthMethod.allCases.map(\.rawValue),
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "claims_supported": [
                "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "sid", "acr", "amr",
                "name", "preferred_username", "email", "email_verified",
            ],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "code_challenge_methods_supported": ["S256"],
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "claims_parameter_supported": false,
            // Signed request objects by value. request_uri only as a pushed request's URN (RFC 9126
            // §4, announced by pushed_authorization_request_endpoint): a request_uri that the
            // client hosts (what this OpenID Connect member announces) is not fetched.
            "request_parameter_supported": true,
            "request_uri_parameter_supported": false,
            "request_object_signing_alg_values_supported": RequestObjectVerifier.algorithms,
            "pushed_authorization_request_endpoint": configuration.endpoint(name, "oauth2/par"),
            "require_pushed_authorization_requests": tenant.requirePushedAuthorizationRequests,
            // RFC 9449 §5.1: the proof algorithms the token endpoint and userinfo accept.
            "dpop_signing_alg_values_supported": DPoPVerifier.algorithms,
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true,
            "authorization_response_iss_parameter_supported": true,
            "acr_values_supported": ["1", "2"],
            "jwks_uri": configuration.jwksURI(name),
            "grant_types_supported": grants.grantTypes.map(\.rawValue),
            "token_endpoint_auth_methods_supported": ClientAuthMethod.allCases.map(\.rawValue),
            "token_endpoint_auth_signing_alg_values_supported": [
                "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA",
            ],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": algorithms,
            "access_token_signing_alg_values_supported": algorithms,
            "ui_locales_supported": texts.supportedLanguages,
            "service_documentation": "\(configuration.baseURL)/error",
            "tenant_id": tenant.id.uuidString.lowercased(),
        ]
        // Only what the tenant enabled (`gatehouse tenants set --client-registration
        // --client-id-metadata-documents`); the Entra dialect offers neither.
        if tenant.clientRegistration.policy != .off {
            document["registration_endpoint"] = configuration.endpoint(name, "oauth2/register")
        }
        if tenant.clientRegistration.metadataDocuments { document["client_id_metadata_document_supported"] = true }
        let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        return Self.json(String(decoding: data, as: UTF8.self), contentType: "application/json", cache: "public, max-age=300")
    }

    static func json(_ body: String, contentType: String, cache: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: contentType, .cacheControl: cache], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

extension TenantDirectory {
    /// Discovery answers an unknown tenant with `invalid_tenant` (90002), as Entra does.
    func resolveForDiscovery(_ segment: String) async throws -> Tenant {
        do {
            return try await resolve(segment)
        } catch let error as CatalogueError
            where error.entry == Catalogue.tenantNotFound || error.entry == Catalogue.invalidTenantIdentifier
        {
            throw CatalogueError(error.entry, error.parameters, detail: error.detail, errorOverride: .invalidTenant)
        }
    }
}
