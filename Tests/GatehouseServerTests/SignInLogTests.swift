import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import Testing

@Suite struct SignInLogTests {
    @Test func everyTokenRequestIsRecordedAndFoundByTraceID() async throws {
        let harness = try await Harness.make()
        let (failureTrace, successTrace) = try await harness.withClient { client in
            let failure = try await harness.token(
                client,
                [("grant_type", "client_credentials"), ("scope", "admin"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))],
                headers: [.userAgent: "test-agent/1.0", .init("client-request-id")!: "corr-1"])
            let success = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))])
            return (json(failure)["trace_id"] as? String ?? "", success.headers[.init("X-Trace-Id")!] ?? "")
        }
        await harness.gatehouse.signIns.flush()
        let failures = try await harness.store.signIns(SignInQuery(traceID: failureTrace))
        let event = try #require(failures.first)
        #expect(failures.count == 1)
        #expect(event.result == .failure)
        #expect(event.errorCode == 9900121)
        #expect(event.error == "invalid_scope")
        #expect(event.clientID == "svc")
        #expect(event.grantType == "client_credentials")
        #expect(event.tenant == "contoso")
        #expect(event.correlationID == "corr-1")
        #expect(event.userAgent == "test-agent/1.0")
        #expect(event.latencyMicros >= 0)
        let success = try #require(try await harness.store.signIns(SignInQuery(traceID: successTrace)).first)
        #expect(success.result == .success && success.errorCode == nil && success.scopes == "api.read")
        #expect(try await harness.store.signIns(SignInQuery(clientID: "svc", errorCode: 9900121)).count == 1)
        #expect(try await harness.store.signIns(SignInQuery(result: .success)).count == 1)
    }

    @Test func secretsNeverReachTheLog() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            _ = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", "guess-\(harness.secret("svc"))")])
            _ = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))])
        }
        await harness.gatehouse.signIns.flush()
        let events = try await harness.store.signIns(SignInQuery())
        #expect(events.count == 2)
        let dump = String(describing: events)
        #expect(!dump.contains(harness.secret("svc")))
    }

    @Test func gracefulShutdownWritesEveryBufferedEvent() async throws {
        let store = InMemoryStore()
        let writer = SignInLogWriter(store: store, interval: .seconds(3600))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let group = ServiceGroup(services: [writer], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for index in 0..<2_500 {
                writer.record(
                    SignInEvent(
                        time: Date(), tenant: "t", clientID: "c\(index)", grantType: nil, scopes: nil, result: .success, errorCode: nil,
                        error: nil, detail: nil, traceID: "trace-\(index)", correlationID: "x", clientIP: nil, userAgent: nil,
                        latencyMicros: 1))
            }
            // The flush interval is an hour: only the shutdown's final flush can write these.
            #expect(try await store.signIns(SignInQuery(limit: 10_000)).isEmpty)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try await store.signIns(SignInQuery(limit: 10_000)).count == 2_500)
        #expect(writer.dropped == 0)
    }

    @Test func fullBufferDropsAndCounts() async throws {
        let writer = SignInLogWriter(store: InMemoryStore(), capacity: 10)
        for index in 0..<15 {
            writer.record(
                SignInEvent(
                    time: Date(), tenant: "t", clientID: nil, grantType: nil, scopes: nil, result: .success, errorCode: nil, error: nil,
                    detail: nil, traceID: "\(index)", correlationID: "x", clientIP: nil, userAgent: nil, latencyMicros: 1))
        }
        #expect(writer.pending == 10)
        #expect(writer.dropped == 5)
    }
}

@Suite struct SweeperTests {
    @Test func sweepEnforcesRetentionAndForgetsExpiredValues() async throws {
        let store = InMemoryStore()
        let now = Date(timeIntervalSince1970: 1_900_000_000)
        for age in [1.0, 29, 31, 400] {
            try await store.append([
                SignInEvent(
                    time: now.addingTimeInterval(-age * 86400), tenant: "t", clientID: nil, grantType: nil, scopes: nil,
                    result: .success, errorCode: nil, error: nil, detail: nil, traceID: "age-\(Int(age))",
                    correlationID: "c", clientIP: nil, userAgent: nil, latencyMicros: 1)
            ])
        }
        #expect(try await store.consumeOnce(key: "old", expiresAt: now.addingTimeInterval(-1), now: now.addingTimeInterval(-100)))
        await Sweeper(store: store, time: TimeSource { now }, signInRetention: 30 * 86400).sweep()
        #expect(try await store.signIns(SignInQuery()).map(\.traceID).sorted() == ["age-1", "age-29"])
        #expect(try await store.purgeExpired(now: now) == 0)
    }
}
