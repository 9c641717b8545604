import Foundation
import GatehouseCore
import Testing

@testable import GatehouseStore

/// The sign-in aggregates and bounded retention, on every backend.
@Suite struct SignInAggregateContractTests {
    static func aggregate(
        client: String = "svc", minute: Int = 30_000_000, count: Int, at offset: TimeInterval, trace: String, code: Int = 0
    ) -> SignInAggregate {
        var buckets = Array(repeating: 0, count: LatencyBuckets.count)
        buckets[2] = count
        let time = Date(timeIntervalSince1970: Double(minute) * 60 + offset)
        return SignInAggregate(
            key: SignInAggregate.Key(
                tenant: "contoso", clientID: client, step: "client_credentials", result: code == 0 ? .success : .failure, errorCode: code,
                minute: minute),
            count: count, buckets: buckets, latencySumMicros: count * 3_000, firstTime: time, lastTime: time, firstTraceID: trace,
            lastTraceID: trace)
    }

    @Test(arguments: Backend.allCases)
    func aggregatesOfOneKeyAddUp(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            try await store.addSignInAggregates([Self.aggregate(count: 10, at: 20, trace: "t-20")])
            try await store.addSignInAggregates([
                Self.aggregate(count: 5, at: 5, trace: "t-05"), Self.aggregate(count: 7, at: 50, trace: "t-50"),
                Self.aggregate(client: "other", count: 1, at: 1, trace: "o-01"),
            ])
            let stored = try await store.signInAggregates(SignInAggregateQuery(clientID: "svc"))
            let one = try #require(stored.first)
            #expect(stored.count == 1)
            #expect(one.count == 22 && one.buckets[2] == 22 && one.buckets.reduce(0, +) == 22 && one.latencySumMicros == 66_000)
            #expect(one.firstTraceID == "t-05" && one.lastTraceID == "t-50")
            #expect(one.firstTime == Date(timeIntervalSince1970: 30_000_000 * 60 + 5))
            #expect(one.lastTime == Date(timeIntervalSince1970: 30_000_000 * 60 + 50))
            #expect(try await store.signInAggregates(SignInAggregateQuery()).count == 2)
            #expect(try await store.signInAggregates(SignInAggregateQuery(fromMinute: 30_000_001)).isEmpty)
            #expect(try await store.signInAggregates(SignInAggregateQuery(tenant: "fabrikam")).isEmpty)
        }
    }

    /// Several writers (flushes of several nodes) adding to one key at once lose no count.
    @Test(arguments: Backend.allCases)
    func concurrentWritersAddUpExactly(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<40 {
                    group.addTask {
                        try await store.addSignInAggregates([
                            Self.aggregate(count: writer + 1, at: Double(writer), trace: String(format: "t-%02d", writer)),
                            Self.aggregate(count: 1, at: Double(writer), trace: "f", code: 70016),
                        ])
                    }
                }
                try await group.waitForAll()
            }
            let stored = try await store.signInAggregates(SignInAggregateQuery())
            #expect(stored.first { $0.key.errorCode == 0 }?.count == (1...40).reduce(0, +))
            #expect(stored.first { $0.key.errorCode == 70016 }?.count == 40)
            #expect(stored.first { $0.key.errorCode == 0 }?.firstTraceID == "t-00")
            #expect(stored.first { $0.key.errorCode == 0 }?.lastTraceID == "t-39")
        }
    }

    @Test(arguments: Backend.allCases)
    func retentionDeletesInBoundedBatches(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            try await store.append(
                (0..<250).map { index in
                    SignInEvent(
                        time: epoch.addingTimeInterval(Double(index)), tenant: "contoso", clientID: "svc", grantType: "client_credentials",
                        scopes: nil, result: .success, errorCode: nil, error: nil, detail: nil, traceID: "trace-\(index)",
                        correlationID: "c",
                        clientIP: nil, userAgent: nil, latencyMicros: 1, countedInAggregate: index % 2 == 0)
                })
            #expect(try await store.signIns(SignInQuery(traceID: "trace-4")).first?.countedInAggregate == true)
            #expect(try await store.signIns(SignInQuery(traceID: "trace-5")).first?.countedInAggregate == false)
            let cutoff = epoch.addingTimeInterval(200)
            #expect(try await store.purgeSignIns(before: cutoff, limit: 64) == 64)
            #expect(try await store.purgeSignIns(before: cutoff, limit: 64) == 64)
            #expect(try await store.purgeSignIns(before: cutoff, limit: 100) == 72)
            #expect(try await store.purgeSignIns(before: cutoff, limit: 100) == 0)
            // The oldest went first; nothing at or after the cutoff.
            #expect(
                try await store.signIns(SignInQuery(limit: 1_000)).map(\.traceID).sorted() == (200..<250).map { "trace-\($0)" }.sorted())

            let base = Int(epoch.timeIntervalSince1970 / 60)
            for minute in 0..<30 {
                try await store.addSignInAggregates([
                    Self.aggregate(minute: base + minute, count: 3, at: 1, trace: "a"),
                    Self.aggregate(client: "b", minute: base + minute, count: 3, at: 1, trace: "b"),
                ])
            }
            let aggregateCutoff = Date(timeIntervalSince1970: Double(base + 20) * 60)
            #expect(try await store.purgeSignInAggregates(before: aggregateCutoff, limit: 10) == 10)
            #expect(try await store.purgeSignInAggregates(before: aggregateCutoff, limit: 100) == 30)
            #expect(try await store.purgeSignInAggregates(before: aggregateCutoff, limit: 100) == 0)
            let left = try await store.signInAggregates(SignInAggregateQuery(limit: 1_000))
            #expect(left.count == 20 && left.allSatisfy { $0.key.minute >= base + 20 })
        }
    }

    @Test(arguments: Backend.allCases)
    func tenantSignInLogMode(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            #expect(try await store.tenant(named: tenant.name)?.signInLog == .aggregate)
            #expect(try await store.setSignInLogMode(.full, tenant: tenant.name))
            #expect(try await store.tenant(named: tenant.name)?.signInLog == .full)
            #expect(try await store.tenant(id: tenant.id)?.signInLog == .full)
            #expect(!(try await store.setSignInLogMode(.full, tenant: try TenantName("nobody"))))
        }
    }
}

/// A stored value that does not parse is an error naming its table and key, never a silent default.
@Suite struct CorruptRowTests {
    @Test func unreadableValuesAreErrorsNamingTableAndKey() async throws {
        let database = try await SQLiteDatabase.open(path: ":memory:")
        let store = database.store
        let tenant = try sampleTenant()
        try await store.createTenant(tenant)
        try await store.db.raw("UPDATE tenants SET signing_algorithm = 'HS256' WHERE name = \(bind: tenant.name.value)").run()
        do {
            _ = try await store.tenant(named: tenant.name)
            Issue.record("a tenant with an unknown algorithm was read")
        } catch let error as StoreError {
            #expect(error == .corrupt("tenants \(tenant.name.value): signing_algorithm 'HS256'"))
        }
        try await store.db.raw("UPDATE tenants SET signing_algorithm = 'ES256', id = 'not-a-guid'").run()
        await #expect(throws: StoreError.corrupt("tenants \(tenant.name.value): id 'not-a-guid'")) {
            _ = try await store.tenants()
        }
        try await database.close()
    }
}
