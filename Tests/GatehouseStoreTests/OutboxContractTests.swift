import Foundation
import GatehouseCore
import GatehouseStore
import Testing

/// The outbox and `atomically`, on every backend.
@Suite struct OutboxContractTests {
    func row(_ id: String, tenant: String = "contoso", due: Date?, created: Date = epoch) -> OutboxMessage {
        OutboxMessage(id: id, kind: OutboxKind.mail, tenant: tenant, payload: "sealed-\(id)", nextAttemptAt: due, createdAt: created)
    }

    @Test(arguments: Backend.allCases)
    func rowsAreDueInOrderDeferredAndCompleted(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.enqueue(row("b", due: epoch.addingTimeInterval(20)))
            try await store.enqueue(row("a", due: epoch.addingTimeInterval(10)))
            try await store.enqueue(row("later", due: epoch.addingTimeInterval(3600)))
            try await store.enqueue(row("other", tenant: "fabrikam", due: epoch.addingTimeInterval(5)))
            let due = try await store.dueMessages(now: epoch.addingTimeInterval(30), limit: 10)
            #expect(due.map(\.id) == ["other", "a", "b"])
            #expect(due[1].payload == "sealed-a" && due[1].attempts == 0 && due[1].lastError == nil)
            #expect(try await store.dueMessages(now: epoch.addingTimeInterval(30), limit: 1).map(\.id) == ["other"])

            // A failure: counted, put off, the reason kept with the payload.
            try await store.deferMessage(
                id: "a", attempts: 1, nextAttemptAt: epoch.addingTimeInterval(100), lastError: "connection refused")
            #expect(try await store.dueMessages(now: epoch.addingTimeInterval(30), limit: 10).map(\.id) == ["other", "b"])
            let deferred = try await store.outboxMessages(tenant: "contoso", limit: 10).first { $0.id == "a" }
            #expect(deferred?.attempts == 1 && deferred?.lastError == "connection refused" && deferred?.payload == "sealed-a")

            // Given up: never due again, payload erased, still listed.
            try await store.deferMessage(id: "b", attempts: 9, nextAttemptAt: nil, lastError: "550 no such user")
            let abandoned = try await store.outboxMessages(tenant: "contoso", limit: 10).first { $0.id == "b" }
            #expect(abandoned?.nextAttemptAt == nil && abandoned?.payload == "" && abandoned?.lastError == "550 no such user")
            #expect(try await store.dueMessages(now: epoch.addingTimeInterval(1e6), limit: 10).map(\.id).contains("b") == false)
            let depth = try await store.outboxDepth()
            #expect(depth.pending == 3 && depth.abandoned == 1)

            #expect(try await store.completeMessage(id: "other"))
            #expect(try await store.completeMessage(id: "other") == false)
            #expect(try await store.outboxMessages(tenant: "fabrikam", limit: 10).isEmpty)
            #expect(try await store.outboxMessages(tenant: nil, limit: 10).count == 3)
        }
    }

    @Test(arguments: Backend.allCases)
    func oldRowsArePurgedInBatches(backend: Backend) async throws {
        try await withStore(backend) { store in
            for index in 0..<5 {
                try await store.enqueue(row("old\(index)", due: nil, created: epoch.addingTimeInterval(Double(index))))
            }
            try await store.enqueue(row("new", due: epoch, created: epoch.addingTimeInterval(1000)))
            #expect(try await store.purgeOutbox(createdBefore: epoch.addingTimeInterval(500), limit: 3) == 3)
            #expect(try await store.purgeOutbox(createdBefore: epoch.addingTimeInterval(500), limit: 3) == 2)
            #expect(try await store.outboxMessages(tenant: nil, limit: 10).map(\.id) == ["new"])
        }
    }

    /// A change and its outbox row are one: a failure after both writes leaves neither.
    @Test(arguments: Backend.allCases)
    func aFailedChangeLeavesNoRow(backend: Backend) async throws {
        struct Boom: Error {}
        try await withStore(backend) { store in
            try await store.createTenant(try sampleTenant())
            let tenant = try TenantName("contoso")
            let user = User(
                tenant: tenant, id: "u1", username: try Username("ada"), email: "ada@example.com", displayName: "Ada", passwordHash: "x",
                createdAt: epoch, updatedAt: epoch)
            let queued = row("with-user", due: epoch)
            await #expect(throws: Boom.self) {
                try await store.atomically {
                    try await store.createUser(user)
                    try await store.enqueue(queued)
                    throw Boom()
                }
            }
            #expect(try await store.user(tenant: tenant, id: "u1") == nil)
            #expect(try await store.outboxMessages(tenant: nil, limit: 10).isEmpty)
            try await store.atomically {
                try await store.createUser(user)
                try await store.enqueue(queued)
            }
            #expect(try await store.user(tenant: tenant, id: "u1")?.emailVerified == false)
            #expect(try await store.outboxMessages(tenant: nil, limit: 10).map(\.id) == ["with-user"])
            var verified = try #require(try await store.user(tenant: tenant, id: "u1"))
            verified.emailVerified = true
            #expect(try await store.updateUser(verified))
            #expect(try await store.user(tenant: tenant, id: "u1")?.emailVerified == true)
            #expect(try await store.setVerifyEmail(true, tenant: tenant))
            #expect(try await store.tenant(named: tenant)?.verifyEmail == true)
        }
    }
}
