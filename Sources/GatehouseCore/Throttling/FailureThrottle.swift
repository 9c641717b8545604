import Foundation
import Synchronization

/// Counts failures per key (a source address with a client, a username, or alone) in a fixed
/// window, and refuses a key that reached its limit until the window ends. Every attempt is counted
/// *before* it runs (`admit`), and given back when it did not fail (`settle`), so a parallel burst
/// gets no more attempts than the limit, and successes never count. Kept in memory: each node
/// counts its own (docs/security.md).
public final class FailureThrottle: Sendable {
    public struct Limit: Sendable, Equatable {
        public var failures: Int
        public var window: TimeInterval

        public init(failures: Int, window: TimeInterval) {
            self.failures = failures
            self.window = window
        }
    }

    /// An admitted attempt, to be settled once its outcome is known.
    public struct Ticket: Sendable {
        let key: String
        let windowStart: Date
    }

    private struct Entry {
        var count: Int
        var windowStart: Date
    }

    public let limit: Limit
    /// Keys kept at most; past it, expired keys go, then the oldest half.
    let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    public init(limit: Limit, capacity: Int = 100_000) {
        self.limit = limit
        self.capacity = max(capacity, 16)
    }

    /// Counts an attempt under `key`, or answers how many seconds remain until the key may try
    /// again (nil when admitted).
    public func admit(_ key: String, now: Date) -> (ticket: Ticket?, retryAfter: Int?) {
        entries.withLock { entries in
            var entry = current(entries[key], now: now)
            if let wait = retryAfter(entry, now: now) { return (nil, wait) }
            entry.count += 1
            keep(entry, as: key, in: &entries, now: now)
            return (Ticket(key: key, windowStart: entry.windowStart), nil)
        }
    }

    /// Settles an admitted attempt: a failure stays counted, anything else is given back. (A key
    /// at zero stays until its window ends: a busy client's key is not made again per request.)
    public func settle(_ ticket: Ticket, failed: Bool) {
        guard !failed else { return }
        entries.withLock { entries in
            guard let entry = entries[ticket.key], entry.windowStart == ticket.windowStart, entry.count > 0 else { return }
            entries[ticket.key] = Entry(count: entry.count - 1, windowStart: entry.windowStart)
        }
    }

    /// Counts a failure that was not admitted beforehand (one found after the fact).
    public func recordFailure(_ key: String, now: Date) {
        entries.withLock { entries in
            var entry = current(entries[key], now: now)
            entry.count += 1
            keep(entry, as: key, in: &entries, now: now)
        }
    }

    /// Seconds until `key` may try again, or nil when it is under its limit (nothing is counted).
    public func retryAfter(_ key: String, now: Date) -> Int? {
        entries.withLock { entries in entries[key].flatMap { retryAfter(current($0, now: now), now: now) } }
    }

    /// Failures counted for `key` in its current window.
    public func failures(_ key: String, now: Date) -> Int {
        entries.withLock { entries in current(entries[key], now: now).count }
    }

    /// The key's entry for the window `now` is in: a new one when it has none or its window ended.
    private func current(_ entry: Entry?, now: Date) -> Entry {
        guard let entry, now.timeIntervalSince(entry.windowStart) < limit.window else { return Entry(count: 0, windowStart: now) }
        return entry
    }

    /// Whole seconds (at least 1) until the entry's window ends, when it is at its limit.
    private func retryAfter(_ entry: Entry, now: Date) -> Int? {
        guard entry.count >= limit.failures else { return nil }
        return max(1, Int(entry.windowStart.addingTimeInterval(limit.window).timeIntervalSince(now).rounded(.up)))
    }

    /// Stores the entry, making room first when a new key would pass the capacity.
    private func keep(_ entry: Entry, as key: String, in entries: inout [String: Entry], now: Date) {
        if entries[key] == nil && entries.count >= capacity { Self.trim(&entries, now: now, window: limit.window) }
        entries[key] = entry
    }

    private static func trim(_ entries: inout [String: Entry], now: Date, window: TimeInterval) {
        entries = entries.filter { now.timeIntervalSince($0.value.windowStart) < window }
        guard entries.count >= 16 else { return }
        let oldest = entries.sorted { $0.value.windowStart < $1.value.windowStart }.prefix(entries.count / 2).map(\.key)
        for key in oldest { entries[key] = nil }
    }
}

/// A throttle with the catalogue entry it answers with when a key is over its limit (429 with
/// `retryAfter`); a gate without a throttle lets everything through.
public struct ThrottleGate: Sendable {
    public let throttle: FailureThrottle?
    public let entry: CatalogueEntry

    public init(throttle: FailureThrottle?, entry: CatalogueEntry) {
        self.throttle = throttle
        self.entry = entry
    }

    /// Counts an attempt under `key` before its check runs, or throws the 429.
    public func admit(_ key: String, now: Date) throws(CatalogueError) -> Admission? {
        guard let throttle else { return nil }
        let (ticket, retryAfter) = throttle.admit(key, now: now)
        if let ticket { return Admission(throttle: throttle, ticket: ticket) }
        throw refusal(retryAfter)
    }

    /// Throws the 429 when `key` is over its limit, counting nothing.
    public func check(_ key: String, now: Date) throws(CatalogueError) {
        if let throttle, let retryAfter = throttle.retryAfter(key, now: now) { throw refusal(retryAfter) }
    }

    /// Counts a failure found after the fact.
    public func recordFailure(_ key: String, now: Date) {
        throttle?.recordFailure(key, now: now)
    }

    private func refusal(_ retryAfter: Int?) -> CatalogueError {
        CatalogueError(
            entry, [CatalogueError.retryAfterParameter: String(retryAfter ?? 1)],
            detail: "throttled: \(throttle?.limit.failures ?? 0) failures in the window")
    }
}

extension CatalogueError {
    static let retryAfterParameter = "retryAfter"

    /// The `Retry-After` seconds of a throttle's 429 (`ThrottleGate`), for every way it is rendered.
    public var throttledRetryAfter: String? {
        entry.status == 429 ? parameters[Self.retryAfterParameter] : nil
    }
}

/// Which failures the throttles count, by catalogue entry (not by the RFC `error` value): only
/// guesses at a credential someone could hold, never the ordinary mistakes of a busy app. A code,
/// refresh token or device code is a 256-bit value nobody guesses, so failed redemptions count
/// toward no throttle (docs/security.md "Throttling").
public enum Guess {
    /// A client credential: a wrong client secret, a client assertion whose signature does not
    /// verify (counted under source address, tenant and client).
    public static let clientCredential: Set<CatalogueEntry> = [Catalogue.invalidClientSecret, Catalogue.assertionSignatureInvalid]
    /// A password (the sign-in page and the password grant, under source address, tenant and
    /// username): wrong, for an unknown username (both shown as 50126), or refused by the lock
    /// that wrong passwords set (50053).
    public static let password: Set<CatalogueEntry> = [
        Catalogue.invalidUserNameOrPassword, Catalogue.userAccountNotFound, Catalogue.userLocked,
    ]
    /// A second-factor code (under source address, tenant and user).
    public static let secondFactor: Set<CatalogueEntry> = [
        Catalogue.invalidVerificationCode, Catalogue.tooManyVerificationCodes, Catalogue.userLocked,
    ]
    /// A passkey assertion that failed verification (under source address and tenant only).
    public static let passkey: Set<CatalogueEntry> = [
        Catalogue.passkeyWrongOrigin, Catalogue.passkeyChallengeInvalid, Catalogue.passkeyNotRecognized,
        Catalogue.passkeyCounterRegressed, Catalogue.passkeyUserVerificationRequired, Catalogue.passkeyResponseInvalid,
    ]

    /// Whether `error` is one of `kind`'s guesses.
    public static func isGuess(_ error: any Error, of kind: Set<CatalogueEntry>) -> Bool {
        guard let error = error as? CatalogueError else { return false }
        return kind.contains(error.entry)
    }
}

/// The client throttle as client authentication sees it: its gate and the part of the key that
/// the request fixes (source address and resolved tenant); the client completes the key, so that
/// every client, also one that authenticates with an assertion alone, has a key of its own.
public struct ClientCredentialGate: Sendable {
    public let gate: ThrottleGate
    let source: String
    let tenant: TenantName

    public init(gate: ThrottleGate, source: String, tenant: TenantName) {
        self.gate = gate
        self.source = source
        self.tenant = tenant
    }

    /// `source|tenant|client`.
    public func key(_ client: ClientID) -> String { "\(source)|\(tenant.value)|\(client.value)" }
}

/// An attempt admitted by a gate; `settle` once its outcome is known: a failure stays counted.
public struct Admission: Sendable {
    let throttle: FailureThrottle
    let ticket: FailureThrottle.Ticket

    public func settle(failed: Bool) { throttle.settle(ticket, failed: failed) }
}

/// One credential check counted under several gates (a username's and the source address's),
/// each admitted before the check runs: over any gate's limit nothing is checked and what was
/// admitted is given back. `check` runs the check and settles every admission by its outcome:
/// only a guess of `kind` stays counted (a database that went away is nobody's guess).
public struct CheckAdmission: Sendable {
    let admissions: [Admission]

    public init(_ gates: [(gate: ThrottleGate?, key: String)], now: Date) throws(CatalogueError) {
        var admitted: [Admission] = []
        for (gate, key) in gates {
            do {
                if let admission = try gate?.admit(key, now: now) { admitted.append(admission) }
            } catch {
                for admission in admitted { admission.settle(failed: false) }
                throw error
            }
        }
        admissions = admitted
    }

    public func check<T>(guesses kind: Set<CatalogueEntry>, _ body: () async throws -> T) async throws -> T {
        do {
            let value = try await body()
            for admission in admissions { admission.settle(failed: false) }
            return value
        } catch {
            let guessed = Guess.isGuess(error, of: kind)
            for admission in admissions { admission.settle(failed: guessed) }
            throw error
        }
    }
}

/// The source address a request is counted under: the peer's, or, when the peer is a trusted
/// proxy, the last address in `X-Forwarded-For` that is not itself a trusted proxy. An
/// IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, how a dual-stack listener such as `--host ::`
/// reports an IPv4 peer) is the IPv4 address, in the peer, the hops and the trusted list alike.
public struct SourceAddress: Sendable {
    public let trustedProxies: Set<String>

    public init(trustedProxies: Set<String> = []) {
        self.trustedProxies = Set(trustedProxies.map(Self.normalised))
    }

    public func resolve(peer: String?, forwardedFor: String?) -> String {
        resolveNoting(peer: peer, forwardedFor: forwardedFor).address
    }

    /// The address, and whether an `X-Forwarded-For` came from a peer that is not trusted (and was ignored).
    public func resolveNoting(peer: String?, forwardedFor: String?) -> (address: String, ignoredForwardedFor: Bool) {
        let peer = peer.map(Self.normalised) ?? "unknown"
        guard let forwardedFor else { return (peer, false) }
        guard trustedProxies.contains(peer) else { return (peer, true) }
        let hops = forwardedFor.split(separator: ",").map { Self.normalised($0.trimmingCharacters(in: .whitespaces)) }.filter {
            !$0.isEmpty
        }
        for hop in hops.reversed() where !trustedProxies.contains(hop) {
            return (String(hop.prefix(64)), false)
        }
        return (peer, false)
    }

    /// `::ffff:a.b.c.d` (any letter case) as `a.b.c.d`; anything else as it is.
    public static func normalised(_ address: String) -> String {
        // The common case (an IPv4 address, or IPv6 not starting with "::") costs one byte's look.
        guard address.utf8.first == UInt8(ascii: ":") else { return address }
        let prefix = "::ffff:"
        guard address.utf8.count > prefix.utf8.count, address.lowercased().hasPrefix(prefix) else { return address }
        let rest = address.dropFirst(prefix.count)
        guard rest.contains("."), !rest.contains(":") else { return address }
        return String(rest)
    }
}
