import Foundation

/// Users by ID through a short-lived cache, for the token endpoint's "is the grant's user still
/// there and enabled" check (a refresh must not cost a user lookup). A change made anywhere is
/// seen within the change watcher's poll interval (`invalidateAll`), at worst within `ttl`;
/// disabling a user also revokes their grants in the same change, which the grant read (never
/// cached) sees at once. Sign-in itself reads users from the store.
public final class UserDirectory: NodeCache {
    private struct Key: Hashable, Sendable {
        let tenant: TenantName
        let id: String
    }

    private let store: any UserStore
    private let cache: TTLCache<Key, User>

    public init(
        store: any UserStore, ttl: TimeInterval = 5, time: TimeSource = .system,
        reloadFailed: @escaping @Sendable (any Error) -> Void = { _ in }
    ) {
        self.store = store
        self.cache = TTLCache(ttl: ttl, time: time, reloadFailed: reloadFailed)
    }

    public func user(tenant: TenantName, id: String) async throws -> User? {
        if case .some(let user) = cache.fresh(Key(tenant: tenant, id: id)) { return user }
        return try await cache.value(for: Key(tenant: tenant, id: id)) { [store] in try await store.user(tenant: tenant, id: id) }
    }

    /// Forgets every cached user (a user changed somewhere).
    public func invalidateAll() { cache.removeAll() }

    public func markAllStale() { cache.markAllStale() }
}
