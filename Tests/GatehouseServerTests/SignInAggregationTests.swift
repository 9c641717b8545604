import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// The sign-in log through the real router: repeated machine successes counted, everything a
/// person looks for kept whole, every trace ID explained.
@Suite struct SignInAggregationTests {
    /// `count` client credentials requests, `parallel` at a time; their trace IDs.
    static func tokens(_ harness: Harness, count: Int, parallel: Int, secret: String? = nil) async throws -> [String] {
        try await harness.withClient { client in
            try await withThrowingTaskGroup(of: [String].self) { group in
                for lane in 0..<parallel {
                    group.addTask {
                        var traces: [String] = []
                        for _ in stride(from: lane, to: count, by: parallel) {
                            let response = try await harness.token(
                                client,
                                [
                                    ("grant_type", "client_credentials"), ("client_id", "svc"),
                                    ("client_secret", secret ?? harness.secret("svc")),
                                ])
                            traces.append(response.headers[.init("X-Trace-Id")!] ?? "")
                        }
                        return traces
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }
    }

    @Test func aRunOfNSuccessesAddsUpToN() async throws {
        let harness = try await Harness.make()
        let traces = try await Self.tokens(harness, count: 300, parallel: 6)
        let failures = try await Self.tokens(harness, count: 7, parallel: 7, secret: "wrong")
        await harness.gatehouse.signIns.flush()
        let aggregates = try await harness.store.signInAggregates(SignInAggregateQuery(clientID: "svc"))
        #expect(aggregates.filter { $0.key.result == .success }.reduce(0) { $0 + $1.count } == 300)
        #expect(aggregates.allSatisfy { $0.key.step == "client_credentials" && $0.buckets.reduce(0, +) == $0.count })
        // Whole: the first success of each minute (counted too) and every failure, with its fields.
        let whole = try await harness.store.signIns(SignInQuery(clientID: "svc", limit: 1_000))
        let wholeSuccesses = whole.filter { $0.result == .success }
        #expect(!wholeSuccesses.isEmpty && wholeSuccesses.count == Set(aggregates.map(\.key.minute)).count)
        #expect(wholeSuccesses.allSatisfy { $0.countedInAggregate && traces.contains($0.traceID) })
        let wholeFailures = whole.filter { $0.result == .failure }
        #expect(Set(wholeFailures.map(\.traceID)) == Set(failures))
        for event in wholeFailures {
            #expect(event.errorCode == 7000215 && event.error == "invalid_client" && event.tenant == "contoso")
            #expect(event.grantType == "client_credentials" && !event.correlationID.isEmpty && event.latencyMicros >= 0)
            #expect(!event.countedInAggregate && event.detail != nil)
        }
        #expect(harness.gatehouse.signIns.aggregated == 300)
    }

    /// Interactive steps are never aggregated, however often they repeat: every sign-in and code is a row.
    @Test func interactiveStepsAreKeptWholeEveryTime() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            for _ in 0..<3 {
                let reply = try await harness.signIn(Browser(client), uri: harness.authorizeURI(pkce: PKCEPair()))
                #expect(reply.status == .ok || reply.status == .seeOther)
            }
        }
        await harness.gatehouse.signIns.flush()
        let events = try await harness.store.signIns(SignInQuery(tenant: "contoso", limit: 1_000))
        // The first code follows the consent page (step consent), the next ones the remembered consent (authorize).
        for steps in [["authorize", "consent"], ["sign_in"]] {
            let rows = events.filter { steps.contains($0.grantType ?? "") && $0.result == .success }
            let step = steps.joined(separator: "/")
            #expect(rows.count >= 3, "\(step)")
            #expect(rows.allSatisfy { !$0.countedInAggregate && $0.clientID == "web" && !$0.traceID.isEmpty && !$0.correlationID.isEmpty })
            #expect(rows.allSatisfy { $0.detail?.isEmpty == false })
        }
        #expect(try await harness.store.signInAggregates(SignInAggregateQuery()).isEmpty)
    }

    @Test func anAggregatedTraceIDIsExplained() async throws {
        let harness = try await Harness.make()
        let traces = try await Self.tokens(harness, count: 40, parallel: 4)
        await harness.gatehouse.signIns.flush()
        var explained = 0
        for trace in traces {
            if try await !harness.store.signIns(SignInQuery(traceID: trace)).isEmpty { continue }
            let candidates = try await SignInLookup.aggregates(containing: trace, in: harness.store)
            #expect(candidates.contains { $0.key.clientID == "svc" && $0.key.step == "client_credentials" && $0.count >= 2 }, "\(trace)")
            explained += 1
        }
        #expect(explained >= 39 - 1)
        // A trace ID from another time explains nothing.
        let stranger = TraceID.make(now: Date(timeIntervalSince1970: 1_000_000), random: .system)
        #expect(try await SignInLookup.aggregates(containing: stranger, in: harness.store).isEmpty)
    }

    @Test func fullModeKeepsEveryRequestWhole() async throws {
        let harness = try await Harness.make()
        #expect(try await harness.store.setSignInLogMode(.full, tenant: try TenantName("contoso")))
        let traces = try await Self.tokens(harness, count: 25, parallel: 5)
        await harness.gatehouse.signIns.flush()
        let whole = try await harness.store.signIns(SignInQuery(clientID: "svc", result: .success, limit: 1_000))
        #expect(Set(whole.map(\.traceID)) == Set(traces))
        #expect(try await harness.store.signInAggregates(SignInAggregateQuery()).isEmpty)
    }

    /// Two nodes' writers flushing into one store at once: every count arrives.
    @Test func concurrentWritersAddUp() async throws {
        let store = InMemoryStore()
        let writers = [SignInLogWriter(store: store, interval: .seconds(3600)), SignInLogWriter(store: store, interval: .seconds(3600))]
        let now = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, writer) in writers.enumerated() {
                group.addTask {
                    for event in 0..<2_000 {
                        let time = now.addingTimeInterval(Double(event) * 0.001)
                        writer.record(
                            SignInEvent(
                                time: time, tenant: "contoso", clientID: "svc", grantType: "refresh_token", scopes: nil, result: .success,
                                errorCode: nil, error: nil, detail: nil, traceID: TraceID.make(now: time, random: .system),
                                correlationID: "node-\(index)", clientIP: nil, userAgent: nil, latencyMicros: event))
                        if event % 500 == 0 { await writer.flush() }
                    }
                    await writer.flush()
                }
            }
            try await group.waitForAll()
        }
        let total = try await store.signInAggregates(SignInAggregateQuery()).reduce(0) { $0 + $1.count }
        #expect(total == 4_000)
    }

    @Test func sweeperKeepsEachKindForItsOwnRetention() async throws {
        let store = InMemoryStore()
        let now = Date(timeIntervalSince1970: 1_900_000_020)
        let minute = Int(now.timeIntervalSince1970 / 60)
        try await store.append(
            (0..<120).map { index in
                SignInEvent(
                    time: now.addingTimeInterval(-Double(index) * 86400), tenant: "t", clientID: "c", grantType: "authorize", scopes: nil,
                    result: .failure, errorCode: 50126, error: "invalid_grant", detail: nil, traceID: "w-\(index)", correlationID: "c",
                    clientIP: nil, userAgent: nil, latencyMicros: 1)
            })
        for day in 0..<120 {
            try await store.addSignInAggregates([
                SignInAggregate(
                    key: .init(
                        tenant: "t", clientID: "c", step: "client_credentials", result: .success, errorCode: 0, minute: minute - day * 1440),
                    count: 9, buckets: Array(repeating: 0, count: LatencyBuckets.count), latencySumMicros: 0, firstTime: now, lastTime: now,
                    firstTraceID: "a", lastTraceID: "b")
            ])
        }
        // Small batches: one sweep works off at most 3 batches of 10 per kind; the next sweep goes on.
        let sweeper = Sweeper(
            store: store, time: TimeSource { now }, signInRetention: 30.5 * 86400, aggregateRetention: 90.5 * 86400, batchSize: 10,
            maxBatches: 3)
        await sweeper.sweep()
        #expect(try await store.signIns(SignInQuery(limit: 1_000)).count == 120 - 30)
        #expect(try await store.signInAggregates(SignInAggregateQuery(limit: 1_000)).count == 120 - 29)
        for _ in 0..<5 { await sweeper.sweep() }
        #expect(try await store.signIns(SignInQuery(limit: 1_000)).count == 31)
        #expect(try await store.signInAggregates(SignInAggregateQuery(limit: 1_000)).count == 91)
    }

    /// A database that fails now and then loses nothing: what was not written is written later, once.
    @Test func failedWritesAreRetriedWithoutDoubleCounting() async throws {
        let store = FlakyLogStore()
        let writer = SignInLogWriter(
            store: store, interval: .seconds(3600), logger: .init(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let now = Date()
        for round in 0..<6 {
            store.failing.withLock { $0 = round % 2 == 0 }
            for event in 0..<100 {
                let time = now.addingTimeInterval(Double(round * 100 + event) * 0.0001)
                writer.record(
                    SignInEvent(
                        time: time, tenant: "contoso", clientID: "svc", grantType: event % 10 == 0 ? "authorize" : "introspection",
                        scopes: nil, result: .success, errorCode: nil, error: nil, detail: nil,
                        traceID: TraceID.make(now: time, random: .system), correlationID: "c", clientIP: nil, userAgent: nil,
                        latencyMicros: 1))
            }
            await writer.flush()
        }
        store.failing.withLock { $0 = false }
        await writer.flush()
        let aggregated = try await store.inner.signInAggregates(SignInAggregateQuery()).reduce(0) { $0 + $1.count }
        let whole = try await store.inner.signIns(SignInQuery(limit: 10_000))
        #expect(aggregated == 540)
        #expect(whole.filter { $0.grantType == "authorize" }.count == 60)
        #expect(Set(whole.map(\.traceID)).count == whole.count)
    }
}

/// A sign-in log store whose writes fail while `failing` is set.
final class FlakyLogStore: SignInLogStore {
    let inner = InMemoryStore()
    let failing = Mutex(false)
    struct Down: Error {}

    func append(_ events: [SignInEvent]) async throws {
        if failing.withLock({ $0 }) { throw Down() }
        try await inner.append(events)
    }
    func signIns(_ query: SignInQuery) async throws -> [SignInEvent] { try await inner.signIns(query) }
    func addSignInAggregates(_ aggregates: [SignInAggregate]) async throws {
        if failing.withLock({ $0 }) { throw Down() }
        try await inner.addSignInAggregates(aggregates)
    }
    func signInAggregates(_ query: SignInAggregateQuery) async throws -> [SignInAggregate] { try await inner.signInAggregates(query) }
    func purgeSignIns(before cutoff: Date, limit: Int) async throws -> Int { try await inner.purgeSignIns(before: cutoff, limit: limit) }
    func purgeSignInAggregates(before cutoff: Date, limit: Int) async throws -> Int {
        try await inner.purgeSignInAggregates(before: cutoff, limit: limit)
    }
}
