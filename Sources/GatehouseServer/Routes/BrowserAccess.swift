import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Synchronization

/// The origins a preflight may be allowed from, per tenant: those of the redirect URIs of the
/// tenant's public clients (a preflight carries no client ID, so the client is not known yet).
/// Cached like clients: dropped when the store's change counter moves (`ChangeWatcher`).
public final class CachedBrowserOrigins: NodeCache {
    private let store: any ClientStore & TenantStore
    private let cache: TTLCache<String, Set<String>>
    /// One load per key at a time: a burst of preflights on an empty cache (after a change, at
    /// start) waits for the same load instead of each reading every client.
    private let loading = Mutex<[String: Task<Set<String>, any Error>]>([:])

    public init(
        store: any ClientStore & TenantStore, ttl: TimeInterval = 5, time: TimeSource = .system,
        reloadFailed: @escaping @Sendable (any Error) -> Void = { _ in }
    ) {
        self.store = store
        self.cache = TTLCache(ttl: ttl, time: time, reloadFailed: reloadFailed)
    }

    /// The origins of `tenant`'s public clients' redirect URIs; for a multi-tenant alias
    /// (`common`), those of every tenant's.
    func origins(tenant: TenantName?) async throws -> Set<String> {
        let key = tenant?.value ?? "\u{0}all"
        if case .some(let origins) = cache.fresh(key) { return origins ?? [] }
        let task = loading.withLock { loads in
            if let running = loads[key] { return running }
            let started = Task { try await self.load(key, tenant: tenant) }
            loads[key] = started
            return started
        }
        defer { loading.withLock { loads in if loads[key] == task { loads[key] = nil } } }
        return try await task.value
    }

    private func load(_ key: String, tenant: TenantName?) async throws -> Set<String> {
        try await cache.value(for: key) { [store] in
            var tenants: [TenantName] = []
            if let tenant { tenants = [tenant] } else { tenants = try await store.tenants().map(\.name) }
            var origins: Set<String> = []
            for name in tenants {
                for client in try await store.clients(tenant: name) where client.type == .public {
                    origins.formUnion(client.redirectOrigins)
                }
            }
            return origins
        } ?? []
    }

    public func invalidateAll() { cache.removeAll() }
    public func markAllStale() { cache.markAllStale() }
}

/// CORS for the endpoints a single-page app calls (token, device authorization, revocation,
/// userinfo): a preflight is allowed from an origin of a public client of the tenant, limited to
/// the endpoint's methods and headers; a response carries `Access-Control-Allow-Origin` (the
/// request's origin, never `*`, never with credentials) only when the origin is one of the
/// presenting client's (`RequestNotes.browserOrigins`, set by the route once it knows the
/// client). An origin that is not allowed gets no CORS headers; the request is answered as
/// usual and the browser withholds the answer.
struct BrowserAccessMiddleware: RouterMiddleware {
    typealias Context = GatehouseContext
    /// `Access-Control-Allow-Methods`.
    let methods: String
    /// `Access-Control-Allow-Headers`.
    let headers: String
    let origins: CachedBrowserOrigins
    let tenants: TenantDirectory
    /// How long a browser may keep a preflight's answer.
    static let maxAge = "600"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else {
            var response = try await next(request, context)
            response.headers.append(HTTPField(name: .vary, value: "Origin"))
            return response
        }
        if request.method == .options {
            var response = Response(status: .noContent)
            response.headers.append(HTTPField(name: .vary, value: "Origin"))
            // A store that cannot answer: no CORS (the browser blocks), never an error.
            let allowed = (try? await preflightAllowed(origin, segment: context.parameters.get("tenant") ?? "", context: context)) ?? false
            if allowed {
                response.headers[.accessControlAllowOrigin] = origin
                response.headers[.accessControlAllowMethods] = methods
                response.headers[.accessControlAllowHeaders] = headers
                response.headers[.accessControlMaxAge] = Self.maxAge
            }
            return response
        }
        var response = try await next(request, context)
        response.headers.append(HTTPField(name: .vary, value: "Origin"))
        if context.notes.browserOrigins.contains(origin) {
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.accessControlExposeHeaders] = "X-Trace-Id, DPoP-Nonce, WWW-Authenticate"
        }
        return response
    }

    private func preflightAllowed(_ origin: String, segment: String, context: Context) async throws -> Bool {
        if context.rendering.dialect.isMultiTenantAlias(segment) {
            return try await origins.origins(tenant: nil).contains(origin)
        }
        // An unknown tenant: no CORS (the actual request gets its error without them).
        guard let tenant = try? await tenants.resolve(segment, for: context) else { return false }
        return try await origins.origins(tenant: tenant.name).contains(origin)
    }
}

/// Metadata and keys: public documents any page may read (`Access-Control-Allow-Origin: *`,
/// no credentials).
struct OpenAccessMiddleware: RouterMiddleware {
    typealias Context = GatehouseContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.accessControlAllowOrigin] = "*"
        return response
    }
}

extension RequestNotes {
    /// Lets the browser app of `client` read this response: the origins of its redirect URIs,
    /// for a public client (a confidential one's requests from a browser are refused: 9002326).
    func allowBrowser(of record: ClientRecord) {
        browserOrigins = record.client.type == .public ? record.origins : []
    }
}
