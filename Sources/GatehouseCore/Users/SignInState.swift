import Foundation

/// A sign-in in progress: what it is for and what has been proven so far. Stored
/// under the hash of its random id; its form carries a CSRF token and the browser a binding
/// cookie, both compared by hash.
public struct Interaction: Sendable, Codable {
    /// The page that made this interaction; each form post is accepted only at its own step, so
    /// that the id and CSRF token of one page (the sign-in page that `prompt=login` shows) cannot
    /// be posted to another step (consent) to skip it.
    public enum Stage: String, Sendable, Codable {
        case password, secondFactor, consent
    }

    public var purpose: InteractionPurpose
    public var csrfHash: String
    public var bindingHash: String
    public var stage: Stage
    /// When the authorization request that this interaction serves arrived: a sign-in at or
    /// after this instant was made for this request (`prompt=login`, `max_age`).
    public var startedAt: Date
    /// Set after a correct password when a second factor is still needed.
    public var pendingUserID: String?
    public var expiresAt: Date

    public init(
        purpose: InteractionPurpose, csrfHash: String, bindingHash: String, stage: Stage, startedAt: Date,
        pendingUserID: String? = nil, expiresAt: Date
    ) {
        self.purpose = purpose
        self.csrfHash = csrfHash
        self.bindingHash = bindingHash
        self.stage = stage
        self.startedAt = startedAt
        self.pendingUserID = pendingUserID
        self.expiresAt = expiresAt
    }

    public static let kind = "interaction"
}

/// A browser sign-in session, stored under the hash of its cookie value.
public struct BrowserSession: Sendable, Codable, Hashable {
    public let tenant: String
    public let userID: String
    /// Public session identifier (`sid`, OpenID Connect Front-Channel Logout §2).
    public let sid: String
    public let authTime: Date
    public let amr: [String]
    public let expiresAt: Date

    public init(tenant: String, userID: String, sid: String, authTime: Date, amr: [String], expiresAt: Date) {
        self.tenant = tenant
        self.userID = userID
        self.sid = sid
        self.authTime = authTime
        self.amr = amr
        self.expiresAt = expiresAt
    }

    public static let kind = "session"
    /// `acr`: "1" for one factor, "2" with a second factor.
    public var acr: String { amr.contains("mfa") ? "2" : "1" }
}

/// Typed access to the state store for interactions, sessions, consent and revoked access tokens.
public struct SignInStateStore: Sendable {
    public let store: any StateStore
    public let hasher: SecretHasher
    private let encoder = JSONEncoder()
    private let decoder = JSONDecoder()

    public init(store: any StateStore, hasher: SecretHasher) {
        self.store = store
        self.hasher = hasher
    }

    public func save(_ interaction: Interaction, id: String) async throws {
        try await store.putState(
            kind: Interaction.kind, key: hasher.hash(id), value: String(decoding: try encoder.encode(interaction), as: UTF8.self),
            expiresAt: interaction.expiresAt)
    }

    public func interaction(id: String, now: Date) async throws -> Interaction? {
        guard let value = try await store.state(kind: Interaction.kind, key: hasher.hash(id), now: now) else { return nil }
        return try? decoder.decode(Interaction.self, from: Data(value.utf8))
    }

    /// Ends an interaction; true only for the one caller that removed it (single use).
    public func finish(interactionID id: String, now: Date) async throws -> Bool {
        try await store.takeState(kind: Interaction.kind, key: hasher.hash(id), now: now) != nil
    }

    public func save(_ session: BrowserSession, cookie: String) async throws {
        try await store.putState(
            kind: BrowserSession.kind, key: hasher.hash(cookie), value: String(decoding: try encoder.encode(session), as: UTF8.self),
            expiresAt: session.expiresAt)
    }

    public func session(cookie: String, now: Date) async throws -> BrowserSession? {
        guard let value = try await store.state(kind: BrowserSession.kind, key: hasher.hash(cookie), now: now) else { return nil }
        return try? decoder.decode(BrowserSession.self, from: Data(value.utf8))
    }

    public func endSession(cookie: String) async throws {
        try await store.deleteState(kind: BrowserSession.kind, key: hasher.hash(cookie))
    }

    static func consentKey(tenant: String, userID: String, clientID: String) -> String { "\(tenant) \(userID) \(clientID)" }

    public func consent(tenant: String, userID: String, clientID: String, now: Date) async throws -> Scope {
        let value = try await store.state(
            kind: "consent", key: Self.consentKey(tenant: tenant, userID: userID, clientID: clientID), now: now)
        return Scope(tokens: (value ?? "").split(separator: " ").map(String.init))
    }

    public func saveConsent(_ scope: Scope, tenant: String, userID: String, clientID: String, expiresAt: Date) async throws {
        try await store.putState(
            kind: "consent", key: Self.consentKey(tenant: tenant, userID: userID, clientID: clientID), value: scope.description,
            expiresAt: expiresAt)
    }

    /// RFC 7009: a revoked access token's `jti`, remembered until the token expires.
    public func revokeAccessToken(jti: String, expiresAt: Date) async throws {
        try await store.putState(kind: "revoked_jti", key: jti, value: "", expiresAt: expiresAt)
    }

    public func isAccessTokenRevoked(jti: String, now: Date) async throws -> Bool {
        try await store.state(kind: "revoked_jti", key: jti, now: now) != nil
    }
}
