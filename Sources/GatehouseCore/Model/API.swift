import Foundation

/// An API (a resource server) registered in a tenant, as Entra's app registration that exposes an
/// API, Auth0's APIs or Keycloak's audience: what access tokens are issued for. It is backed by a
/// client whose ID is its application ID, whose credentials are the API's own (a resource server
/// introspects with them).
public struct API: Sendable, Hashable {
    public let tenant: TenantName
    /// The ID of the client that is the API's own (its application ID).
    public let applicationID: ClientID
    public var displayName: String
    /// Absolute URIs that name the API in `resource` and `aud` (`api://orders`,
    /// `https://orders.example.com`); at least one, each unique in the tenant.
    public var identifiers: [ResourceIndicator]
    /// The delegated permissions (scopes) it defines.
    public var permissions: [APIPermission]
    /// The application roles it defines (client credentials tokens carry them as `roles`).
    public var roles: [APIPermission]
    /// The lifetime of access tokens for it, in seconds; nil: the tenant's. A token for several
    /// APIs takes the shortest.
    public var accessTokenLifetime: Int?
    public let createdAt: Date

    public init(
        tenant: TenantName, applicationID: ClientID, displayName: String, identifiers: [ResourceIndicator],
        permissions: [APIPermission] = [], roles: [APIPermission] = [], accessTokenLifetime: Int? = nil, createdAt: Date
    ) {
        self.tenant = tenant
        self.applicationID = applicationID
        self.displayName = displayName
        self.identifiers = identifiers
        self.permissions = permissions
        self.roles = roles
        self.accessTokenLifetime = accessTokenLifetime
        self.createdAt = createdAt
    }

    /// Whether `value` (a `resource`, an `aud` value or a scope prefix) names this API: one of its
    /// identifiers, its application ID, or `api://{application ID}` (always one of its identifiers,
    /// as on the Microsoft identity platform).
    public func isNamed(by value: String) -> Bool {
        value == applicationID.value || value == Self.uriScheme + applicationID.value || identifiers.contains { $0.value == value }
    }

    /// `api://`: an API's application ID in this scheme names it.
    public static let uriScheme = "api://"

    /// The application ID that `resource` names as `api://{application ID}`, if it has that form.
    public static func applicationID(in resource: String) -> ClientID? {
        guard resource.hasPrefix(uriScheme) else { return nil }
        return try? ClientID(String(resource.dropFirst(uriScheme.count)))
    }

    /// How a token names the API in `aud` when its request did not name it by a `resource`: its
    /// first identifier.
    public var defaultAudience: String { identifiers.first?.value ?? applicationID.value }

    /// The permission named `name` (case-sensitive), if the API defines it.
    public func permission(_ name: String) -> APIPermission? { permissions.first { $0.name == name } }

    public func role(_ name: String) -> APIPermission? { roles.first { $0.name == name } }
}

/// A permission or a role an API defines: its name (a scope token, matched case-sensitively) and
/// what it allows in each language the pages speak (`en`, `vi`), for the consent page.
public struct APIPermission: Sendable, Hashable, Codable {
    public let name: String
    /// Language code → description.
    public var descriptions: [String: String]

    public init(name: String, descriptions: [String: String] = [:]) {
        self.name = name
        self.descriptions = descriptions
    }

    /// The description in `language`, else in English, else the name.
    public func description(in language: String) -> String {
        descriptions[language] ?? descriptions["en"] ?? name
    }
}

/// What a client may ask of an API: the permissions (delegated, with a user) and the roles
/// (application, client credentials) granted to it.
public struct APIAccess: Sendable, Hashable {
    public let tenant: TenantName
    public let clientID: ClientID
    /// The API's application ID.
    public let api: ClientID
    public var permissions: [String]
    public var roles: [String]

    public init(tenant: TenantName, clientID: ClientID, api: ClientID, permissions: [String] = [], roles: [String] = []) {
        self.tenant = tenant
        self.clientID = clientID
        self.api = api
        self.permissions = permissions
        self.roles = roles
    }
}
