import Foundation

/// How a client authenticates at the token endpoint (RFC 7591 §2 `token_endpoint_auth_method`).
public enum ClientAuthMethod: String, Sendable, Codable, CaseIterable, Hashable {
    case clientSecretBasic = "client_secret_basic"
    case clientSecretPost = "client_secret_post"
    case privateKeyJWT = "private_key_jwt"
    case none = "none"
}

/// RFC 6749 §2.1 client types.
public enum ClientType: String, Sendable, Codable, Hashable {
    case confidential, `public`
}

/// Grant types, by their `grant_type` value.
public struct GrantType: Sendable, Hashable, Codable, RawRepresentable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let clientCredentials = GrantType(rawValue: "client_credentials")
    public static let jwtBearer = GrantType(rawValue: "urn:ietf:params:oauth:grant-type:jwt-bearer")
    public static let authorizationCode = GrantType(rawValue: "authorization_code")
    public static let refreshToken = GrantType(rawValue: "refresh_token")
    public static let password = GrantType(rawValue: "password")
    public static let deviceCode = GrantType(rawValue: "urn:ietf:params:oauth:grant-type:device_code")
    public var description: String { rawValue }

    /// Every grant this server implements.
    public static let known: [GrantType] = [.clientCredentials, .authorizationCode, .refreshToken, .password, .deviceCode, .jwtBearer]

    /// A grant by its `grant_type` value or a short name (`device_code`, `on_behalf_of`); nil if unknown.
    public static func named(_ raw: String) -> GrantType? {
        switch raw {
        case "device_code": return .deviceCode
        case "on_behalf_of", "jwt_bearer", "jwt-bearer": return .jwtBearer
        default: return known.first { $0.rawValue == raw }
        }
    }
}

/// Who registered a client: an administrator, the client itself (RFC 7591), or nobody (a client
/// ID metadata document). Not stored with the client: the directory derives it.
public enum ClientSource: String, Sendable, Hashable {
    case administrator
    case selfRegistered = "self-registered"
    case metadataDocument = "metadata-document"
}

/// A registered client.
public struct Client: Sendable, Hashable {
    public let tenant: TenantName
    public let id: ClientID
    public var name: String
    public var type: ClientType
    public var authMethods: Set<ClientAuthMethod>
    public var grantTypes: Set<GrantType>
    /// Scopes the client may request besides the APIs' permissions granted to it (`APIAccess`):
    /// tokens for them name no API (their audience is the issuer).
    public var allowedScopes: Scope
    /// Scopes granted when the request names none (RFC 6749 §3.3).
    public var defaultScopes: Scope
    /// The client's public keys (a JWKS document) for private_key_jwt.
    public var jwks: String?
    /// Registered redirect URIs, matched exactly (RFC 9700 §4.1.3).
    public var redirectURIs: [String]
    /// Registered post-logout redirect URIs (OpenID Connect RP-Initiated Logout §3).
    public var postLogoutRedirectURIs: [String]
    /// Certificates (PEM) for private_key_jwt assertions that name them by x5t, x5t#S256 or x5c.
    public var certificates: [String]
    /// False once an administrator disabled the client: it authenticates to nothing and gets no
    /// sign-in page (7000112) until enabled again; its secrets and grants stay.
    public var enabled: Bool
    /// The organisation's own app: its users are not asked to consent to the scopes it is
    /// allowed (a request with `prompt=consent` still asks).
    public var firstParty: Bool
    public let createdAt: Date
    /// Who registered it (set by `CachedClientDirectory`; `.administrator` as read from a store).
    public var source: ClientSource = .administrator
    /// Where a logout token is posted when a session the client took part in ends (OpenID
    /// Connect Back-Channel Logout §2.2): https, or http to a loopback host.
    public var backchannelLogoutURI: String? = nil
    /// Whether the client needs `sid` in logout tokens (§2.2); Gatehouse always sends it.
    public var backchannelLogoutSessionRequired = false
    /// Authorization requests only through pushed authorization requests (RFC 9126 §6).
    public var requirePushedAuthorizationRequests = false
    /// Authorization requests only as signed request objects (RFC 9101 §10.5).
    public var requireSignedRequestObject = false
    /// Every token request with a DPoP proof, so every token is bound to the client's key
    /// (RFC 9449 §5.2 `dpop_bound_access_tokens`).
    public var requireDPoP = false

    /// The name users are shown: an administrator's client by its name; a client nobody vetted
    /// by a host, never by the name it chose: a document client by its URL's host, a
    /// self-registered one by the host of the redirect URI the request uses (`redirectURI`).
    public func shownName(redirectURI: String?) -> String {
        unverifiedHost(redirectURI: redirectURI) ?? name
    }

    /// The host of `shownName` for a client nobody vetted; nil for an administrator's client.
    public func unverifiedHost(redirectURI: String?) -> String? {
        switch source {
        case .administrator: return nil
        case .metadataDocument: return ClientIDMetadataDocument.host(of: id.value)
        case .selfRegistered:
            return (redirectURI ?? redirectURIs.first).flatMap { URLComponents(string: $0)?.host?.lowercased() } ?? "?"
        }
    }

    /// What the client's authorization requests must be, in the caller's words: `pushed` and/or
    /// `signed` (joined by a comma), or `any` when it requires neither.
    public func requestRequirements(pushed: String, signed: String, any: String) -> String {
        let required = [requirePushedAuthorizationRequests ? pushed : nil, requireSignedRequestObject ? signed : nil].compactMap { $0 }
        return required.isEmpty ? any : required.joined(separator: ", ")
    }

    /// The OpenID Connect scopes: never an API's permissions, and allowed without being listed to
    /// every client that signs users in (as Entra allows them to every such app).
    public static let openIDConnectScopes: Set<String> = ["openid", "profile", "email", "offline_access"]

    /// Whether the client has a grant by which a user signs in (the code, password, device code
    /// and on-behalf-of grants).
    public var signsUsersIn: Bool { !grantTypes.isDisjoint(with: [.authorizationCode, .password, .deviceCode, .jwtBearer]) }

    /// Whether the client may request the scope token `token`: a listed one; or, for a client that
    /// signs users in and lists none of the OpenID Connect scopes, any of them (a client that lists
    /// some is limited to those).
    public func allows(scope token: String) -> Bool {
        if allowedScopes.set.contains(token) { return true }
        guard Self.openIDConnectScopes.contains(token), signsUsersIn else { return false }
        return allowedScopes.set.isDisjoint(with: Self.openIDConnectScopes)
    }

    public init(
        tenant: TenantName, id: ClientID, name: String, type: ClientType, authMethods: Set<ClientAuthMethod>,
        grantTypes: Set<GrantType>, allowedScopes: Scope, defaultScopes: Scope, jwks: String? = nil, redirectURIs: [String] = [],
        postLogoutRedirectURIs: [String] = [], certificates: [String] = [], enabled: Bool = true, firstParty: Bool = false,
        createdAt: Date
    ) {
        self.enabled = enabled
        self.firstParty = firstParty
        self.certificates = certificates
        self.redirectURIs = redirectURIs
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.tenant = tenant
        self.id = id
        self.name = name
        self.type = type
        self.authMethods = authMethods
        self.grantTypes = grantTypes
        self.allowedScopes = allowedScopes
        self.defaultScopes = defaultScopes
        self.jwks = jwks
        self.createdAt = createdAt
    }
}

/// A secret that authenticated a request, noted for its `lastUsedAt`.
public struct SecretUse: Sendable, Hashable {
    public let tenant: TenantName
    public let clientID: ClientID
    public let secretID: String
    public let at: Date

    public init(tenant: TenantName, clientID: ClientID, secretID: String, at: Date) {
        (self.tenant, self.clientID, self.secretID, self.at) = (tenant, clientID, secretID, at)
    }
}

/// A client secret as stored: only its keyed hash.
public struct ClientSecretRecord: Sendable, Hashable {
    public let tenant: TenantName
    public let clientID: ClientID
    /// A short public identifier, for listing and removal.
    public let secretID: String
    /// Hex of HMAC-SHA256(server hash key, secret).
    public let hash: String
    /// The first characters of the secret, so that an operator can tell secrets apart.
    public let hint: String
    public let createdAt: Date
    public let expiresAt: Date?
    /// When it last authenticated a request, to the minute (`SecretUse`); nil if never.
    public var lastUsedAt: Date?

    public init(
        tenant: TenantName, clientID: ClientID, secretID: String, hash: String, hint: String, createdAt: Date, expiresAt: Date?,
        lastUsedAt: Date? = nil
    ) {
        self.lastUsedAt = lastUsedAt
        self.tenant = tenant
        self.clientID = clientID
        self.secretID = secretID
        self.hash = hash
        self.hint = hint
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
