import Foundation
import GatehouseCore
import Testing

/// RFC 7591 client metadata as a registration request sends it: what each policy registers, and
/// each refusal with its RFC 7591 `error` value and catalogue entry.
@Suite struct ClientMetadataTests {
    func parse(_ json: String, _ policy: ClientRegistrationPolicy = .open) throws(CatalogueError) -> ClientMetadata {
        try ClientMetadata(json: Data(json.utf8), policy: policy)
    }

    func refusal(_ json: String, _ policy: ClientRegistrationPolicy = .open) -> CatalogueError? {
        do {
            _ = try parse(json, policy)
            return nil
        } catch {
            return error
        }
    }

    @Test func whatAnMCPClientSendsRegistersAPublicClient() throws {
        // The MCP SDK's request: no token_endpoint_auth_method, a localhost redirect, unknown members.
        let metadata = try parse(
            #"{"redirect_uris":["http://localhost:3030/callback"],"client_name":"MCP Inspector","grant_types":["authorization_code","refresh_token"],"response_types":["code"],"software_id":"x","contacts":[]}"#
        )
        #expect(metadata.tokenEndpointAuthMethod == .none && metadata.grantTypes == [.authorizationCode, .refreshToken])
        let spec = metadata.spec()
        #expect(spec.type == .public && spec.authMethods == [ClientAuthMethod.none] && spec.name == "MCP Inspector")
        #expect(spec.redirectURIs == ["http://localhost:3030/callback"])
        // Loopback IP literals and https too; defaults per RFC 7591 (authorization_code, code).
        let defaults = try parse(#"{"redirect_uris":["http://127.0.0.1/cb","http://[::1]:8080/cb","https://app.example.com/cb"]}"#)
        #expect(defaults.grantTypes == [.authorizationCode] && defaults.responseTypes == ["code"])
    }

    @Test func withAnInitialAccessTokenConfidentialClientsAndNativeSchemes() throws {
        let metadata = try parse(
            #"{"redirect_uris":["com.example.app:/oauth2redirect"],"token_endpoint_auth_method":"client_secret_post"}"#,
            .initialAccessToken)
        #expect(metadata.spec().type == .confidential && metadata.tokenEndpointAuthMethod == .clientSecretPost)
        #expect(try parse(#"{"grant_types":["client_credentials"]}"#, .initialAccessToken).tokenEndpointAuthMethod == .clientSecretBasic)
        let keys = try parse(
            #"{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b"}]}}"#,
            .initialAccessToken)
        #expect(keys.jwks?.contains("\"kty\":\"EC\"") == true)
    }

    @Test func eachRefusalIsItsCatalogueEntry() {
        let redirect = Catalogue.invalidRedirectURIMetadata
        let metadata = Catalogue.invalidClientMetadata
        let cases: [(String, ClientRegistrationPolicy, CatalogueEntry)] = [
            // A scheme the tenant does not register, http to a non-loopback host, a fragment, javascript:.
            (#"{"redirect_uris":["com.example.app:/cb"]}"#, .open, redirect),
            (#"{"redirect_uris":["myapp:/cb"]}"#, .initialAccessToken, redirect),
            (#"{"redirect_uris":["http://app.example.com/cb"]}"#, .open, redirect),
            (#"{"redirect_uris":["https://app.example.com/cb#x"]}"#, .open, redirect),
            (#"{"redirect_uris":["javascript:alert(1)"]}"#, .initialAccessToken, redirect),
            (#"{"grant_types":["authorization_code"]}"#, .open, redirect),
            // A confidential method under the open policy; an unknown method.
            (#"{"redirect_uris":["http://localhost/cb"],"token_endpoint_auth_method":"client_secret_basic"}"#, .open, metadata),
            (#"{"redirect_uris":["http://localhost/cb"],"token_endpoint_auth_method":"tls_client_auth"}"#, .initialAccessToken, metadata),
            // A bad jwks_uri (http, not a URL), jwks with jwks_uri, private_key_jwt without keys.
            (#"{"grant_types":["client_credentials"],"jwks_uri":"http://keys.example.com/jwks"}"#, .initialAccessToken, metadata),
            (#"{"grant_types":["client_credentials"],"jwks_uri":"not a url"}"#, .initialAccessToken, metadata),
            (
                #"{"grant_types":["client_credentials"],"jwks_uri":"https://k.example.com/jwks","jwks":{"keys":[{"kty":"EC"}]}}"#,
                .initialAccessToken, metadata
            ),
            (#"{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt"}"#, .initialAccessToken, metadata),
            // Grants and response types that do not fit.
            (#"{"redirect_uris":["http://localhost/cb"],"grant_types":["password"]}"#, .open, metadata),
            (#"{"redirect_uris":["http://localhost/cb"],"response_types":["token"]}"#, .open, metadata),
            (#"{"redirect_uris":["http://localhost/cb"],"grant_types":["client_credentials"]}"#, .open, metadata),
            // Wrong types, links and names.
            (#"{"redirect_uris":"http://localhost/cb"}"#, .open, metadata),
            (#"{"redirect_uris":["http://localhost/cb"],"client_name":"\u0007bell"}"#, .open, metadata),
            (#"{"redirect_uris":["http://localhost/cb"],"logo_uri":"javascript:alert(1)"}"#, .open, metadata),
            (#"{"redirect_uris":["http://localhost/cb"],"tos_uri":"https://user:pw@example.com/tos"}"#, .open, metadata),
            (#"{"redirect_uris":["http://localhost/cb"],"scope":"a  b"}"#, .open, metadata),
            (#"["not an object"]"#, .open, metadata),
        ]
        for (json, policy, entry) in cases {
            let error = refusal(json, policy)
            #expect(error?.entry == entry, "\(json): \(String(describing: error))")
        }
        #expect(redirect.error == .invalidRedirectURI && metadata.error == .invalidClientMetadata && redirect.status == 400)
        // Over the size limit.
        let large = #"{"redirect_uris":["http://localhost/cb"],"x":""# + String(repeating: "a", count: ClientMetadata.maximumSize) + #""}"#
        #expect(refusal(large)?.entry == metadata)
    }
}

/// The administration of a tenant's registration settings: APIs must exist, `*` stands alone, audited.
@Suite struct ClientRegistrationSettingsTests {
    @Test func apisAreCheckedAndTheChangeIsAudited() async throws {
        let store = InMemoryStore()
        let admin = Administration(store: store, hasher: SecretHasher(key: Data("k".utf8)))
        let name = try TenantName("contoso")
        _ = try await admin.createTenant(name: name)
        await #expect(throws: (any Error).self) { try await admin.setClientRegistration(tenant: name, apis: ["api://nothing"]) }
        await #expect(throws: (any Error).self) { try await admin.setClientRegistration(tenant: name, apis: ["*", "x"]) }
        let after = try await admin.setClientRegistration(tenant: name, policy: .open, apis: ["*"], allowLocalFetches: true)
        #expect(after.clientRegistration == ClientRegistrationSettings(policy: .open, apis: ["*"], allowLocalFetches: true))
        #expect(try await store.tenant(named: name)?.clientRegistration.policy == .open)
        let audit = try await store.auditEntries(AuditQuery(tenant: name, action: "tenant.client_registration.update"))
        #expect(audit.count == 1 && audit.first?.after?.contains("open") == true)
    }
}
