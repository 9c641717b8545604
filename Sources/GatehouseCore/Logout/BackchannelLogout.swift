import Foundation
import JWTKit

/// A client that took part in a browser session: a code was issued to it for the session, so
/// it holds an ID token with the session's `sid`. Noted only for clients with a
/// `backchannel_logout_uri`, with the URI as it was then (OpenID Connect Back-Channel Logout 1.0).
public struct SessionParticipant: Sendable, Hashable {
    public let tenant: String
    public let sid: String
    public let clientID: String
    public let userID: String
    /// The issuer the client's ID token named (the dialect it signed in through): the logout
    /// token's `iss`.
    public let issuer: String
    public var logoutURI: String
    /// Who registered the client: an administrator's URIs may reach local addresses.
    public let source: ClientSource
    /// Kept until the session would have expired.
    public let expiresAt: Date

    public init(
        tenant: String, sid: String, clientID: String, userID: String, issuer: String, logoutURI: String, source: ClientSource,
        expiresAt: Date
    ) {
        self.tenant = tenant
        self.sid = sid
        self.clientID = clientID
        self.userID = userID
        self.issuer = issuer
        self.logoutURI = logoutURI
        self.source = source
        self.expiresAt = expiresAt
    }
}

/// Which clients took part in which sessions.
public protocol SessionParticipantStore: Sendable {
    /// Notes a participant; a second note of the same session and client changes nothing.
    func noteParticipant(_ participant: SessionParticipant) async throws
    /// Removes and returns the participants of the user's session `sid`, or of all of the user's
    /// sessions (nil): each is told once.
    func takeParticipants(tenant: String, userID: String, sid: String?) async throws -> [SessionParticipant]
    /// Deletes at most `limit` participants of sessions that expired before `now`.
    func purgeParticipants(now: Date, limit: Int) async throws -> Int
}

/// One logout token to deliver, as the outbox keeps it. Not sealed: it holds no secret (the
/// session ID is public, the token is signed when it is sent, so that its `iat` is fresh).
public struct BackchannelLogoutDelivery: Sendable, Codable, Hashable {
    public let tenant: String
    public let clientID: String
    public let userID: String
    public let sid: String
    public let issuer: String
    public let uri: String
    /// Whether the URI may reach local addresses (an administrator registered the client).
    public let trusted: Bool
    /// Why the session ended (`rp-logout`, `account`, `administrator`, `credentials`), for the log.
    public let reason: String

    public init(participant: SessionParticipant, reason: String) {
        tenant = participant.tenant
        clientID = participant.clientID
        userID = participant.userID
        sid = participant.sid
        issuer = participant.issuer
        uri = participant.logoutURI
        trusted = participant.source == .administrator
        self.reason = reason
    }

    public func queued(id: String, now: Date) throws -> OutboxMessage {
        OutboxMessage(
            id: id, kind: OutboxKind.backchannelLogout, tenant: tenant,
            payload: String(decoding: try JSONEncoder().encode(self), as: UTF8.self), nextAttemptAt: now, createdAt: now)
    }

    public static func opened(_ message: OutboxMessage) throws -> BackchannelLogoutDelivery {
        try JSONDecoder().decode(BackchannelLogoutDelivery.self, from: Data(message.payload.utf8))
    }
}

/// Why a session ended, as logout deliveries record it.
public enum LogoutReason: String, Sendable {
    /// The relying party sent the user to the end-session endpoint.
    case relyingParty = "rp-logout"
    /// The user ended it on the account page.
    case account
    /// An administrator ended it (or disabled the user).
    case administrator
    /// A password, second factor or passkey changed: every session of the user ends.
    case credentials
    /// A new sign-in in the same browser (another account, `prompt=login`) replaced it.
    case replaced = "signed-in-again"
}

/// Queues back-channel logouts when sessions end.
public enum BackchannelLogout {
    /// The `events` member of a logout token (§2.4).
    public static let event = "http://schemas.openid.net/event/backchannel-logout"
    /// The JWS `typ` of a logout token (§2.4, explicit typing).
    public static let tokenType = "logout+jwt"
    /// A logout token's lifetime (`exp` − `iat`): two minutes, enough for a receiver's clock skew.
    public static let tokenLifetime: TimeInterval = 120

    /// Notes that `client` took part in `session`, when it has a logout URI.
    public static func note(
        client: Client, session: BrowserSession, issuer: String, in store: any SessionParticipantStore
    ) async throws {
        guard let uri = client.backchannelLogoutURI else { return }
        try await store.noteParticipant(
            SessionParticipant(
                tenant: session.tenant, sid: session.sid, clientID: client.id.value, userID: session.userID, issuer: issuer,
                logoutURI: uri, source: client.source, expiresAt: session.expiresAt))
    }

    /// Takes the participants of the user's session `sid` (nil: all of the user's sessions) and
    /// queues a logout token for each whose client still exists, is enabled and has a logout URI
    /// (the URI it has now: an administrator who changed or removed it is followed), in one
    /// change. Returns how many were queued.
    @discardableResult
    public static func queue(
        tenant: String, userID: String, sid: String?, reason: LogoutReason,
        in store: any SessionParticipantStore & OutboxStore & TransactionStore & ClientStore, now: Date, random: RandomSource
    ) async throws -> Int {
        try await store.atomically {
            var queued = 0
            for participant in try await store.takeParticipants(tenant: tenant, userID: userID, sid: sid) {
                guard let name = try? TenantName(participant.tenant), let id = try? ClientID(participant.clientID),
                    let client = try await store.client(tenant: name, id: id), client.enabled, let uri = client.backchannelLogoutURI
                else { continue }
                var current = participant
                current.logoutURI = uri
                try await store.enqueue(
                    BackchannelLogoutDelivery(participant: current, reason: reason.rawValue).queued(
                        id: random.uuid().uuidString.lowercased(), now: now))
                queued += 1
            }
            return queued
        }
    }
}

/// The claims of a logout token (OpenID Connect Back-Channel Logout 1.0 §2.4): never a `nonce`.
public struct LogoutTokenClaims: JWTPayload, Sendable, Equatable {
    public let iss: String
    public let sub: String
    public let aud: String
    public let iat: Int
    public let exp: Int
    public let jti: String
    public let events: [String: [String: String]]
    public let sid: String

    public init(delivery: BackchannelLogoutDelivery, now: Date, jti: String) {
        iss = delivery.issuer
        sub = delivery.userID
        aud = delivery.clientID
        iat = Int(now.timeIntervalSince1970)
        exp = iat + Int(BackchannelLogout.tokenLifetime)
        self.jti = jti
        events = [BackchannelLogout.event: [:]]
        sid = delivery.sid
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// A logout delivery's result that retrying cannot change (the relying party answered 4xx).
public struct DeliveryRefused: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
