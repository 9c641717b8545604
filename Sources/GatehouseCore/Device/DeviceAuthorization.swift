import Foundation

/// A device authorization (RFC 8628 §3.1-3.2): what the device asked for and, once the user
/// acted on the verification page, who approved it. Stored under the hash of its device code.
public struct DeviceAuthorization: Sendable, Codable, Hashable {
    public enum Status: String, Sendable, Codable { case pending, approved, denied }

    public let tenant: String
    public let clientID: String
    public let scope: [String]
    public let audience: [String]
    public let expiresAt: Date
    public var status: Status
    public var userID: String?
    public var authTime: Date?
    public var amr: [String]?
    public var sessionID: String?

    public init(tenant: String, clientID: String, scope: [String], audience: [String], expiresAt: Date, status: Status = .pending) {
        self.tenant = tenant
        self.clientID = clientID
        self.scope = scope
        self.audience = audience
        self.expiresAt = expiresAt
        self.status = status
    }

    public static let kind = "device"
    public static let userCodeKind = "device_user_code"
    public static let pollKind = "device_poll"
}

/// User codes (RFC 8628 §6.1): 8 letters from 20 consonants (no vowels, so no words; ~34.5
/// bits), shown as `BCDF-GHJK`; case, spaces and dashes do not matter when typed.
public enum UserCode {
    static let alphabet = Array("BCDFGHJKLMNPQRSTVWXZ")

    public static func make(_ random: RandomSource) -> String {
        let bytes = random.bytes(16)
        var letters: [Character] = []
        for byte in bytes where letters.count < 8 {
            // 240 = 12 × 20: rejection sampling keeps the letters uniform.
            if byte < 240 { letters.append(alphabet[Int(byte) % 20]) }
        }
        while letters.count < 8 { letters.append(alphabet[Int(random.bytes(1)[0]) % 20]) }
        return String(letters[0..<4]) + "-" + String(letters[4..<8])
    }

    /// The canonical form of what a user typed, or nil if it cannot be a user code.
    public static func normalize(_ typed: String) -> String? {
        let letters = typed.uppercased().filter { !$0.isWhitespace && $0 != "-" }
        guard letters.count == 8, letters.allSatisfy({ alphabet.contains($0) }) else { return nil }
        return letters
    }
}

/// What a poll of the token endpoint gets (RFC 8628 §3.5), decided without I/O.
public enum DevicePollOutcome: Sendable, Equatable {
    case unknown
    case otherClient
    case expired
    case denied
    /// Not yet approved; `slowDown` when the device polled faster than `interval` (which then grows by 5 s).
    case pending(slowDown: Bool, interval: Int)
    case approved

    /// `lastPoll` and `interval` are the device's previous poll and current interval. A poll is
    /// too fast when it comes more than a second earlier than the interval allows (clients sleep
    /// the interval between the end of one request and the start of the next).
    public static func decide(_ authorization: DeviceAuthorization?, clientID: String, lastPoll: Date?, interval: Int, now: Date)
        -> DevicePollOutcome
    {
        guard let authorization else { return .unknown }
        guard authorization.clientID == clientID else { return .otherClient }
        guard now < authorization.expiresAt else { return .expired }
        switch authorization.status {
        case .denied: return .denied
        case .approved: return .approved
        case .pending:
            if let lastPoll, now.timeIntervalSince(lastPoll) + 1 < Double(interval) {
                return .pending(slowDown: true, interval: interval + 5)
            }
            return .pending(slowDown: false, interval: interval)
        }
    }
}

/// Typed access to device authorizations in the state store. Device codes and user codes are
/// kept only as keyed hashes; approval is taken by one delete-returning statement (single use).
public struct DeviceAuthorizationStore: Sendable {
    public let store: any StateStore
    public let hasher: SecretHasher
    private let encoder = JSONEncoder()
    private let decoder = JSONDecoder()
    /// Kept this long after expiry, so a late poll gets `expired_token` rather than `invalid_grant`.
    public static let retention: TimeInterval = 3600

    public init(store: any StateStore, hasher: SecretHasher) {
        self.store = store
        self.hasher = hasher
    }

    public func key(deviceCode: String) -> String { hasher.hash(deviceCode) }

    public func create(_ authorization: DeviceAuthorization, deviceCode: String, userCode: String, interval: Int) async throws {
        let key = key(deviceCode: deviceCode)
        let keepUntil = authorization.expiresAt.addingTimeInterval(Self.retention)
        try await store.putState(kind: DeviceAuthorization.kind, key: key, value: try encode(authorization), expiresAt: keepUntil)
        try await store.putState(
            kind: DeviceAuthorization.userCodeKind, key: hasher.hash(UserCode.normalize(userCode) ?? userCode),
            value: key, expiresAt: authorization.expiresAt)
        try await store.putState(kind: DeviceAuthorization.pollKind, key: key, value: "0 \(interval)", expiresAt: keepUntil)
    }

    public func authorization(key: String, now: Date) async throws -> DeviceAuthorization? {
        guard let value = try await store.state(kind: DeviceAuthorization.kind, key: key, now: now) else { return nil }
        return try? decoder.decode(DeviceAuthorization.self, from: Data(value.utf8))
    }

    /// The pending authorization a typed user code names in `tenant`. The code is used up by the
    /// first browser that enters it on that tenant's page: nobody else can attach a sign-in to the
    /// same device afterwards. A code typed on another tenant's page is left untouched (its
    /// tenant is read before anything is consumed), so the real flow still works.
    public func takePending(userCode typed: String, tenant: String, now: Date) async throws -> (
        key: String, authorization: DeviceAuthorization
    )? {
        guard let normalized = UserCode.normalize(typed) else { return nil }
        let codeKey = hasher.hash(normalized)
        guard let peeked = try await store.state(kind: DeviceAuthorization.userCodeKind, key: codeKey, now: now),
            let candidate = try await authorization(key: peeked, now: now), candidate.tenant == tenant,
            let key = try await store.takeState(kind: DeviceAuthorization.userCodeKind, key: codeKey, now: now), key == peeked,
            let authorization = try await authorization(key: key, now: now), authorization.status == .pending, now < authorization.expiresAt
        else { return nil }
        return (key, authorization)
    }

    /// The previous poll time and the current interval.
    public func pollState(key: String, now: Date) async throws -> (last: Date?, interval: Int) {
        let parts = (try await store.state(kind: DeviceAuthorization.pollKind, key: key, now: now) ?? "").split(separator: " ")
        let last = parts.first.flatMap { Double($0) }.flatMap { $0 > 0 ? Date(timeIntervalSince1970: $0) : nil }
        let interval = parts.count > 1 ? Int(parts[1]) ?? 5 : 5
        return (last, interval)
    }

    public func recordPoll(key: String, at now: Date, interval: Int, keepUntil: Date) async throws {
        try await store.putState(
            kind: DeviceAuthorization.pollKind, key: key, value: "\(now.timeIntervalSince1970) \(interval)", expiresAt: keepUntil)
    }

    /// The user's decision on the verification page.
    public func decide(key: String, approvedBy session: BrowserSession?, now: Date) async throws {
        guard var authorization = try await authorization(key: key, now: now), authorization.status == .pending else { return }
        if let session {
            authorization.status = .approved
            authorization.userID = session.userID
            authorization.authTime = session.authTime
            authorization.amr = session.amr
            authorization.sessionID = session.sid
        } else {
            authorization.status = .denied
        }
        try await store.putState(
            kind: DeviceAuthorization.kind, key: key, value: try encode(authorization),
            expiresAt: authorization.expiresAt.addingTimeInterval(Self.retention))
    }

    /// Takes an approved authorization: only one poll gets it.
    public func takeApproved(key: String, now: Date) async throws -> DeviceAuthorization? {
        guard let value = try await store.takeState(kind: DeviceAuthorization.kind, key: key, now: now),
            let authorization = try? decoder.decode(DeviceAuthorization.self, from: Data(value.utf8)), authorization.status == .approved
        else { return nil }
        return authorization
    }

    private func encode(_ authorization: DeviceAuthorization) throws -> String {
        String(decoding: try encoder.encode(authorization), as: UTF8.self)
    }
}
