import Foundation

/// What the server keeps about a client that registered itself (RFC 7591): the policy it
/// registered under, the keyed hash of its registration access token (RFC 7592: the token is
/// shown once, at registration or at its last update), and the metadata that has no place on
/// `Client` (links shown to users, `jwks_uri`, the scope it asked for).
public struct ClientRegistrationRecord: Sendable, Hashable {
    public let tenant: TenantName
    public let clientID: ClientID
    /// `.open` or `.initialAccessToken`.
    public let policy: ClientRegistrationPolicy
    /// Hex of HMAC-SHA256(server hash key, registration access token).
    public var tokenHash: String
    /// The registered metadata members not held on `Client` (a JSON object as text).
    public var metadata: String
    /// The ID of the initial access token it registered with, if any.
    public let initialTokenID: String?
    public let createdAt: Date
    public var updatedAt: Date

    public init(
        tenant: TenantName, clientID: ClientID, policy: ClientRegistrationPolicy, tokenHash: String, metadata: String,
        initialTokenID: String?, createdAt: Date, updatedAt: Date
    ) {
        self.tenant = tenant
        self.clientID = clientID
        self.policy = policy
        self.tokenHash = tokenHash
        self.metadata = metadata
        self.initialTokenID = initialTokenID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// An initial access token (RFC 7591 §3): made by an administrator, stored as a keyed hash,
/// good for a number of registrations until it expires.
public struct InitialAccessToken: Sendable, Hashable {
    public let tenant: TenantName
    /// A short public identifier, for listing and removal.
    public let id: String
    /// Hex of HMAC-SHA256(server hash key, token).
    public let hash: String
    /// What the administrator wrote it for (who was given it).
    public let label: String
    public let createdAt: Date
    public let expiresAt: Date
    /// Registrations it may still make.
    public var usesLeft: Int

    public init(tenant: TenantName, id: String, hash: String, label: String, createdAt: Date, expiresAt: Date, usesLeft: Int) {
        self.tenant = tenant
        self.id = id
        self.hash = hash
        self.label = label
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usesLeft = usesLeft
    }
}

/// Self-registered clients' records and the tenants' initial access tokens.
public protocol ClientRegistrationStore: Sendable {
    /// Stores the record of a client that just registered (the client is created in the same
    /// `atomically` body); throws `StoreError.conflict` if the client has one.
    func addClientRegistration(_ record: ClientRegistrationRecord) async throws
    func clientRegistration(tenant: TenantName, clientID: ClientID) async throws -> ClientRegistrationRecord?
    /// The tenant's self-registered clients' records (for the admin views' marks).
    func clientRegistrations(tenant: TenantName) async throws -> [ClientRegistrationRecord]
    /// Replaces the token hash, metadata and update time only while the stored token hash is
    /// `expectedTokenHash` (two updates with one token: one wins); false otherwise.
    func replaceClientRegistration(_ record: ClientRegistrationRecord, expectedTokenHash: String) async throws -> Bool
    func addInitialAccessToken(_ token: InitialAccessToken) async throws
    func initialAccessTokens(tenant: TenantName) async throws -> [InitialAccessToken]
    /// Spends one use of the token with this hash if it has one left and has not expired at
    /// `now`, atomically (a burst cannot spend more uses than it has); nil otherwise.
    func spendInitialAccessToken(tenant: TenantName, hash: String, now: Date) async throws -> InitialAccessToken?
    func removeInitialAccessToken(tenant: TenantName, id: String) async throws -> Bool
}
