import Foundation
import JWTKit
import Synchronization

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

    /// What a self-registered client may ask for besides its own grants: the delegated
    /// permissions of the APIs the tenant lists for such clients (`ClientRegistrationSettings`),
    /// or of every API of the tenant under `*` (a request then names the API in `resource`).
    /// Read at each lookup, so a change of the list reaches registered clients too.
    public static func registrationAPIs(
        tenant: TenantName, in store: any ResourceStore & TenantStore, besides granted: [GrantedAPI]
    ) async throws -> [GrantedAPI] {
        guard let settings = try await store.tenant(named: tenant)?.clientRegistration, !settings.apis.isEmpty else { return [] }
        let apis: [API]
        if settings.anyAPI {
            apis = try await store.apis(tenant: tenant)
        } else {
            var listed: [API] = []
            for value in settings.apis { if let api = try await store.api(tenant: tenant, named: value) { listed.append(api) } }
            apis = listed
        }
        // Never the admin API: self-registration must not open a way to administration.
        return apis.filter { api in
            !BuiltInAdminAPI.isBuiltIn(api.applicationID) && !granted.contains { $0.api.applicationID == api.applicationID }
        }.map { api in
            GrantedAPI(api: api, permissions: api.permissions.map(\.name), roles: [])
        }
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

    private let store: any ClientStore & ResourceStore & TenantStore & ClientRegistrationStore
    private let cache: TTLCache<Key, ClientRecord>
    /// The server's base URL, from which the built-in console client's redirect URI is derived.
    private let baseURL: String?
    /// Fetches client ID metadata documents; nil: URLs are never client IDs.
    private let fetcher: (any OutboundFetcher)?
    private let time: TimeSource
    /// Fetched documents' clients by tenant and URL, each until its own expiry
    /// (`OutboundCacheLifetime`); at most `maximumDocuments`, the oldest dropped first.
    private let documents = Mutex<[Key: (record: ClientRecord, until: Date)]>([:])
    /// Documents that could not be used, refused again without a fetch for `failureLifetime`.
    private let failedDocuments = Mutex<[Key: (error: CatalogueError, until: Date)]>([:])
    static let failureLifetime: TimeInterval = 30
    static let maximumDocuments = 1_000

    public init(
        store: any ClientStore & ResourceStore & TenantStore & ClientRegistrationStore, ttl: TimeInterval = 5, time: TimeSource = .system,
        baseURL: String? = nil,
        fetcher: (any OutboundFetcher)? = nil, reloadFailed: @escaping @Sendable (any Error) -> Void = { _ in }
    ) {
        self.store = store
        self.baseURL = baseURL
        self.fetcher = fetcher
        self.time = time
        self.cache = TTLCache(ttl: ttl, time: time, reloadFailed: reloadFailed)
    }

    public func lookup(tenant: TenantName, id: ClientID) async throws -> ClientRecord? {
        let registered = try await registeredClient(tenant: tenant, id: id)
        guard registered == nil, let fetcher, ClientIDMetadataDocument.isCandidate(id.value) else { return registered }
        return try await documentClient(tenant: tenant, id: id, fetcher: fetcher)
    }

    /// A client whose ID is a document URL: the cached one while fresh, else fetched now.
    private func documentClient(tenant: TenantName, id: ClientID, fetcher: any OutboundFetcher) async throws -> ClientRecord {
        let key = Key(tenant: tenant, id: id)
        let now = time.now()
        if let cached = documents.withLock({ $0[key] }), cached.until > now { return cached.record }
        guard let record = try await store.tenant(named: tenant) else {
            throw CatalogueError(Catalogue.tenantNotFound, ["tenant": tenant.value])
        }
        let settings = record.clientRegistration
        guard settings.metadataDocuments else {
            throw CatalogueError(Catalogue.clientMetadataDocumentsNotEnabled, ["tenant": tenant.value])
        }
        if let failed = failedDocuments.withLock({ $0[key] }), failed.until > now { throw failed.error }
        let document: FetchedDocument
        let client: Client
        do {
            document = try await fetcher.fetch(id.value, policy: OutboundPolicy(tenant: record), accept: "application/json")
            client = try ClientIDMetadataDocument.client(document: document, url: id.value, tenant: tenant, now: now)
        } catch let error as CatalogueError where Self.documentsFault(error) {
            failedDocuments.withLock { failures in
                if failures.count >= Self.maximumDocuments { failures = failures.filter { $0.value.until > now } }
                if failures.count < Self.maximumDocuments { failures[key] = (error, now.addingTimeInterval(Self.failureLifetime)) }
            }
            throw error
        }
        let apis = try await ClientRecord.registrationAPIs(tenant: tenant, in: store, besides: [])
        let loaded = await ClientRecord.load(client: client, secrets: [], apis: apis)
        let lifetime = OutboundCacheLifetime.seconds(cacheControl: document.cacheControl)
        if lifetime > 0 {
            documents.withLock { entries in
                if entries.count >= Self.maximumDocuments, let oldest = entries.min(by: { $0.value.until < $1.value.until })?.key {
                    entries[oldest] = nil
                }
                entries[key] = (loaded, now.addingTimeInterval(lifetime))
            }
        }
        return loaded
    }

    /// Failures that the document (or its host's answer) caused, kept for `failureLifetime`;
    /// never timeouts or a busy node, which a stranger could cause for another's document.
    static func documentsFault(_ error: CatalogueError) -> Bool {
        [
            Catalogue.clientMetadataDocumentInvalid, Catalogue.outboundTooLarge, Catalogue.outboundRedirectRefused,
            Catalogue.outboundURLRefused, Catalogue.outboundAddressRefused,
        ].contains(error.entry)
    }

    private func registeredClient(tenant: TenantName, id: ClientID) async throws -> ClientRecord? {
        if case .some(let record) = cache.fresh(Key(tenant: tenant, id: id)) { return record }
        return try await cache.value(for: Key(tenant: tenant, id: id)) { [store, baseURL] in
            guard var client = try await store.client(tenant: tenant, id: id) else { return nil }
            if let baseURL { client = BuiltInConsole.withDerivedURIs(client, baseURL: baseURL) }
            var apis = try await ClientRecord.grantedAPIs(of: client, in: store)
            if try await store.clientRegistration(tenant: tenant, clientID: id) != nil {
                client.source = .selfRegistered
                apis += try await ClientRecord.registrationAPIs(tenant: tenant, in: store, besides: apis)
            }
            return await ClientRecord.load(client: client, secrets: try await store.secrets(tenant: tenant, clientID: id), apis: apis)
        }
    }

    /// Forgets every cached client (a client changed somewhere: `ChangeWatcher`).
    public func invalidateAll() {
        cache.removeAll()
        documents.withLock { $0.removeAll() }
        failedDocuments.withLock { $0.removeAll() }
    }

    public func markAllStale() { cache.markAllStale() }

    /// Forgets a cached client (for a caller in this process that changed it; nothing in the
    /// server calls it today).
    public func invalidate(tenant: TenantName, id: ClientID) {
        cache.invalidate(Key(tenant: tenant, id: id))
    }
}
