import Foundation
import JWTKit

/// A client with what authenticating it needs: its secrets (hashes) and its assertion keys.
public struct ClientRecord: Sendable {
    public let client: Client
    public let secrets: [ClientSecretRecord]
    /// The client's registered JWKS as a jwt-kit key collection, nil if none or unusable.
    public let assertionKeys: JWTKeyCollection?
    /// The client's registered certificates, parsed once; unreadable ones are left out.
    public let certificates: [ClientCertificate]
    /// The APIs the client was granted access to, in the order of the grants.
    public let apis: [GrantedAPI]
    /// The origins of its redirect URIs, worked out once (CORS: a public client's browser app).
    public let origins: Set<String>

    public init(
        client: Client, secrets: [ClientSecretRecord], assertionKeys: JWTKeyCollection?, certificates: [ClientCertificate] = [],
        apis: [GrantedAPI] = []
    ) {
        self.client = client
        self.secrets = secrets
        self.assertionKeys = assertionKeys
        self.certificates = certificates
        self.apis = apis
        self.origins = client.redirectOrigins
    }

    /// What the client may ask tokens for.
    public var access: ClientAccess { ClientAccess(client: client, apis: apis) }

    /// The APIs a client was granted, with their definitions; a grant whose API is gone is left out.
    public static func grantedAPIs(of client: Client, in store: any ResourceStore) async throws -> [GrantedAPI] {
        var granted: [GrantedAPI] = []
        for access in try await store.access(tenant: client.tenant, clientID: client.id) {
            guard let api = try await store.api(tenant: client.tenant, applicationID: access.api) else { continue }
            granted.append(GrantedAPI(api: api, permissions: access.permissions, roles: access.roles))
        }
        return granted
    }

    /// Builds the record, parsing the client's JWKS once.
    public static func load(client: Client, secrets: [ClientSecretRecord], apis: [GrantedAPI] = []) async -> ClientRecord {
        var keys: JWTKeyCollection? = nil
        if let jwks = client.jwks {
            let collection = JWTKeyCollection()
            if (try? await collection.add(jwksJSON: jwks)) != nil { keys = collection }
        }
        return ClientRecord(
            client: client, secrets: secrets, assertionKeys: keys,
            certificates: client.certificates.compactMap { try? ClientCertificate(pem: $0) }, apis: apis)
    }
}

/// Finds clients. The hot path reads through a short-lived cache (docs/scaling.md).
public protocol ClientDirectory: Sendable {
    func lookup(tenant: TenantName, id: ClientID) async throws -> ClientRecord?
}

/// A `ClientDirectory` over a `ClientStore` with a TTL cache. The server itself does not change
/// clients (the CLI does, in another process): a change is seen when the node's `ChangeWatcher`
/// notices the store's change counter move (`invalidateAll`, within its poll interval), and at
/// the latest after `ttl`.
public final class CachedClientDirectory: ClientDirectory, NodeCache {
    private struct Key: Hashable, Sendable {
        let tenant: TenantName
        let id: ClientID
    }

    private let store: any ClientStore & ResourceStore
    private let cache: TTLCache<Key, ClientRecord>
    /// The server's base URL, from which the built-in console client's redirect URI is derived.
    private let baseURL: String?

    public init(
        store: any ClientStore & ResourceStore, ttl: TimeInterval = 5, time: TimeSource = .system, baseURL: String? = nil,
        reloadFailed: @escaping @Sendable (any Error) -> Void = { _ in }
    ) {
        self.store = store
        self.baseURL = baseURL
        self.cache = TTLCache(ttl: ttl, time: time, reloadFailed: reloadFailed)
    }

    public func lookup(tenant: TenantName, id: ClientID) async throws -> ClientRecord? {
        if case .some(let record) = cache.fresh(Key(tenant: tenant, id: id)) { return record }
        return try await cache.value(for: Key(tenant: tenant, id: id)) { [store, baseURL] in
            guard var client = try await store.client(tenant: tenant, id: id) else { return nil }
            if let baseURL { client = BuiltInConsole.withDerivedURIs(client, baseURL: baseURL) }
            return await ClientRecord.load(
                client: client, secrets: try await store.secrets(tenant: tenant, clientID: id),
                apis: try await ClientRecord.grantedAPIs(of: client, in: store))
        }
    }

    /// Forgets every cached client (a client changed somewhere: `ChangeWatcher`).
    public func invalidateAll() { cache.removeAll() }

    public func markAllStale() { cache.markAllStale() }

    /// Forgets a cached client (for a caller in this process that changed it; nothing in the
    /// server calls it today).
    public func invalidate(tenant: TenantName, id: ClientID) {
        cache.invalidate(Key(tenant: tenant, id: id))
    }
}
