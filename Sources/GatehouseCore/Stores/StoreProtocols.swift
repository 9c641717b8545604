import Foundation

/// Failures of a store that callers act on.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// A record with this key exists already.
    case conflict(String)
    public var description: String {
        switch self { case .conflict(let what): "already exists: \(what)" }
    }
}

public protocol TenantStore: Sendable {
    /// Creates a tenant; throws `StoreError.conflict` if the name is taken.
    func createTenant(_ tenant: Tenant) async throws
    func tenant(named name: TenantName) async throws -> Tenant?
    func tenants() async throws -> [Tenant]
}

public protocol ClientStore: Sendable {
    /// Creates a client; throws `StoreError.conflict` if the id is taken in the tenant.
    func createClient(_ client: Client) async throws
    func client(tenant: TenantName, id: ClientID) async throws -> Client?
    func clients(tenant: TenantName) async throws -> [Client]
    /// Removes a client and its secrets; false if there was none.
    func removeClient(tenant: TenantName, id: ClientID) async throws -> Bool
    func addSecret(_ secret: ClientSecretRecord) async throws
    func secrets(tenant: TenantName, clientID: ClientID) async throws -> [ClientSecretRecord]
    func removeSecret(tenant: TenantName, clientID: ClientID, secretID: String) async throws -> Bool
}

public protocol KeyStore: Sendable {
    func addKey(_ key: SigningKeyRecord) async throws
    func keys(tenant: TenantName) async throws -> [SigningKeyRecord]
    /// Changes a key's status; false if there is no such key.
    func setKeyStatus(tenant: TenantName, kid: String, status: KeyStatus) async throws -> Bool
    /// Deletes a key; false if there is no such key.
    func removeKey(tenant: TenantName, kid: String) async throws -> Bool
}

/// One-time values (client assertion `jti`s): consumed by one conditional statement.
public protocol ReplayStore: Sendable {
    /// Records `key` until `expiresAt`; returns false if it was recorded already and has not expired.
    func consumeOnce(key: String, expiresAt: Date, now: Date) async throws -> Bool
    /// Forgets values that expired before `now`; returns how many.
    @discardableResult
    func purgeExpired(now: Date) async throws -> Int
}

public protocol SignInLogStore: Sendable {
    func append(_ events: [SignInEvent]) async throws
    /// Matching events, newest first, at most `query.limit`.
    func signIns(_ query: SignInQuery) async throws -> [SignInEvent]
    /// Deletes events older than `cutoff` (retention); returns how many.
    @discardableResult
    func purgeSignIns(before cutoff: Date) async throws -> Int
}

/// Server-wide settings, such as the secret hashing key.
public protocol SettingsStore: Sendable {
    /// The value stored for `key`; stores `proposed` first if there is none (atomically).
    func setting(_ key: String, insertingIfAbsent proposed: String) async throws -> String
}

/// Everything the server needs from storage. Each backend passes one contract suite.
public typealias GatehouseStore = TenantStore & ClientStore & KeyStore & ReplayStore & SignInLogStore & SettingsStore
