import Foundation

/// How a tenant's sign-in log keeps repeated machine successes.
public enum SignInLogMode: String, Sendable, Codable, CaseIterable {
    /// Repeated non-interactive successes (and expected device polls) are counted per minute;
    /// failures, interactive steps and the first of each minute are kept whole. The default.
    case aggregate
    /// Every request is kept whole.
    case full
}

/// Latency buckets of an aggregate, fixed so that rows of any node and any minute add up.
public enum LatencyBuckets {
    /// Upper bounds in microseconds; a last bucket holds everything slower.
    public static let upperBoundsMicros: [Int] = [
        1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000,
    ]
    public static var count: Int { upperBoundsMicros.count + 1 }

    public static func index(_ micros: Int) -> Int {
        upperBoundsMicros.firstIndex { micros <= $0 } ?? upperBoundsMicros.count
    }

    /// `≤1ms`, `≤2ms`, …, `>2s`.
    public static func label(_ index: Int) -> String {
        guard index < upperBoundsMicros.count else { return ">\(upperBoundsMicros[upperBoundsMicros.count - 1] / 1_000_000)s" }
        let bound = upperBoundsMicros[index]
        return bound >= 1_000_000 ? "≤\(bound / 1_000_000)s" : "≤\(bound / 1_000)ms"
    }
}

/// Repeated requests of one kind in one minute: tenant, client, step (grant type or endpoint),
/// result and catalogue code, with their count, a latency histogram, the first and last time an
/// answer was recorded, and the lowest and highest trace ID (version 7 trace IDs sort by arrival,
/// so every request counted here has a trace ID between the two).
public struct SignInAggregate: Sendable, Hashable, Codable {
    public struct Key: Sendable, Hashable, Codable {
        public var tenant: String
        public var clientID: String
        public var step: String
        public var result: SignInEvent.Result
        /// 0 for successes.
        public var errorCode: Int
        /// Minutes since 1970 (of the trace ID's time: when the request arrived).
        public var minute: Int

        public init(tenant: String, clientID: String, step: String, result: SignInEvent.Result, errorCode: Int, minute: Int) {
            self.tenant = tenant
            self.clientID = clientID
            self.step = step
            self.result = result
            self.errorCode = errorCode
            self.minute = minute
        }

        public var start: Date { Date(timeIntervalSince1970: Double(minute) * 60) }
    }

    public var key: Key
    public var count: Int
    /// Counts per `LatencyBuckets` bucket.
    public var buckets: [Int]
    public var latencySumMicros: Int
    public var firstTime: Date
    public var lastTime: Date
    public var firstTraceID: String
    public var lastTraceID: String

    public init(
        key: Key, count: Int, buckets: [Int], latencySumMicros: Int, firstTime: Date, lastTime: Date, firstTraceID: String,
        lastTraceID: String
    ) {
        self.key = key
        self.count = count
        self.buckets = buckets
        self.latencySumMicros = latencySumMicros
        self.firstTime = firstTime
        self.lastTime = lastTime
        self.firstTraceID = firstTraceID
        self.lastTraceID = lastTraceID
    }

    /// One event as an aggregate of one.
    public init(key: Key, event: SignInEvent) {
        var buckets = Array(repeating: 0, count: LatencyBuckets.count)
        buckets[LatencyBuckets.index(event.latencyMicros)] = 1
        self.init(
            key: key, count: 1, buckets: buckets, latencySumMicros: event.latencyMicros, firstTime: event.time, lastTime: event.time,
            firstTraceID: event.traceID, lastTraceID: event.traceID)
    }

    /// Adds another aggregate of the same key (another batch, another node).
    public mutating func merge(_ other: SignInAggregate) {
        count += other.count
        for index in buckets.indices where index < other.buckets.count { buckets[index] += other.buckets[index] }
        latencySumMicros += other.latencySumMicros
        firstTime = min(firstTime, other.firstTime)
        lastTime = max(lastTime, other.lastTime)
        firstTraceID = min(firstTraceID, other.firstTraceID)
        lastTraceID = max(lastTraceID, other.lastTraceID)
    }

    /// Whether `traceID` lies between the lowest and highest trace ID counted here.
    public func mayContain(traceID: String) -> Bool { traceID >= firstTraceID && traceID <= lastTraceID }
}

/// A filter over aggregates. Every set field must match.
public struct SignInAggregateQuery: Sendable, Hashable {
    public var tenant: String?
    public var clientID: String?
    /// Minutes since 1970, inclusive.
    public var fromMinute: Int?
    public var toMinute: Int?
    public var limit: Int

    public init(tenant: String? = nil, clientID: String? = nil, fromMinute: Int? = nil, toMinute: Int? = nil, limit: Int = 1_000) {
        self.tenant = tenant
        self.clientID = clientID
        self.fromMinute = fromMinute
        self.toMinute = toMinute
        self.limit = limit
    }

    public func matches(_ aggregate: SignInAggregate) -> Bool {
        if let tenant, aggregate.key.tenant != tenant { return false }
        if let clientID, aggregate.key.clientID != clientID { return false }
        if let fromMinute, aggregate.key.minute < fromMinute { return false }
        if let toMinute, aggregate.key.minute > toMinute { return false }
        return true
    }
}

/// Decides, event by event, what the sign-in log keeps whole and what it counts (pure; the
/// writer holds one per node). Kept whole: every failure a person would look for, every
/// interactive step, every success with a detail for the operator (a refresh retry), and the first
/// event of each aggregate key in each minute. Counted: failures that name no tenant or client
/// that exists (`isAnonymous`, in every mode), other successful client credentials,
/// refresh, on-behalf-of and introspection requests, and device
/// polls answered `authorization_pending` or `slow_down`, in tenants whose mode is `aggregate`.
/// The first event of a key (and of each credential within it) is both kept whole and counted, so an aggregate's count is every
/// request of its kind (`SignInEvent.countedInAggregate` marks the whole row that is also counted).
public struct SignInAggregator: Sendable {
    /// Steps whose successes are repeated machine requests.
    public static let aggregatedSuccessSteps: Set<String> = [
        GrantType.clientCredentials.rawValue, GrantType.refreshToken.rawValue, GrantType.jwtBearer.rawValue, "introspection",
    ]
    /// Expected refusals of device polling (RFC 8628 §3.5): `authorization_pending`, `slow_down`.
    public static let aggregatedPollCodes: Set<Int> = [Catalogue.authorizationPending.number, Catalogue.slowDown.number]

    private var pending: [SignInAggregate.Key: SignInAggregate] = [:]
    /// The kinds kept whole this minute. A kind is an aggregate key and the credential that
    /// authenticated the client: during a secret's rotation the first request of each minute
    /// with each secret is kept whole, so that the log shows which secrets are still in use.
    private var seen: Set<Seen> = []
    private struct Seen: Hashable {
        let key: SignInAggregate.Key
        let credential: String?
    }
    private var newestMinute = 0

    public init() {}

    /// Whether an event is a failure that names no tenant or no client that exists: nobody's
    /// request, which anyone can send with any identifiers. These are counted under one bounded
    /// key per tenant, step and code (the client `RecordedValue.unknownClient`), in every mode, so
    /// that a flood of made-up identifiers adds one whole row per kind and minute, not one per request.
    public static func isAnonymous(_ event: SignInEvent) -> Bool {
        guard event.result == .failure else { return false }
        if event.tenant == RecordedValue.unknownTenant || event.errorCode == Catalogue.applicationNotFound.number { return true }
        guard let clientID = event.clientID else {
            // No client at an endpoint whose every request names one (a sign-in page's or a user
            // code page's failure names none and is the user's, kept whole).
            return event.grantType.map(stepsNamingAClient.contains) ?? true
        }
        return (try? ClientID(clientID)) == nil
    }

    /// The token endpoint's grant types (`other` for one Gatehouse does not know) and the other
    /// endpoints where every request names its client.
    static let stepsNamingAClient: Set<String> = Set(GrantType.known.map(\.rawValue)).union([
        "other", "device_code", "authorize", "device_authorization", "introspection", "revocation",
    ])

    /// The aggregate key of an event, or nil when the event is always kept whole.
    public static func key(of event: SignInEvent) -> SignInAggregate.Key? {
        let arrived = TraceID.time(of: event.traceID) ?? event.time
        let minute = Int((arrived.timeIntervalSince1970 / 60).rounded(.down))
        if isAnonymous(event) {
            return SignInAggregate.Key(
                tenant: event.tenant, clientID: RecordedValue.unknownClient, step: event.grantType ?? "-", result: .failure,
                errorCode: event.errorCode ?? 0, minute: minute)
        }
        guard let step = event.grantType, let clientID = event.clientID else { return nil }
        switch event.result {
        case .success where aggregatedSuccessSteps.contains(step) && event.detail == nil:
            break
        case .failure where step == GrantType.deviceCode.rawValue && aggregatedPollCodes.contains(event.errorCode ?? -1):
            break
        default:
            return nil
        }
        return SignInAggregate.Key(
            tenant: event.tenant, clientID: clientID, step: step, result: event.result, errorCode: event.errorCode ?? 0, minute: minute)
    }

    /// Takes one event; returns it if it is to be kept whole (marked when it is also counted).
    public mutating func add(_ event: SignInEvent, mode: SignInLogMode) -> SignInEvent? {
        guard let key = Self.key(of: event), mode == .aggregate || Self.isAnonymous(event) else { return event }
        if key.minute > newestMinute {
            newestMinute = key.minute
            // Only recent minutes can still see a first event; forget older keys.
            seen = seen.filter { $0.key.minute >= newestMinute - 5 }
        }
        if pending[key] != nil {
            pending[key]?.merge(SignInAggregate(key: key, event: event))
        } else {
            pending[key] = SignInAggregate(key: key, event: event)
        }
        guard seen.insert(Seen(key: key, credential: event.credential)).inserted else { return nil }
        var first = event
        first.countedInAggregate = true
        return first
    }

    /// The aggregates counted since the last call.
    public mutating func takeAggregates() -> [SignInAggregate] {
        defer { pending.removeAll(keepingCapacity: true) }
        return Array(pending.values)
    }

    /// Puts back aggregates that could not be written, to be written with the next ones.
    public mutating func restore(_ aggregates: [SignInAggregate]) {
        for aggregate in aggregates {
            if pending[aggregate.key] != nil {
                pending[aggregate.key]?.merge(aggregate)
            } else {
                pending[aggregate.key] = aggregate
            }
        }
    }
}

/// What the sign-in log can say about a trace ID it did not keep whole.
public enum SignInLookup {
    /// The aggregates a trace ID may have been counted in: those of its minute (the trace ID's
    /// own time) whose first and last trace IDs enclose it. Empty when the ID is not a version 7
    /// trace ID or no aggregate of its minute encloses it.
    public static func aggregates(containing traceID: String, in store: any SignInLogStore) async throws -> [SignInAggregate] {
        guard let minted = TraceID.time(of: traceID) else { return [] }
        let minute = Int((minted.timeIntervalSince1970 / 60).rounded(.down))
        return try await store.signInAggregates(SignInAggregateQuery(fromMinute: minute, toMinute: minute, limit: 10_000))
            .filter { $0.mayContain(traceID: traceID.lowercased()) }
    }
}

/// Counts per hour, tenant, client, step, result and code: every aggregate's count plus every
/// whole row that is not also counted in an aggregate.
public struct SignInSummaryRow: Sendable, Hashable {
    public let hour: Date
    public let tenant: String
    public let clientID: String
    public let step: String
    public let result: SignInEvent.Result
    public let errorCode: Int
    public var count: Int

    public static func hourly(aggregates: [SignInAggregate], events: [SignInEvent]) -> [SignInSummaryRow] {
        struct Key: Hashable {
            let hour: Int, tenant: String, clientID: String, step: String, result: SignInEvent.Result, code: Int
        }
        var counts: [Key: Int] = [:]
        for aggregate in aggregates {
            let key = aggregate.key
            counts[
                Key(
                    hour: key.minute / 60, tenant: key.tenant, clientID: key.clientID, step: key.step, result: key.result,
                    code: key.errorCode),
                default: 0] += aggregate.count
        }
        for event in events where !event.countedInAggregate {
            let hour = Int((event.time.timeIntervalSince1970 / 3600).rounded(.down))
            counts[
                Key(
                    hour: hour, tenant: event.tenant, clientID: event.clientID ?? "-", step: event.grantType ?? "-", result: event.result,
                    code: event.errorCode ?? 0),
                default: 0] += 1
        }
        return counts.map { key, count in
            SignInSummaryRow(
                hour: Date(timeIntervalSince1970: Double(key.hour) * 3600), tenant: key.tenant, clientID: key.clientID, step: key.step,
                result: key.result, errorCode: key.code, count: count)
        }.sorted { ($0.hour, $0.tenant, $0.clientID, $0.step, $0.errorCode) < ($1.hour, $1.tenant, $1.clientID, $1.step, $1.errorCode) }
    }
}
