import Foundation

/// Whether and how clients may register themselves at a tenant (RFC 7591 §3).
public enum ClientRegistrationPolicy: String, Sendable, CaseIterable {
    /// No registration endpoint (the default).
    case off
    /// Registration with an initial access token made by an administrator (RFC 7591 §3).
    case initialAccessToken = "token"
    /// Anyone may register a public client whose redirect URIs are loopback (`http://127.0.0.1`,
    /// `http://[::1]`, `http://localhost`, any port) or `https`: what MCP clients and CLIs need.
    case open
}

/// A tenant's rules for clients that register themselves and for URLs that others choose
/// (`gatehouse tenants set --client-registration --registration-api --allow-local-fetches`).
public struct ClientRegistrationSettings: Sendable, Hashable {
    public var policy: ClientRegistrationPolicy
    /// The APIs (identifiers or application IDs) a self-registered client may ask for; `["*"]`:
    /// any API of the tenant that the client names in `resource` (for development).
    public var apis: [String]
    /// Outbound fetches (client ID metadata documents, `jwks_uri`) may reach private, loopback
    /// and link-local addresses (development only).
    public var allowLocalFetches: Bool
    /// A `client_id` that is an https URL names a client ID metadata document, fetched and used
    /// as a public client's registration (draft-ietf-oauth-client-id-metadata-document).
    public var metadataDocuments: Bool

    public init(
        policy: ClientRegistrationPolicy = .off, apis: [String] = [], allowLocalFetches: Bool = false, metadataDocuments: Bool = false
    ) {
        self.policy = policy
        self.apis = apis
        self.allowLocalFetches = allowLocalFetches
        self.metadataDocuments = metadataDocuments
    }

    /// Whether any API the client names may be granted.
    public var anyAPI: Bool { apis == ["*"] }
}

/// A registration request's client metadata (RFC 7591 §2), parsed and checked: what the server
/// will register, or the RFC 7591 §3.2.2 error (`invalid_redirect_uri`, `invalid_client_metadata`)
/// as a catalogue error. Unknown members are ignored (§2); known members of the wrong type are refused.
public struct ClientMetadata: Sendable, Equatable {
    public var redirectURIs: [String]
    public var tokenEndpointAuthMethod: ClientAuthMethod
    public var grantTypes: [GrantType]
    public var responseTypes: [String]
    public var clientName: String?
    public var clientURI: String?
    public var logoURI: String?
    public var policyURI: String?
    public var tosURI: String?
    /// A JWK Set as JSON text, or where to fetch one (never both).
    public var jwks: String?
    public var jwksURI: String?
    public var scope: Scope?
    /// OpenID Connect Back-Channel Logout §2.2; RFC 9126 §6; RFC 9101 §10.5.
    public var backchannelLogoutURI: String?
    public var backchannelLogoutSessionRequired = false
    public var requirePushedAuthorizationRequests = false
    public var requireSignedRequestObject = false
    /// RFC 9449 §5.2 `dpop_bound_access_tokens`.
    public var dpopBoundAccessTokens = false

    /// The largest request body accepted.
    public static let maximumSize = 16 * 1024
    /// The grant types a registered client may have.
    public static let registrableGrantTypes: [GrantType] = [.authorizationCode, .refreshToken, .clientCredentials, .deviceCode]

    public init(json data: Data, policy: ClientRegistrationPolicy) throws(CatalogueError) {
        try self.init(object: try Self.jsonObject(data), policy: policy)
    }

    /// A registration request's body as a JSON object: at most `maximumSize` bytes.
    public static func jsonObject(_ data: Data) throws(CatalogueError) -> [String: Any] {
        guard data.count <= Self.maximumSize else { throw Self.invalid("the request", "is larger than \(Self.maximumSize) bytes") }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw Self.invalid("the request", "is not a JSON object")
        }
        return object
    }

    /// The OpenID Connect scopes of the requested `scope`: all a client nobody vetted gets as its
    /// own (API permissions come from the tenant's list); empty for the usual sign-in scopes.
    var openIDConnectScopes: Scope {
        let wanted = (scope?.tokens ?? []).filter { Client.openIDConnectScopes.contains($0) }
        return wanted.isEmpty ? .empty : Scope(tokens: wanted)
    }

    public init(object: [String: Any], policy: ClientRegistrationPolicy) throws(CatalogueError) {
        let reader = Reader(object: object)
        // Redirect URIs: absolute, no fragment, no dangerous scheme (`RedirectURI`), then the
        // policy's schemes: https, http only to a loopback host; private-use schemes
        // (`com.example.app:/callback`) for native apps only with an initial access token.
        redirectURIs = try reader.strings("redirect_uris") ?? []
        guard redirectURIs.count <= 20 else { throw Self.invalid("redirect_uris", "has more than 20 entries") }
        for raw in redirectURIs {
            let uri: RedirectURI
            do { uri = try RedirectURI(raw) } catch { throw Self.redirect(raw, error.detail ?? "is not a redirect URI") }
            guard let scheme = uri.components.scheme?.lowercased() else { throw Self.redirect(raw, "has no scheme") }
            switch scheme {
            case "https":
                break
            case "http":
                guard Self.isLoopback(uri.components.host) else {
                    throw Self.redirect(raw, "uses http with a host other than a loopback address (127.0.0.1, [::1], localhost)")
                }
            default:
                guard policy == .initialAccessToken, scheme.contains(".") else {
                    throw Self.redirect(raw, "uses the scheme '\(scheme.prefix(40))', which this tenant does not register")
                }
            }
        }
        // The authentication method: under the open policy only `none` (public clients); omitted,
        // `none` there (the MCP SDK omits it) and RFC 7591's default `client_secret_basic` elsewhere.
        let method = try reader.string("token_endpoint_auth_method")
        if let method {
            guard let parsed = ClientAuthMethod(rawValue: method) else {
                throw Self.invalid("token_endpoint_auth_method", "'\(method.prefix(40))' is not supported")
            }
            tokenEndpointAuthMethod = parsed
        } else {
            tokenEndpointAuthMethod = policy == .open ? .none : .clientSecretBasic
        }
        if policy == .open && tokenEndpointAuthMethod != .none {
            throw Self.invalid("token_endpoint_auth_method", "must be none: this tenant registers public clients only")
        }
        // Grant and response types (§2.1): consistent with each other and with the redirect URIs.
        let grantNames = try reader.strings("grant_types") ?? ["authorization_code"]
        grantTypes = []
        for name in grantNames {
            let grant = GrantType(rawValue: name)
            guard Self.registrableGrantTypes.contains(grant) else {
                throw Self.invalid("grant_types", "'\(name.prefix(60))' is not a grant type a client may register")
            }
            if !grantTypes.contains(grant) { grantTypes.append(grant) }
        }
        responseTypes = try reader.strings("response_types") ?? (grantTypes.contains(.authorizationCode) ? ["code"] : [])
        guard responseTypes.allSatisfy({ $0 == "code" }) else { throw Self.invalid("response_types", "only code is supported") }
        if grantTypes.contains(.authorizationCode) {
            guard !redirectURIs.isEmpty else { throw Self.redirect("", "the authorization_code grant needs at least one redirect URI") }
            guard responseTypes == ["code"] else { throw Self.invalid("response_types", "the authorization_code grant needs code") }
        } else if !responseTypes.isEmpty {
            throw Self.invalid("response_types", "code needs the authorization_code grant")
        }
        if policy == .open && grantTypes.contains(.deviceCode) {
            // Nothing would name such a client to its users but the name it chose (device phishing).
            throw Self.invalid("grant_types", "the device code grant is registered only with an initial access token")
        }
        if tokenEndpointAuthMethod == .none && grantTypes.contains(.clientCredentials) {
            throw Self.invalid("grant_types", "client_credentials needs a client that authenticates")
        }
        // Names and links shown to users: bounded, no control characters, https links only.
        clientName = try reader.text("client_name", limit: 200)
        clientURI = try reader.httpsURL("client_uri")
        logoURI = try reader.httpsURL("logo_uri")
        policyURI = try reader.httpsURL("policy_uri")
        tosURI = try reader.httpsURL("tos_uri")
        // Keys: by value or by reference, not both; private_key_jwt needs one of them.
        jwksURI = try reader.httpsURL("jwks_uri")
        if let value = object["jwks"] {
            guard let set = value as? [String: Any], let keys = set["keys"] as? [Any], !keys.isEmpty, keys.count <= 10,
                let text = try? JSONSerialization.data(withJSONObject: set, options: [.sortedKeys])
            else { throw Self.invalid("jwks", "is not a JWK Set with 1 to 10 keys") }
            jwks = String(decoding: text, as: UTF8.self)
        } else {
            jwks = nil
        }
        if jwks != nil && jwksURI != nil { throw Self.invalid("jwks", "jwks and jwks_uri may not both be given") }
        if tokenEndpointAuthMethod == .privateKeyJWT && jwks == nil && jwksURI == nil {
            throw Self.invalid("jwks", "private_key_jwt needs jwks or jwks_uri")
        }
        if let raw = try reader.string("scope") {
            do { scope = try Scope(parsing: raw) } catch { throw Self.invalid("scope", "is not a space-separated list of scopes") }
        } else {
            scope = nil
        }
        if let uri = try reader.string("backchannel_logout_uri") {
            guard (try? OutboundGuard.target(uri, loopbackHTTP: true)) != nil else {
                throw Self.invalid(
                    "backchannel_logout_uri", "is not an https URL (or http to a loopback host) without fragment or credentials")
            }
            backchannelLogoutURI = uri
        }
        backchannelLogoutSessionRequired = try reader.bool("backchannel_logout_session_required") ?? false
        requirePushedAuthorizationRequests = try reader.bool("require_pushed_authorization_requests") ?? false
        requireSignedRequestObject = try reader.bool("require_signed_request_object") ?? false
        dpopBoundAccessTokens = try reader.bool("dpop_bound_access_tokens") ?? false
        if requireSignedRequestObject && jwks == nil && jwksURI == nil {
            throw Self.invalid("require_signed_request_object", "needs jwks or jwks_uri to check request objects with")
        }
    }

    /// `127.0.0.1`, `[::1]` or `localhost` (RFC 8252 §7.3; `localhost` because MCP clients use it).
    public static func isLoopback(_ host: String?) -> Bool {
        guard let host = host?.lowercased() else { return false }
        return host == "127.0.0.1" || host == "::1" || host == "[::1]" || host == "localhost"
    }

    public static func invalid(_ field: String, _ reason: String) -> CatalogueError {
        CatalogueError(Catalogue.invalidClientMetadata, ["field": field, "reason": reason])
    }

    public static func redirect(_ uri: String, _ reason: String) -> CatalogueError {
        CatalogueError(
            Catalogue.invalidRedirectURIMetadata,
            ["reason": uri.isEmpty ? reason : "'\(RecordedValue.cut(uri, to: 200))' \(reason)"])
    }

    /// Reads members of the request, refusing a known member of the wrong type.
    struct Reader {
        let object: [String: Any]

        func string(_ name: String) throws(CatalogueError) -> String? {
            guard let value = object[name], !(value is NSNull) else { return nil }
            guard let text = value as? String else { throw ClientMetadata.invalid(name, "is not a string") }
            return text
        }

        func bool(_ name: String) throws(CatalogueError) -> Bool? {
            guard let value = object[name], !(value is NSNull) else { return nil }
            guard let flag = value as? Bool else { throw ClientMetadata.invalid(name, "is not a boolean") }
            return flag
        }

        func strings(_ name: String) throws(CatalogueError) -> [String]? {
            guard let value = object[name], !(value is NSNull) else { return nil }
            guard let list = value as? [Any], let texts = list as? [String] else {
                throw ClientMetadata.invalid(name, "is not an array of strings")
            }
            return texts
        }

        func text(_ name: String, limit: Int) throws(CatalogueError) -> String? {
            guard let raw = try string(name) else { return nil }
            let text = raw.trimmingCharacters(in: .whitespaces)
            guard (1...limit).contains(text.count), !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else { throw ClientMetadata.invalid(name, "has 1 to \(limit) characters, no control characters") }
            return text
        }

        func httpsURL(_ name: String) throws(CatalogueError) -> String? {
            guard let raw = try string(name) else { return nil }
            guard raw.utf8.count <= 2048, let url = URLComponents(string: raw), url.scheme?.lowercased() == "https",
                let host = url.host, !host.isEmpty, url.fragment == nil, url.user == nil, url.password == nil
            else { throw ClientMetadata.invalid(name, "is not an https URL without fragment or credentials") }
            return raw
        }
    }

    /// What `Administration.createClient` registers: a public client for `none`.
    public func spec(allowedResources: [ResourceIndicator] = []) -> Administration.ClientSpec {
        var spec = Administration.ClientSpec(name: clientName ?? "Registered client")
        spec.type = tokenEndpointAuthMethod == .none ? .public : .confidential
        spec.authMethods = [tokenEndpointAuthMethod]
        spec.grantTypes = Set(grantTypes)
        spec.redirectURIs = redirectURIs
        spec.jwks = jwks
        spec.allowedResources = allowedResources
        spec.backchannelLogoutURI = backchannelLogoutURI
        spec.backchannelLogoutSessionRequired = backchannelLogoutSessionRequired
        spec.requirePushedAuthorizationRequests = requirePushedAuthorizationRequests
        spec.requireSignedRequestObject = requireSignedRequestObject
        spec.requireDPoP = dpopBoundAccessTokens
        if let scope { spec.allowedScopes = scope }
        return spec
    }
}
