import Foundation
import Synchronization

/// Key rings of all tenants, loaded from the `KeyStore` on first use and reloaded after `ttl`,
/// so that a rotation made by the CLI reaches a running server.
public final class KeyRingRegistry: KeyRingProvider {
    private let store: any KeyStore
    private let ttl: TimeInterval
    private let time: TimeSource
    private let rings = Mutex<[TenantName: (ring: KeyRing, loadedAt: Date)]>([:])

    public init(store: any KeyStore, ttl: TimeInterval = 30, time: TimeSource = .system) {
        self.store = store
        self.ttl = ttl
        self.time = time
    }

    public func keyRing(for tenant: TenantName) async throws -> KeyRing {
        let now = time.now()
        if let entry = rings.withLock({ $0[tenant] }), now.timeIntervalSince(entry.loadedAt) < ttl { return entry.ring }
        let ring = try await KeyRing(tenant: tenant, records: try await store.keys(tenant: tenant))
        rings.withLock { $0[tenant] = (ring, now) }
        return ring
    }
}

/// Tenants by name through a short-lived cache.
public final class TenantDirectory: Sendable {
    private let store: any TenantStore
    private let ttl: TimeInterval
    private let time: TimeSource
    private let cache = Mutex<[String: (Tenant?, Date)]>([:])

    public init(store: any TenantStore, ttl: TimeInterval = 5, time: TimeSource = .system) {
        self.store = store
        self.ttl = ttl
        self.time = time
    }

    /// The tenant for a path segment: 900023 if malformed, 90002 if unknown.
    public func resolve(_ raw: String) async throws -> Tenant {
        let now = time.now()
        if let (tenant, loaded) = cache.withLock({ $0[raw] }), now.timeIntervalSince(loaded) < ttl {
            if let tenant { return tenant }
            throw CatalogueError(Catalogue.tenantNotFound, ["tenant": raw])
        }
        let name = try TenantName(raw)
        let tenant = try await store.tenant(named: name)
        cache.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[raw] = (tenant, now)
        }
        guard let tenant else { throw CatalogueError(Catalogue.tenantNotFound, ["tenant": raw]) }
        return tenant
    }
}
