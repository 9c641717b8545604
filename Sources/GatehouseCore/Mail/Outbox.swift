import Foundation

/// A pending delivery: a mail today, a back-channel logout token later. Written in the same
/// transaction as the change that causes it (`TransactionStore.atomically`), sent by one node at a
/// time (`OutboxSender`, the `outbox` lease), retried with backoff until it is delivered or
/// `OutboxPolicy.giveUpAfter` has passed. The payload is sealed (`SecretBox`): a mail may carry a
/// one-time link, which is stored nowhere else in the clear; a delivered row is deleted.
public struct OutboxMessage: Sendable, Hashable {
    public let id: String
    /// What the payload is (`OutboxKind`); the sender picks the transport by it.
    public let kind: String
    /// The tenant the delivery belongs to (the console shows a tenant its own rows).
    public let tenant: String
    /// Sealed with the server's `SecretBox`; empty once the row was given up.
    public var payload: String
    public var attempts: Int
    /// When the sender tries next; nil once it gave up (kept for the console until purged).
    public var nextAttemptAt: Date?
    /// Why the last attempt failed (for operators: never a secret, never the payload).
    public var lastError: String?
    public let createdAt: Date

    public init(
        id: String, kind: String, tenant: String, payload: String, attempts: Int = 0, nextAttemptAt: Date?, lastError: String? = nil,
        createdAt: Date
    ) {
        self.id = id
        self.kind = kind
        self.tenant = tenant
        self.payload = payload
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.createdAt = createdAt
    }

    /// The same row as a decoy (`OutboxKind.none`): deleted unsent.
    public var unsent: OutboxMessage {
        OutboxMessage(id: id, kind: OutboxKind.none, tenant: tenant, payload: payload, nextAttemptAt: nextAttemptAt, createdAt: createdAt)
    }
}

/// The kinds of outbox rows.
public enum OutboxKind {
    /// A mail (`MailMessage`, sealed).
    public static let mail = "mail"
    /// A back-channel logout token to post (`BackchannelLogoutDelivery`, not sealed: no secret).
    public static let backchannelLogout = "backchannel_logout"
    /// Written where nothing is to be sent (a password reset for an unknown account), so that both
    /// paths do the same work; the sender deletes it unsent.
    public static let none = "none"
}

/// How often and how long a delivery is tried.
public struct OutboxPolicy: Sendable {
    /// The wait after the first failure; doubled after each further one, up to `maximumDelay`.
    public var firstDelay: TimeInterval = 5
    public var maximumDelay: TimeInterval = 15 * 60
    /// A delivery still failing this long after it was queued is given up (its payload erased).
    public var giveUpAfter: TimeInterval = 3 * 86_400
    /// Rows (given up or never sendable) older than this are deleted by the janitor.
    public var retention: TimeInterval = 7 * 86_400

    public init() {}

    /// Back-channel logout tokens: 5 s, doubling, at most 15 minutes apart, given up after a day
    /// (a relying party down longer has likely lost its sessions anyway; the row says so).
    public static var logout: OutboxPolicy {
        var policy = OutboxPolicy()
        policy.giveUpAfter = 86_400
        return policy
    }

    /// When to try again after the `attempts`-th failure, or nil to give up.
    public func nextAttempt(after attempts: Int, createdAt: Date, now: Date) -> Date? {
        guard now.timeIntervalSince(createdAt) < giveUpAfter else { return nil }
        let exponent = Double(min(max(attempts - 1, 0), 30))
        return now.addingTimeInterval(min(firstDelay * pow(2, exponent), maximumDelay))
    }
}

/// The outbox table.
public protocol OutboxStore: Sendable {
    func enqueue(_ message: OutboxMessage) async throws
    /// Rows due at `now` (next attempt at or before it), oldest due first, at most `limit`, of
    /// `kind` only when given; decoys (`OutboxKind.none`) are left out (`discardDue` deletes them).
    func dueMessages(now: Date, limit: Int, kind: String?) async throws -> [OutboxMessage]
    /// Deletes every due row of `kind` in one statement (the decoys); returns how many.
    @discardableResult
    func discardDue(kind: String, now: Date) async throws -> Int
    /// Deletes a delivered (or unsendable) row; false if it was gone.
    @discardableResult
    func completeMessage(id: String) async throws -> Bool
    /// Records a failed attempt: the count, the next attempt (nil: given up, and the payload is
    /// erased) and why.
    func deferMessage(id: String, attempts: Int, nextAttemptAt: Date?, lastError: String) async throws
    /// A tenant's rows (nil: every tenant's), newest first, at most `limit`.
    func outboxMessages(tenant: String?, limit: Int) async throws -> [OutboxMessage]
    /// How many rows wait to be sent, and how many were given up.
    func outboxDepth() async throws -> (pending: Int, abandoned: Int)
    /// Deletes at most `limit` rows queued before `cutoff`; returns how many.
    @discardableResult
    func purgeOutbox(createdBefore cutoff: Date, limit: Int) async throws -> Int
}

extension OutboxStore {
    /// Due rows of every kind.
    public func dueMessages(now: Date, limit: Int) async throws -> [OutboxMessage] {
        try await dueMessages(now: now, limit: limit, kind: nil)
    }
}

/// Several writes as one change: all take effect, or none. The SQL stores run `body` in one
/// database transaction (nested calls join it); the memory store restores its state if `body`
/// throws.
public protocol TransactionStore: Sendable {
    func atomically<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T
}

/// A mail as the outbox keeps it (sealed) and a transport sends it.
public struct MailMessage: Sendable, Codable, Hashable {
    public let to: String
    public let subject: String
    public let text: String
    public let html: String

    public init(to: String, subject: String, text: String, html: String) {
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
    }

    /// The row that queues this mail, sealed with `box`.
    public func queued(id: String, tenant: String, box: SecretBox, now: Date) throws -> OutboxMessage {
        let encoded = String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
        return OutboxMessage(
            id: id, kind: OutboxKind.mail, tenant: tenant, payload: try box.seal(encoded), nextAttemptAt: now, createdAt: now)
    }

    /// The mail a row queued.
    public static func opened(_ message: OutboxMessage, box: SecretBox) throws -> MailMessage {
        try JSONDecoder().decode(MailMessage.self, from: Data(try box.open(message.payload).utf8))
    }
}

/// Delivers mails (SMTP in the server; a recorder in tests).
public protocol MailTransport: Sendable {
    /// Sends one mail; throws `MailDeliveryError` (or any error: treated as temporary). `id` is
    /// the outbox row's: a mail sent twice (a node stopped between sending and recording it)
    /// carries the same `Message-ID` both times.
    func send(_ mail: MailMessage, id: String) async throws
}

/// Why a mail was not delivered. `permanent` failures (the server refused the recipient or the
/// message for good, 5xx) are not retried.
public struct MailDeliveryError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public let permanent: Bool
    public init(_ description: String, permanent: Bool = false) {
        self.description = description
        self.permanent = permanent
    }
}
