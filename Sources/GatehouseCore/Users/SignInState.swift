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
        /// The tenant requires a passkey and the user, signed in, has none: registering one is
        /// the last step before the session starts.
        case passkeyRegistration
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
    /// At `passkeyRegistration`: how the user signed in (the session's `amr` once registered).
    public var pendingAMR: [String]?
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

/// A browser sign-in session, stored under the hash of its cookie value (`SessionStore`),
/// indexed by its user so that an administrator can list and end a user's sessions.
public struct BrowserSession: Sendable, Codable, Hashable {
    public let tenant: String
    public let userID: String
    /// Public session identifier (`sid`, OpenID Connect Front-Channel Logout §2).
    public let sid: String
    public let authTime: Date
    public let amr: [String]
    public let expiresAt: Date
    /// Where the session began: the source address and the browser's `User-Agent` (bounded).
    public var clientIP: String?
    public var userAgent: String?
    /// When the session last answered a request (moved at most once a minute); nil: never since it began.
    public var lastUsedAt: Date?

    public init(
        tenant: String, userID: String, sid: String, authTime: Date, amr: [String], expiresAt: Date, clientIP: String? = nil,
        userAgent: String? = nil, lastUsedAt: Date? = nil
    ) {
        self.tenant = tenant
        self.userID = userID
        self.sid = sid
        self.authTime = authTime
        self.amr = amr
        self.expiresAt = expiresAt
        self.clientIP = RecordedValue.cut(clientIP, to: RecordedValue.address)
        self.userAgent = RecordedValue.cut(userAgent, to: RecordedValue.userAgent)
        self.lastUsedAt = lastUsedAt
    }

    public static let kind = "session"
    /// `acr`: "1" for one factor, "2" with a second factor.
    public var acr: String { amr.contains("mfa") ? "2" : "1" }
}

/// Browser sessions by the hash of their cookie, and by user.
public protocol SessionStore: Sendable {
    /// Saves (or replaces) the session under `cookieHash`.
    func putSession(_ session: BrowserSession, cookieHash: String) async throws
    /// The live session under `cookieHash`.
    func session(cookieHash: String, now: Date) async throws -> BrowserSession?
    /// Notes that the session answered a request at `at`.
    func touchSession(cookieHash: String, at: Date) async throws
    /// Ends one session by its cookie; false if there was none.
    func deleteSession(cookieHash: String) async throws -> Bool
    /// A user's live sessions, newest first.
    func sessions(tenant: String, userID: String, now: Date) async throws -> [BrowserSession]
    /// Ends the user's session `sid`, or all of them; returns how many ended.
    func endSessions(tenant: String, userID: String, sid: String?) async throws -> Int
    func purgeSessions(now: Date, limit: Int) async throws -> Int
}

/// What a user agreed that a client may do (the consent page), until it expires.
public struct Consent: Sendable, Hashable {
    public let tenant: String
    public let userID: String
    public let clientID: String
    public let scope: Scope
    public let grantedAt: Date
    public let expiresAt: Date

    public init(tenant: String, userID: String, clientID: String, scope: Scope, grantedAt: Date, expiresAt: Date) {
        self.tenant = tenant
        self.userID = userID
        self.clientID = clientID
        self.scope = scope
        self.grantedAt = grantedAt
        self.expiresAt = expiresAt
    }
}

/// Consents by user and client.
public protocol ConsentStore: Sendable {
    /// Saves (or replaces) the user's consent to the client.
    func putConsent(_ consent: Consent) async throws
    func consent(tenant: String, userID: String, clientID: String, now: Date) async throws -> Consent?
    /// The user's live consents, by client ID.
    func consents(tenant: String, userID: String, now: Date) async throws -> [Consent]
    func deleteConsent(tenant: String, userID: String, clientID: String) async throws -> Bool
    func purgeConsents(now: Date, limit: Int) async throws -> Int
}

/// Typed access to the state store for interactions, sessions, consent and revoked access tokens.
public struct SignInStateStore: Sendable {
    public let store: any StateStore & SessionStore & ConsentStore
    public let hasher: SecretHasher
    private let encoder = JSONEncoder()
    private let decoder = JSONDecoder()

    public init(store: any StateStore & SessionStore & ConsentStore, hasher: SecretHasher) {
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
        try await store.putSession(session, cookieHash: hasher.hash(cookie))
    }

    public func session(cookie: String, now: Date) async throws -> BrowserSession? {
        try await store.session(cookieHash: hasher.hash(cookie), now: now)
    }

    /// Notes the session's use, at most once a minute (a write per page view would be the cost otherwise).
    public func touch(_ session: BrowserSession, cookie: String, now: Date) async throws {
        guard now.timeIntervalSince(session.lastUsedAt ?? session.authTime) >= 60 else { return }
        try await store.touchSession(cookieHash: hasher.hash(cookie), at: now)
    }

    public func endSession(cookie: String) async throws {
        _ = try await store.deleteSession(cookieHash: hasher.hash(cookie))
    }

    public func consent(tenant: String, userID: String, clientID: String, now: Date) async throws -> Scope {
        try await store.consent(tenant: tenant, userID: userID, clientID: clientID, now: now)?.scope ?? .empty
    }

    public func saveConsent(_ scope: Scope, tenant: String, userID: String, clientID: String, now: Date, expiresAt: Date) async throws {
        try await store.putConsent(
            Consent(tenant: tenant, userID: userID, clientID: clientID, scope: scope, grantedAt: now, expiresAt: expiresAt))
    }

    /// RFC 7009: a revoked access token's `jti`, remembered until the token expires.
    public func revokeAccessToken(jti: String, expiresAt: Date) async throws {
        try await store.putState(kind: "revoked_jti", key: jti, value: "", expiresAt: expiresAt)
    }

    public func isAccessTokenRevoked(jti: String, now: Date) async throws -> Bool {
        try await store.state(kind: "revoked_jti", key: jti, now: now) != nil
    }
}
