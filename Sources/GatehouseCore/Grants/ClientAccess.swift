import Foundation

/// An API a client was granted access to, with the permissions (delegated) and roles
/// (application) granted there.
public struct GrantedAPI: Sendable, Hashable {
    public let api: API
    public let permissions: [String]
    public let roles: [String]

    public init(api: API, permissions: [String], roles: [String]) {
        self.api = api
        self.permissions = permissions
        self.roles = roles
    }

    /// The granted permissions (`application: false`) or roles.
    func granted(application: Bool) -> [String] { application ? roles : permissions }

    /// Whether the API defines the permission (`application: false`) or role `name`.
    func defines(_ name: String, application: Bool) -> Bool {
        application ? api.role(name) != nil : api.permission(name) != nil
    }
}

/// A client and the APIs it was granted access to: what a token request is checked against.
public struct ClientAccess: Sendable {
    public let client: Client
    /// In the order they were granted: the first is the audience of a token whose request names
    /// no API (as the first `--resource` of `clients create`).
    public let apis: [GrantedAPI]

    public init(client: Client, apis: [GrantedAPI] = []) {
        self.client = client
        self.apis = apis
    }

    /// The granted API that `value` (a `resource`, an `aud` value or a scope prefix) names: one
    /// of its identifiers, or its application ID.
    public func api(named value: String) -> GrantedAPI? { apis.first { $0.api.isNamed(by: value) } }

    /// The lifetime of an access token for `audience`: the shortest of the lifetimes of the APIs
    /// it names (each, if it sets none, the tenant's); the tenant's if it names none.
    public func accessTokenLifetime(audience: [String], tenantDefault: Int) -> Int {
        let lifetimes = audience.compactMap { value in api(named: value).map { $0.api.accessTokenLifetime ?? tenantDefault } }
        return lifetimes.min() ?? tenantDefault
    }
}

/// `clients create --resource R --scope S` as it was before APIs were objects (and as existing
/// databases hold it): each resource is an API, and each scope that is not an OpenID Connect
/// scope is a permission and a role of each of the client's resources; an Entra-form scope
/// `{resource}/{name}` is permission `name` of that one resource. Scopes of a client without
/// resources, and Entra-form scopes of a resource the client was not given, stay plain scopes
/// (tokens whose audience is the issuer).
public enum ResourceShorthand {
    public struct Split: Sendable, Equatable {
        /// The scopes that stay on the client.
        public var plain: [String] = []
        /// Per resource, in the client's order: the permission (and role) names.
        public var apis: [(resource: String, names: [String])] = []

        public static func == (lhs: Split, rhs: Split) -> Bool {
            lhs.plain == rhs.plain && lhs.apis.map(\.resource) == rhs.apis.map(\.resource) && lhs.apis.map(\.names) == rhs.apis.map(\.names)
        }
    }

    public static func split(scopes: [String], resources: [String]) -> Split {
        var result = Split()
        guard !resources.isEmpty else {
            result.plain = scopes
            return result
        }
        var names: [String: [String]] = [:]
        func add(_ name: String, to resource: String) {
            if !(names[resource, default: []].contains(name)) { names[resource, default: []].append(name) }
        }
        for token in scopes {
            if Client.openIDConnectScopes.contains(token) {
                result.plain.append(token)
            } else if let (resource, name) = EntraScopes.split(token) {
                if resources.contains(resource), name != ".default" { add(name, to: resource) } else { result.plain.append(token) }
            } else {
                for resource in resources { add(token, to: resource) }
            }
        }
        var seen: Set<String> = []
        for resource in resources where seen.insert(resource).inserted {
            result.apis.append((resource, names[resource] ?? []))
        }
        return result
    }
}
