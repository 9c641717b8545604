import Foundation
import Synchronization

/// A store in memory, for tests and `--storage memory`. Passes the same contract suite as SQLite.
public final class InMemoryStore: GatehouseStore {
    struct State {
        var tenants: [TenantName: Tenant] = [:]
        var clients: [TenantName: [ClientID: Client]] = [:]
        var secrets: [TenantName: [ClientID: [ClientSecretRecord]]] = [:]
        var keys: [TenantName: [SigningKeyRecord]] = [:]
        var oneTime: [String: Date] = [:]
        var signIns: [SignInEvent] = []
        var signInAggregates: [SignInAggregate.Key: SignInAggregate] = [:]
        var settings: [String: String] = [:]
        var users: [TenantName: [String: User]] = [:]
        var failures: [String: (count: Int, last: Date)] = [:]
        var stateValues: [String: (value: String, expiresAt: Date)] = [:]
        var grants: [String: AuthorizationGrant] = [:]
        var grantsByCode: [String: String] = [:]
        var refreshTokens: [String: RefreshTokenRecord] = [:]
        var changes = 0
        var leases: [String: (holder: String, until: Date)] = [:]
        var apis: [TenantName: [ClientID: API]] = [:]
        var audit: [AuditEntry] = []
        var roleAssignments: [RoleAssignment] = []
        var sessions: [String: BrowserSession] = [:]
        var consents: [String: Consent] = [:]
        var outbox: [String: OutboxMessage] = [:]
        var sessionParticipants: [SessionParticipant] = []
        /// Recovery code hashes by "tenant|user ID".
        var recoveryCodes: [String: Set<String>] = [:]
        var logos: [TenantName: TenantLogo] = [:]
        /// Passkeys by tenant and credential ID.
        var passkeys: [TenantName: [String: Passkey]] = [:]
        /// Self-registered clients (RFC 7591) and initial access tokens by ID.
        var clientRegistrations: [TenantName: [ClientID: ClientRegistrationRecord]] = [:]
        var initialAccessTokens: [TenantName: [String: InitialAccessToken]] = [:]
        /// Per client, in the order of the grants.
        var access: [TenantName: [ClientID: [APIAccess]]] = [:]
    }

    let state = Mutex(State())
    /// One `atomically` body at a time (nested calls join the outer one).
    let atomicGate = SerialGate()
    @TaskLocal static var insideAtomically = false

    public init() {}

    public func changeCounter() async throws -> Int { state.withLock { $0.changes } }

    public func acquireLease(_ name: String, holder: String, until: Date, now: Date) async throws -> Bool {
        state.withLock { state in
            if let lease = state.leases[name], lease.holder != holder, lease.until > now { return false }
            state.leases[name] = (holder, until)
            return true
        }
    }

    public func setKeyRotation(_ interval: TimeInterval?, tenant: TenantName) async throws -> Bool {
        try await updateTenant(tenant) { updated in
            updated.keyRotationInterval = interval
        }
    }

    public func setTokenSettings(tenant: TenantName, algorithm: SigningAlgorithm?, accessTokenLifetime: Int?) async throws -> Bool {
        try await updateTenant(tenant) { updated in
            if let algorithm { updated.signingAlgorithm = algorithm }
            if let accessTokenLifetime { updated.accessTokenLifetime = accessTokenLifetime }
        }
    }

    /// Runs a change of cached data and moves the change counter on.
    func countingChange<T>(_ body: () async throws -> T) async throws -> T {
        let result = try await body()
        state.withLock { $0.changes += 1 }
        return result
    }

    /// Changes the stored tenant in place, as one counted change; false if there is no such tenant.
    func updateTenant(_ name: TenantName, _ change: (inout Tenant) -> Void) async throws -> Bool {
        try await countingChange {
            state.withLock { state in
                guard var tenant = state.tenants[name] else { return false }
                change(&tenant)
                state.tenants[name] = tenant
                return true
            }
        }
    }

    public func setRegistration(_ policy: RegistrationPolicy, domains: [String], tenant: TenantName) async throws -> Bool {
        try await updateTenant(tenant) { updated in
            updated.registration = policy
            updated.registrationDomains = domains
        }
    }

    public func setBranding(displayName: String, primaryColor: String?, supportContact: String?, tenant: TenantName) async throws -> Bool {
        try await updateTenant(tenant) { updated in
            updated.displayName = displayName
            updated.branding.primaryColor = primaryColor
            updated.branding.supportContact = supportContact
        }
    }

    public func setLogo(_ logo: TenantLogo?, tenant: TenantName) async throws -> Bool {
        try await countingChange {
            state.withLock { state in
                guard state.tenants[tenant] != nil else { return false }
                state.tenants[tenant]?.branding.logoDigest = logo?.digest
                state.logos[tenant] = logo
                return true
            }
        }
    }

    public func logo(tenant: TenantName) async throws -> TenantLogo? {
        state.withLock { $0.logos[tenant] }
    }

    public func setClientRegistration(_ settings: ClientRegistrationSettings, tenant: TenantName) async throws -> Bool {
        try await updateTenant(tenant) { updated in
            updated.clientRegistration = settings
        }
    }

    public func setRequireDPoPNonce(_ on: Bool, tenant: TenantName) async throws -> Bool {
        try await updateTenant(tenant) { updated in
            updated.requireDPoPNonce = on
        }
    }

    public func setRequirePushedAuthorizationRequests(_ on: Bool, tenant: TenantName) async throws -> Bool {
        try await updateTenant(tenant) { updated in
            updated.requirePushedAuthorizationRequests = on
        }
    }

    public func setVerifyEmail(_ on: Bool, tenant: TenantName) async throws -> Bool {
        try await updateTenant(tenant) { updated in
            updated.verifyEmail = on
        }
    }

    public func setSignInLogMode(_ mode: SignInLogMode, tenant: TenantName) async throws -> Bool {
        try await updateTenant(tenant) { updated in
            updated.signInLog = mode
        }
    }

    public func createTenant(_ tenant: Tenant) async throws {
        try await countingChange {
            try state.withLock { state in
                guard state.tenants[tenant.name] == nil else { throw StoreError.conflict("tenant \(tenant.name)") }
                state.tenants[tenant.name] = tenant
            }
        }
    }

    public func tenant(named name: TenantName) async throws -> Tenant? { state.withLock { $0.tenants[name] } }

    public func tenant(id: UUID) async throws -> Tenant? { state.withLock { $0.tenants.values.first { $0.id == id } } }

    public func tenantsWithClient(id: ClientID) async throws -> [TenantName] {
        state.withLock { state in state.clients.filter { $0.value[id] != nil }.map(\.key).sorted() }
    }

    public func tenants() async throws -> [Tenant] { state.withLock { $0.tenants.values.sorted { $0.name < $1.name } } }

    public func createClient(_ client: Client) async throws {
        try await countingChange {
            try state.withLock { state in
                guard state.clients[client.tenant]?[client.id] == nil else { throw StoreError.conflict("client \(client.id)") }
                state.clients[client.tenant, default: [:]][client.id] = client
            }
        }
    }

    public func client(tenant: TenantName, id: ClientID) async throws -> Client? { state.withLock { $0.clients[tenant]?[id] } }

    public func clients(tenant: TenantName) async throws -> [Client] {
        state.withLock { ($0.clients[tenant] ?? [:]).values.sorted { $0.id.value < $1.id.value } }
    }

    public func updateClient(_ client: Client) async throws -> Bool {
        try await countingChange {
            state.withLock { state in
                guard let existing = state.clients[client.tenant]?[client.id] else { return false }
                var updated = Client(
                    tenant: existing.tenant, id: existing.id, name: client.name, type: existing.type, authMethods: client.authMethods,
                    grantTypes: client.grantTypes, allowedScopes: client.allowedScopes, defaultScopes: client.defaultScopes,
                    jwks: client.jwks, redirectURIs: client.redirectURIs, postLogoutRedirectURIs: client.postLogoutRedirectURIs,
                    certificates: client.certificates, enabled: client.enabled, firstParty: client.firstParty,
                    createdAt: existing.createdAt)
                updated.backchannelLogoutURI = client.backchannelLogoutURI
                updated.backchannelLogoutSessionRequired = client.backchannelLogoutSessionRequired
                updated.requirePushedAuthorizationRequests = client.requirePushedAuthorizationRequests
                updated.requireSignedRequestObject = client.requireSignedRequestObject
                updated.requireDPoP = client.requireDPoP
                state.clients[client.tenant]?[client.id] = updated
                return true
            }
        }
    }

    public func setCertificates(tenant: TenantName, id: ClientID, certificates: [String]) async throws -> Bool {
        try await countingChange {
            state.withLock { state in
                guard state.clients[tenant]?[id] != nil else { return false }
                state.clients[tenant]?[id]?.certificates = certificates
                return true
            }
        }
    }

    public func removeClient(tenant: TenantName, id: ClientID) async throws -> Bool {
        try await countingChange {
            state.withLock { state in
                state.secrets[tenant]?[id] = nil
                state.access[tenant]?[id] = nil
                state.clientRegistrations[tenant]?[id] = nil
                // An API it backed goes with it (its credentials were the API's own).
                if state.apis[tenant]?.removeValue(forKey: id) != nil {
                    for client in (state.access[tenant] ?? [:]).keys { state.access[tenant]?[client]?.removeAll { $0.api == id } }
                }
                return state.clients[tenant]?.removeValue(forKey: id) != nil
            }
        }
    }

    public func addSecret(_ secret: ClientSecretRecord) async throws {
        try await countingChange {
            try state.withLock { state in
                let existing = state.secrets[secret.tenant]?[secret.clientID] ?? []
                guard !existing.contains(where: { $0.secretID == secret.secretID }) else {
                    throw StoreError.conflict("secret \(secret.secretID)")
                }
                state.secrets[secret.tenant, default: [:]][secret.clientID, default: []].append(secret)
            }
        }
    }

    public func noteSecretUse(_ uses: [SecretUse]) async throws {
        state.withLock { state in
            for use in uses {
                guard let list = state.secrets[use.tenant]?[use.clientID] else { continue }
                state.secrets[use.tenant]?[use.clientID] = list.map { secret in
                    var secret = secret
                    if secret.secretID == use.secretID, (secret.lastUsedAt ?? .distantPast) < use.at { secret.lastUsedAt = use.at }
                    return secret
                }
            }
        }
    }

    public func secrets(tenant: TenantName, clientID: ClientID) async throws -> [ClientSecretRecord] {
        state.withLock { ($0.secrets[tenant]?[clientID] ?? []).sorted { $0.createdAt < $1.createdAt } }
    }

    public func removeSecret(tenant: TenantName, clientID: ClientID, secretID: String) async throws -> Bool {
        try await countingChange {
            state.withLock { state in
                guard let list = state.secrets[tenant]?[clientID], list.contains(where: { $0.secretID == secretID }) else { return false }
                state.secrets[tenant]?[clientID] = list.filter { $0.secretID != secretID }
                return true
            }
        }
    }

    public func addKey(_ key: SigningKeyRecord) async throws {
        try await countingChange {
            try state.withLock { state in
                guard !(state.keys[key.tenant] ?? []).contains(where: { $0.kid == key.kid }) else {
                    throw StoreError.conflict("key \(key.kid)")
                }
                state.keys[key.tenant, default: []].append(key)
            }
        }
    }

    public func keys(tenant: TenantName) async throws -> [SigningKeyRecord] {
        state.withLock { ($0.keys[tenant] ?? []).sorted { $0.createdAt < $1.createdAt } }
    }

    public func setKeyStatus(tenant: TenantName, kid: String, status: KeyStatus) async throws -> Bool {
        try await countingChange {
            state.withLock { state in
                guard let index = state.keys[tenant]?.firstIndex(where: { $0.kid == kid }) else { return false }
                state.keys[tenant]?[index].status = status
                return true
            }
        }
    }

    public func rotateKeys(tenant: TenantName, promote kid: String, newNext: SigningKeyRecord) async throws -> Bool {
        try await countingChange {
            try state.withLock { state in
                guard var keys = state.keys[tenant], let index = keys.firstIndex(where: { $0.kid == kid && $0.status == .next }) else {
                    return false
                }
                guard !keys.contains(where: { $0.kid == newNext.kid }) else { throw StoreError.conflict("key \(newNext.kid)") }
                for other in keys.indices where keys[other].status == .active {
                    keys[other].status = .retired
                    keys[other].retiredAt = newNext.createdAt
                }
                keys[index].status = .active
                keys.append(newNext)
                state.keys[tenant] = keys
                return true
            }
        }
    }

    public func removeKey(tenant: TenantName, kid: String) async throws -> Bool {
        try await countingChange {
            state.withLock { state in
                guard let index = state.keys[tenant]?.firstIndex(where: { $0.kid == kid }) else { return false }
                state.keys[tenant]?.remove(at: index)
                return true
            }
        }
    }

    public func consumeOnce(key: String, expiresAt: Date, now: Date) async throws -> Bool {
        state.withLock { state in
            if let existing = state.oneTime[key], existing >= now { return false }
            state.oneTime[key] = expiresAt
            return true
        }
    }

    public func purgeExpired(now: Date, limit: Int) async throws -> Int {
        state.withLock { state in
            let expired = state.oneTime.filter { $0.value < now }.map(\.key).prefix(max(0, limit))
            for key in expired { state.oneTime[key] = nil }
            return expired.count
        }
    }

    public func append(_ events: [SignInEvent]) async throws {
        state.withLock { $0.signIns.append(contentsOf: events) }
    }

    public func signIns(_ query: SignInQuery) async throws -> [SignInEvent] {
        state.withLock { state in
            Array(state.signIns.filter(query.matches).sorted { $0.time > $1.time }.prefix(query.limit))
        }
    }

    public func purgeSignIns(before cutoff: Date, limit: Int) async throws -> Int {
        state.withLock { state in
            let old = state.signIns.indices.filter { state.signIns[$0].time < cutoff }
                .sorted { state.signIns[$0].time < state.signIns[$1].time }.prefix(limit)
            for index in old.sorted(by: >) { state.signIns.remove(at: index) }
            return old.count
        }
    }

    public func addSignInAggregates(_ aggregates: [SignInAggregate]) async throws {
        state.withLock { state in
            for aggregate in aggregates {
                if state.signInAggregates[aggregate.key] != nil {
                    state.signInAggregates[aggregate.key]?.merge(aggregate)
                } else {
                    state.signInAggregates[aggregate.key] = aggregate
                }
            }
        }
    }

    public func signInAggregates(_ query: SignInAggregateQuery) async throws -> [SignInAggregate] {
        state.withLock { state in
            Array(
                state.signInAggregates.values.filter(query.matches).sorted {
                    ($0.key.minute, $0.lastTime) > ($1.key.minute, $1.lastTime)
                }.prefix(query.limit))
        }
    }

    public func purgeSignInAggregates(before cutoff: Date, limit: Int) async throws -> Int {
        state.withLock { state in
            let minute = Int((cutoff.timeIntervalSince1970 / 60).rounded(.down))
            let old = state.signInAggregates.keys.filter { $0.minute < minute }.sorted { $0.minute < $1.minute }.prefix(limit)
            for key in old { state.signInAggregates[key] = nil }
            return old.count
        }
    }

    public func setting(_ key: String) async throws -> String? { state.withLock { $0.settings[key] } }

    public func setting(_ key: String, insertingIfAbsent proposed: String) async throws -> String {
        state.withLock { state in
            if let value = state.settings[key] { return value }
            state.settings[key] = proposed
            return proposed
        }
    }
}
