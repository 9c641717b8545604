import Foundation

/// Failures of a store that callers act on.
/// What turning a tenant's email sign-in on or off did.
public enum EmailSignInChange: Sendable, Equatable {
    case done
    case noSuchTenant
    /// Addresses that several users of the tenant have: email sign-in stays off.
    case duplicates([String])
}

extension UserStore {
    /// The user a sign-in name names: the user of that username, else, while the tenant has email
    /// sign-in on, the user of that address. A username wins over another user's address.
    public func user(tenant: TenantName, signInName raw: String) async throws -> User? {
        if let username = try? Username(raw), let user = try await user(tenant: tenant, username: username) { return user }
        guard let address = User.signInEmail(raw) else { return nil }
        return try await user(tenant: tenant, signInEmail: address)
    }
}

public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// What `conflict` names when a user's sign-in address is another user's.
    public static let emailTaken = "sign-in email address"

    /// A record with this key exists already.
    case conflict(String)
    /// A stored row that cannot be read back (its table and what is wrong).
    case corrupt(String)
    public var description: String {
        switch self {
        case .conflict(let what): "already exists: \(what)"
        case .corrupt(let what): "unreadable row: \(what)"
        }
    }
}

public protocol TenantStore: Sendable {
    /// Creates a tenant; throws `StoreError.conflict` if the name is taken.
    func createTenant(_ tenant: Tenant) async throws
    func tenant(named name: TenantName) async throws -> Tenant?
    /// The tenant with this GUID (Entra-style addressing).
    func tenant(id: UUID) async throws -> Tenant?
    func tenants() async throws -> [Tenant]
    /// Sets how the tenant's sign-in log keeps repeated machine successes; false if there is no such tenant.
    func setSignInLogMode(_ mode: SignInLogMode, tenant: TenantName) async throws -> Bool
    /// Sets whether new users' addresses are mailed a verification link; false if there is no such tenant.
    func setVerifyEmail(_ on: Bool, tenant: TenantName) async throws -> Bool
    /// Sets whether every client of the tenant must push its authorization requests (RFC 9126 §6); false if there is no such tenant.
    func setRequirePushedAuthorizationRequests(_ on: Bool, tenant: TenantName) async throws -> Bool
    func setRequireDPoPNonce(_ on: Bool, tenant: TenantName) async throws -> Bool
    /// Sets the tenant's client registration policy, its APIs and local fetches; false when there is no such tenant.
    func setClientRegistration(_ settings: ClientRegistrationSettings, tenant: TenantName) async throws -> Bool
    /// Sets who may register and with which email domains (empty: any); false: no such tenant.
    func setRegistration(_ policy: RegistrationPolicy, domains: [String], tenant: TenantName) async throws -> Bool
    /// Sets the display name, primary colour and support contact (nil clears the last two);
    /// false: no such tenant.
    func setBranding(displayName: String, primaryColor: String?, supportContact: String?, tenant: TenantName) async throws -> Bool
    /// Stores (or with nil removes) the tenant's logo and its digest in `Tenant.branding`.
    func setLogo(_ logo: TenantLogo?, tenant: TenantName) async throws -> Bool
    func logo(tenant: TenantName) async throws -> TenantLogo?
    /// Sets (or with nil, ends) the tenant's automatic key rotation; false if there is no such tenant.
    func setKeyRotation(_ interval: TimeInterval?, tenant: TenantName) async throws -> Bool
    /// Sets the algorithm of the tenant's new signing keys and its access token lifetime (each
    /// when given); false if there is no such tenant.
    func setTokenSettings(tenant: TenantName, algorithm: SigningAlgorithm?, accessTokenLifetime: Int?) async throws -> Bool
}

public protocol ClientStore: Sendable {
    /// Creates a client; throws `StoreError.conflict` if the id is taken in the tenant.
    func createClient(_ client: Client) async throws
    func client(tenant: TenantName, id: ClientID) async throws -> Client?
    func clients(tenant: TenantName) async throws -> [Client]
    /// Replaces a client's registration (name, auth methods, grant types, scopes, JWKS, redirect
    /// and post-logout URIs, certificates); its type, creation time, secrets and API grants stay.
    /// False if there is no such client.
    func updateClient(_ client: Client) async throws -> Bool
    /// Replaces a client's registered certificates (PEM blocks); false if there is no such client.
    func setCertificates(tenant: TenantName, id: ClientID, certificates: [String]) async throws -> Bool
    /// The tenants that have a client with this ID (resolving `common` and `organizations`).
    func tenantsWithClient(id: ClientID) async throws -> [TenantName]
    /// Removes a client, its secrets, its access to APIs and the API it backs, if any; false if
    /// there was none.
    func removeClient(tenant: TenantName, id: ClientID) async throws -> Bool
    func addSecret(_ secret: ClientSecretRecord) async throws
    func secrets(tenant: TenantName, clientID: ClientID) async throws -> [ClientSecretRecord]
    func removeSecret(tenant: TenantName, clientID: ClientID, secretID: String) async throws -> Bool
    /// Records when secrets were last used (a later time only). Not a change the caches follow.
    func noteSecretUse(_ uses: [SecretUse]) async throws
}

/// APIs (resource servers) and what each client may ask of them.
public protocol ResourceStore: Sendable {
    /// Creates an API; throws `StoreError.conflict` if its application ID, or one of its
    /// identifiers, is taken in the tenant.
    func createAPI(_ api: API) async throws
    func api(tenant: TenantName, applicationID: ClientID) async throws -> API?
    /// The API that `identifier` (exactly as registered) names in the tenant.
    func api(tenant: TenantName, identifier: String) async throws -> API?
    func apis(tenant: TenantName) async throws -> [API]
    /// Replaces an API's mutable fields (display name, identifiers, permissions, roles,
    /// lifetime); false if there is none; `StoreError.conflict` if an identifier is another API's.
    func updateAPI(_ api: API) async throws -> Bool
    /// Removes an API and every client's access to it; false if there was none.
    func removeAPI(tenant: TenantName, applicationID: ClientID) async throws -> Bool
    /// Sets (creates or replaces) a client's access to an API; false if there is no such API.
    func setAccess(_ access: APIAccess) async throws -> Bool
    /// A client's access to every API.
    func access(tenant: TenantName, clientID: ClientID) async throws -> [APIAccess]
    /// Removes a client's access to an API; false if it had none.
    func removeAccess(tenant: TenantName, clientID: ClientID, api: ClientID) async throws -> Bool
}

extension ResourceStore {
    /// The API that `value` names in the tenant: an identifier, its application ID, or
    /// `api://{application ID}` (`API.isNamed(by:)`); identifiers first.
    public func api(tenant: TenantName, named value: String) async throws -> API? {
        if let api = try await api(tenant: tenant, identifier: value) { return api }
        guard let id = API.applicationID(in: value) ?? (try? ClientID(value)) else { return nil }
        return try await api(tenant: tenant, applicationID: id)
    }
}

public protocol KeyStore: Sendable {
    func addKey(_ key: SigningKeyRecord) async throws
    func keys(tenant: TenantName) async throws -> [SigningKeyRecord]
    /// Changes a key's status; false if there is no such key.
    func setKeyStatus(tenant: TenantName, kid: String, status: KeyStatus) async throws -> Bool
    /// Deletes a key; false if there is no such key.
    func removeKey(tenant: TenantName, kid: String) async throws -> Bool
    /// A rotation as one change: `promote` (still the tenant's next key) becomes active, every
    /// other active key is retired and `newNext` is added as the next key; nobody sees a state in
    /// between. False, and nothing changed, if `promote` is no longer the next key (another
    /// rotation ran first). The retired keys record `newNext.createdAt` as their `retiredAt`.
    func rotateKeys(tenant: TenantName, promote kid: String, newNext: SigningKeyRecord) async throws -> Bool
}

/// One-time values (client assertion `jti`s): consumed by one conditional statement.
public protocol ReplayStore: Sendable {
    /// Records `key` until `expiresAt`; returns false if it was recorded already and has not expired.
    func consumeOnce(key: String, expiresAt: Date, now: Date) async throws -> Bool
    /// Forgets at most `limit` values that expired before `now`; returns how many.
    @discardableResult
    func purgeExpired(now: Date, limit: Int) async throws -> Int
}

public protocol SignInLogStore: Sendable {
    /// Keeps events whole.
    func append(_ events: [SignInEvent]) async throws
    /// Matching events, newest first, at most `query.limit`.
    func signIns(_ query: SignInQuery) async throws -> [SignInEvent]
    /// Adds aggregates to the stored ones of the same key (counts, buckets and latency summed,
    /// first and last kept), each in one statement, so that writers on several nodes add up.
    func addSignInAggregates(_ aggregates: [SignInAggregate]) async throws
    /// Matching aggregates, newest minute first, at most `query.limit`.
    func signInAggregates(_ query: SignInAggregateQuery) async throws -> [SignInAggregate]
    /// Deletes at most `limit` of the events older than `cutoff` (retention); returns how many.
    @discardableResult
    func purgeSignIns(before cutoff: Date, limit: Int) async throws -> Int
    /// Deletes at most `limit` of the aggregates whose minute began before `cutoff`; returns how many.
    @discardableResult
    func purgeSignInAggregates(before cutoff: Date, limit: Int) async throws -> Int
}

extension SignInLogStore {
    /// Deletes every event older than `cutoff`, in batches of `batch`; returns how many.
    @discardableResult
    public func purgeSignIns(before cutoff: Date, batch: Int = 10_000) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await purgeSignIns(before: cutoff, limit: batch)
            total += deleted
            if deleted < batch { return total }
        }
    }
}

/// Server-wide settings, such as the secret hashing key.
public protocol SettingsStore: Sendable {
    /// The value stored for `key`; stores `proposed` first if there is none (atomically).
    func setting(_ key: String, insertingIfAbsent proposed: String) async throws -> String
    /// The value stored for `key`, if any (nothing is stored).
    func setting(_ key: String) async throws -> String?
}

public protocol UserStore: Sendable {
    /// Creates a user; throws `StoreError.conflict` if the username is taken in the tenant, or
    /// `StoreError.conflict(StoreError.emailTaken)` if the tenant has email sign-in on and another
    /// user has the address (`User.signInEmail`).
    func createUser(_ user: User) async throws
    func user(tenant: TenantName, username: Username) async throws -> User?
    /// The user who signs in with this address (`User.signInEmail`), only while the tenant has
    /// email sign-in on.
    func user(tenant: TenantName, signInEmail: String) async throws -> User?
    /// Turns the tenant's email sign-in on or off. Turning it on is refused while addresses are
    /// shared: `.duplicates` lists them (lowercased) and nothing changes.
    func setEmailSignIn(_ on: Bool, tenant: TenantName) async throws -> EmailSignInChange
    func user(tenant: TenantName, id: String) async throws -> User?
    func users(tenant: TenantName) async throws -> [User]
    /// Replaces a user's mutable fields; false if there is no such user;
    /// `StoreError.conflict(StoreError.emailTaken)` as `createUser`.
    func updateUser(_ user: User) async throws -> Bool
    /// `updateUser`, only while the stored user is still enabled with `previous`'s password hash
    /// and second factor (there or not): false, and nothing written, if those changed meanwhile
    /// (a user's own credential change never undoes an administrator's, or another's, that
    /// landed first).
    func updateUser(_ user: User, ifCredentialsOf previous: User) async throws -> Bool
    /// A password reset by mail, as one conditional update: sets the password hash, `updatedAt`
    /// and `sessionsValidAfter` to `now`, only while the user is enabled, still has `address` as
    /// a verified address and has had no credential change after `issuedAt` (the link's issue
    /// time). False, and nothing changed, otherwise. Nothing else of the user is written.
    func resetPassword(
        tenant: TenantName, id: String, passwordHash: String, address: String, issuedAt: Date, now: Date
    ) async throws -> Bool
    /// Marks the user's address verified, only while it is still `address`; false otherwise.
    func markEmailVerified(tenant: TenantName, id: String, address: String, now: Date) async throws -> Bool
    /// Remembers the language of the user's last sign-in page (for mails); not a change caches follow.
    func setUserLanguage(tenant: TenantName, id: String, language: String) async throws
    /// Replaces the user's recovery codes with `hashes` (none: the user has none); the old ones
    /// stop working.
    func replaceRecoveryCodes(tenant: TenantName, userID: String, hashes: [String], now: Date) async throws
    /// Uses one recovery code: true for exactly one caller, however many present it at once.
    func useRecoveryCode(tenant: TenantName, userID: String, hash: String) async throws -> Bool
    /// How many of the user's recovery codes are unused.
    func recoveryCodesLeft(tenant: TenantName, userID: String) async throws -> Int
    /// Counts one sign-in attempt for `key` *before* its credential is checked, in one atomic
    /// upsert, and returns the count including this one: so a parallel burst cannot get more than
    /// `limit` checks past the lock. Attempts older than `resetBefore` are forgotten first. Once
    /// the count has reached `limit`, further attempts are counted but do not move the window, so
    /// a lock ends `lockoutDuration` after the attempt that reached the limit.
    func countSignInAttempt(key: String, limit: Int, now: Date, resetBefore: Date) async throws -> Int
    /// Attempts counted for `key` since `since` (none after a success cleared them).
    func signInFailures(key: String, since: Date) async throws -> Int
    func clearSignInFailures(key: String) async throws
    /// Deletes up to `limit` counts whose last attempt is before `before` (their window is over);
    /// returns how many.
    func purgeSignInFailures(before: Date, limit: Int) async throws -> Int
}

/// Short-lived server-side state by kind and key (sign-in interactions, browser sessions,
/// remembered consent). Keys are hashes where the value a browser holds is a secret.
public protocol StateStore: Sendable {
    func putState(kind: String, key: String, value: String, expiresAt: Date) async throws
    /// The value, if present and not expired at `now`.
    func state(kind: String, key: String, now: Date) async throws -> String?
    /// Deletes and returns the value in one statement (single use); nil if absent or expired.
    func takeState(kind: String, key: String, now: Date) async throws -> String?
    @discardableResult
    func deleteState(kind: String, key: String) async throws -> Bool
    /// Deletes at most `limit` values expired at `now`; returns how many.
    @discardableResult
    func purgeState(now: Date, limit: Int) async throws -> Int
}

/// Authorization grants: codes and refresh token families.
public protocol GrantStore: Sendable {
    func createGrant(_ grant: AuthorizationGrant) async throws
    func grant(id: String) async throws -> AuthorizationGrant?
    /// Marks the code redeemed in one conditional update; tells a second redemption apart.
    /// `binding` becomes the grant's if it has none (a code redeemed with a DPoP proof); the grant
    /// answered carries the binding it has after the update. Nothing else ever sets or changes a
    /// grant's binding: a rotation that bound an unbound grant would hand it to whoever refreshed
    /// first with a stolen token, and the client's next refresh would be refused instead of
    /// revealing the reuse.
    func redeemCode(hash: String, now: Date, binding: TokenBinding?) async throws -> CodeRedemption
    /// Revokes the grant (and so every token issued from it); false if unknown or revoked already.
    @discardableResult
    func revokeGrant(id: String, now: Date) async throws -> Bool
    /// Revokes every live grant of a user (password changed, user disabled, second factor
    /// removed) in one statement; returns how many.
    @discardableResult
    func revokeGrants(tenant: TenantName, userID: String, now: Date) async throws -> Int
    /// Revokes the user's live grants to one client (a withdrawn consent); returns how many.
    func revokeGrants(tenant: TenantName, userID: String, clientID: ClientID, now: Date) async throws -> Int
    func refreshToken(hash: String) async throws -> RefreshTokenRecord?
    /// The refresh token and its grant in one read (a refresh's first step; one round trip on
    /// a database).
    func refreshTokenWithGrant(hash: String) async throws -> (RefreshTokenRecord, AuthorizationGrant)?
    /// Adds a refresh token at the grant's current generation, only if that is `generation` and
    /// the grant is not revoked (one conditional insert).
    func addRefreshToken(hash: String, grantID: String, generation: Int, now: Date) async throws -> Bool
    /// Rotation: records `newHash` at `generation + 1` and moves the grant from `generation` to
    /// `generation + 1` (one conditional update decides). Whoever reads the grant at the new
    /// generation also finds the new token. False if another rotation won, or the grant is revoked.
    /// `origin` is kept with the new token (`RefreshTokenRecord.origin`).
    func rotate(grantID: String, from generation: Int, newHash: String, now: Date, origin: String?) async throws -> Bool
    /// Deletes at most `limit` grants whose code expired unredeemed, or that ended before
    /// `cutoff`, with their refresh tokens, in one transaction; returns how many.
    @discardableResult
    func purgeGrants(now: Date, endedBefore cutoff: Date, limit: Int) async throws -> Int
}

extension ReplayStore {
    @discardableResult
    public func purgeExpired(now: Date) async throws -> Int { try await purgeExpired(now: now, limit: Int(Int32.max)) }
}

extension StateStore {
    @discardableResult
    public func purgeState(now: Date) async throws -> Int { try await purgeState(now: now, limit: Int(Int32.max)) }
}

/// A store with a versioned schema (the SQL backends): readiness checks it is at this build's
/// latest migration.
public protocol SchemaVersionStore: Sendable {
    func schemaVersion() async throws -> (applied: Int, expected: Int)
}

/// Leases: which node does a periodic chore (the janitor, key rotation) when several run.
public protocol LeaseStore: Sendable {
    /// Takes or renews the lease `name` for `holder` until `until`, if nobody else holds it
    /// unexpired at `now` (one conditional statement); true if `holder` now holds it.
    func acquireLease(_ name: String, holder: String, until: Date, now: Date) async throws -> Bool
}

extension GrantStore {
    public func redeemCode(hash: String, now: Date) async throws -> CodeRedemption {
        try await redeemCode(hash: hash, now: now, binding: nil)
    }

    @discardableResult
    public func purgeGrants(now: Date, endedBefore cutoff: Date) async throws -> Int {
        try await purgeGrants(now: now, endedBefore: cutoff, limit: Int(Int32.max))
    }

    public func refreshTokenWithGrant(hash: String) async throws -> (RefreshTokenRecord, AuthorizationGrant)? {
        guard let record = try await refreshToken(hash: hash), let grant = try await grant(id: record.grantID) else { return nil }
        return (record, grant)
    }
}

/// Everything the server needs from storage. Each backend passes one contract suite.
public typealias GatehouseStore = TenantStore & ClientStore & KeyStore & ReplayStore & SignInLogStore & SettingsStore
    & UserStore & StateStore & GrantStore & ChangeCounterStore & LeaseStore & ResourceStore & AuditStore & RoleAssignmentStore
    & SessionStore & ConsentStore & OutboxStore & TransactionStore & PasskeyStore
    & ClientRegistrationStore & SessionParticipantStore

/// The database did not answer in time, or the connection to it failed: a request that needs
/// it is answered 503 with `Retry-After` (catalogue 9900190), never a hang or a 500.
public struct StoreUnavailable: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A counter that every change of what servers cache (tenants, clients and their secrets and
/// certificates, keys, users) moves on, whoever makes it (the CLI, another node): each node polls
/// it and drops its caches when it moved (`ChangeWatcher`), so a change is seen everywhere within
/// the poll interval instead of the caches' lifetimes.
public protocol ChangeCounterStore: Sendable {
    func changeCounter() async throws -> Int
}
