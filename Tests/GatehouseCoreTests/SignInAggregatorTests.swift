import Foundation
import Testing

@testable import GatehouseCore

@Suite struct TraceIDTests {
    @Test func versionSevenCarriesItsTime() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_123.456)
        let id = TraceID.make(now: now, random: .system)
        #expect(id.count == 36 && UUID(uuidString: id) != nil)
        #expect(Array(id)[14] == "7")
        #expect(["8", "9", "a", "b"].contains(Array(id)[19]))
        let time = try #require(TraceID.time(of: id))
        #expect(abs(time.timeIntervalSince1970 - 1_800_000_123.456) < 0.001)
        // A version 4 GUID or anything else has no time.
        #expect(TraceID.time(of: RandomSource.system.guidString()) == nil)
        #expect(TraceID.time(of: "not-a-trace") == nil)
    }

    @Test func idsSortByTime() {
        let ids = (0..<200).map { TraceID.make(now: Date(timeIntervalSince1970: 1_800_000_000 + Double($0) * 0.002), random: .system) }
        #expect(ids == ids.sorted())
    }
}

@Suite struct SignInAggregatorTests {
    static let minute = Date(timeIntervalSince1970: 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: 60))

    static func event(
        _ step: String?, at offset: TimeInterval = 0, result: SignInEvent.Result = .success, code: Int? = nil, client: String? = "svc",
        tenant: String = "contoso", latency: Int = 1_500
    ) -> SignInEvent {
        let time = minute.addingTimeInterval(offset)
        return SignInEvent(
            time: time, tenant: tenant, clientID: client, grantType: step, scopes: "api.read", result: result, errorCode: code,
            error: code == nil ? nil : "e", detail: nil, traceID: TraceID.make(now: time, random: .system), correlationID: "c",
            clientIP: "127.0.0.1", userAgent: "ua", latencyMicros: latency)
    }

    @Test func repeatedSuccessesAreCountedAndTheFirstKeptWhole() {
        var aggregator = SignInAggregator()
        let events = (0..<1_000).map { Self.event("client_credentials", at: Double($0) * 0.05, latency: $0 * 10) }
        let whole = events.compactMap { aggregator.add($0, mode: .aggregate) }
        #expect(whole.count == 1 && whole[0].traceID == events[0].traceID && whole[0].countedInAggregate)
        let aggregates = aggregator.takeAggregates()
        let aggregate = try? #require(aggregates.first)
        #expect(aggregates.count == 1)
        #expect(aggregate?.count == 1_000)
        #expect(aggregate?.buckets.reduce(0, +) == 1_000)
        #expect(aggregate?.latencySumMicros == (0..<1_000).reduce(0) { $0 + $1 * 10 })
        #expect(aggregate?.firstTraceID == events[0].traceID && aggregate?.lastTraceID == events[999].traceID)
        #expect(aggregate?.key.step == "client_credentials" && aggregate?.key.result == .success && aggregate?.key.errorCode == 0)
        #expect(aggregator.takeAggregates().isEmpty)
    }

    @Test func eachMinuteAndKindHasItsOwnFirst() {
        var aggregator = SignInAggregator()
        var whole = 0
        for offset in [0.0, 10, 61, 70, 125] {
            if aggregator.add(Self.event("client_credentials", at: offset), mode: .aggregate) != nil { whole += 1 }
            if aggregator.add(Self.event("refresh_token", at: offset), mode: .aggregate) != nil { whole += 1 }
        }
        // Three minutes, two kinds: six firsts.
        #expect(whole == 6)
        #expect(aggregator.takeAggregates().reduce(0) { $0 + $1.count } == 10)
    }

    @Test func failuresAndInteractiveStepsAreKeptWhole() {
        var aggregator = SignInAggregator()
        let kept: [SignInEvent] = [
            Self.event("client_credentials", result: .failure, code: 7000215),
            Self.event("refresh_token", result: .failure, code: 9900154),
            Self.event("authorize"), Self.event("sign_in"), Self.event("consent"), Self.event("device_approval"),
            Self.event("authorization_code"),
            Self.event("password"), Self.event("revocation"),
            Self.event(GrantType.deviceCode.rawValue, result: .failure, code: 70020),
            Self.event(GrantType.deviceCode.rawValue),
            Self.event("client_credentials", client: nil),
        ]
        for event in kept {
            let result = aggregator.add(event, mode: .aggregate)
            #expect(result?.traceID == event.traceID && result?.countedInAggregate == false, "\(event.grantType ?? "-")")
        }
        #expect(aggregator.takeAggregates().isEmpty)
    }

    @Test func expectedDevicePollsAreCounted() {
        var aggregator = SignInAggregator()
        for index in 0..<20 {
            _ = aggregator.add(
                Self.event(GrantType.deviceCode.rawValue, at: Double(index), result: .failure, code: 70016), mode: .aggregate)
            _ = aggregator.add(
                Self.event(GrantType.deviceCode.rawValue, at: Double(index), result: .failure, code: 9900180), mode: .aggregate)
        }
        let aggregates = aggregator.takeAggregates()
        #expect(Set(aggregates.map(\.key.errorCode)) == [70016, 9900180])
        #expect(aggregates.allSatisfy { $0.count == 20 && $0.key.result == .failure })
    }

    @Test func fullModeKeepsEverythingWhole() {
        var aggregator = SignInAggregator()
        let whole = (0..<50).compactMap { aggregator.add(Self.event("client_credentials", at: Double($0)), mode: .full) }
        #expect(whole.count == 50 && whole.allSatisfy { !$0.countedInAggregate })
        #expect(aggregator.takeAggregates().isEmpty)
    }

    @Test func restoredAggregatesAddUp() {
        var aggregator = SignInAggregator()
        for index in 0..<30 { _ = aggregator.add(Self.event("introspection", at: Double(index)), mode: .aggregate) }
        let first = aggregator.takeAggregates()
        for index in 30..<45 { _ = aggregator.add(Self.event("introspection", at: Double(index)), mode: .aggregate) }
        aggregator.restore(first)
        #expect(aggregator.takeAggregates().map(\.count) == [45])
    }

    @Test func summaryCountsAggregatesAndWholeRowsOnce() {
        var aggregator = SignInAggregator()
        var whole: [SignInEvent] = []
        for index in 0..<100 {
            if let kept = aggregator.add(Self.event("client_credentials", at: Double(index) * 0.1), mode: .aggregate) { whole.append(kept) }
        }
        for _ in 0..<3 {
            if let kept = aggregator.add(Self.event("client_credentials", result: .failure, code: 7000215), mode: .aggregate) {
                whole.append(kept)
            }
        }
        let rows = SignInSummaryRow.hourly(aggregates: aggregator.takeAggregates(), events: whole)
        #expect(rows.first { $0.result == .success }?.count == 100)
        #expect(rows.first { $0.errorCode == 7000215 }?.count == 3)
    }
}
