import Foundation

/// Key rings of all tenants, loaded from the `KeyStore` on first use and reloaded after `ttl`,
/// so that a rotation made by the CLI reaches a running server.
public final class KeyRingRegistry: KeyRingProvider, NodeCache {
    private let store: any KeyStore
    private let rings: TTLCache<TenantName, KeyRing>

    public init(
        store: any KeyStore, ttl: TimeInterval = 30, time: TimeSource = .system,
        reloadFailed: @escaping @Sendable (any Error) -> Void = { _ in }
    ) {
        self.store = store
        self.rings = TTLCache(ttl: ttl, time: time, reloadFailed: reloadFailed)
    }

    public func keyRing(for tenant: TenantName) async throws -> KeyRing {
        if case .some(.some(let ring)) = rings.fresh(tenant) { return ring }
        guard
            let ring = try await rings.value(
                for: tenant, load: { [store] in try await KeyRing(tenant: tenant, records: try await store.keys(tenant: tenant)) })
        else {
            throw KeyRingError.noActiveKey(tenant.value)
        }
        return ring
    }

    /// Forgets every cached ring (a key changed somewhere).
    public func invalidateAll() { rings.removeAll() }

    public func markAllStale() { rings.markAllStale() }
}

/// Tenants by name through a short-lived cache.
public final class TenantDirectory: NodeCache {
    private let store: any TenantStore & ClientStore
    private let cache: TTLCache<String, Tenant>

    public init(
        store: any TenantStore & ClientStore, ttl: TimeInterval = 5, time: TimeSource = .system,
        reloadFailed: @escaping @Sendable (any Error) -> Void = { _ in }
    ) {
        self.store = store
        self.cache = TTLCache(ttl: ttl, time: time, reloadFailed: reloadFailed)
    }

    /// Forgets every cached tenant (a tenant changed somewhere).
    public func invalidateAll() { cache.removeAll() }

    public func markAllStale() { cache.markAllStale() }

    /// The tenant for a path segment, by name (a domain name is a valid name) or by GUID:
    /// 900023 if malformed, 90002 if unknown.
    public func resolve(_ raw: String) async throws -> Tenant {
        if case .some(.some(let tenant)) = cache.fresh(raw) { return tenant }
        let tenant = try await cache.value(for: raw) { [store] in
            if raw.utf8.count == 36, let id = UUID(uuidString: raw), let byID = try await store.tenant(id: id) { return byID }
            return try await store.tenant(named: try TenantName(raw))
        }
        guard let tenant else { throw CatalogueError(Catalogue.tenantNotFound, ["tenant": raw]) }
        return tenant
    }

    /// The tenant a path segment resolved to when it was last resolved on this node, without
    /// asking the store (nil when it was not, or named no tenant): for recording a request that
    /// failed before its route resolved the tenant.
    public func cached(_ raw: String) -> Tenant? { cache.peek(raw) }

    /// `common` / `organizations`: the one tenant that has this client; 700016 if none, 50059
    /// if several (the request must name its tenant).
    public func resolveMultiTenant(_ alias: String, clientID: ClientID, grantType: String? = nil) async throws -> Tenant {
        let names = try await store.tenantsWithClient(id: clientID)
        guard let first = names.first else {
            throw CatalogueError(Catalogue.applicationNotFound, ["clientId": clientID.value, "tenant": alias])
        }
        guard names.count == 1 else {
            throw CatalogueError(Catalogue.missingTenantRealm, detail: "client \(clientID.value) exists in \(names.count) tenants")
        }
        return try await resolve(first.value)
    }
}
