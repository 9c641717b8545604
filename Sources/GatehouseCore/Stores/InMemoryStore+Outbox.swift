import Foundation

extension InMemoryStore {
    /// Restores the state as it was if `body` throws. Bodies run one at a time (a nested call
    /// joins the outer one), so that one body's failure cannot undo another's changes; writes
    /// outside `atomically` made meanwhile are not isolated (a failed body undoes those too): the
    /// memory store serves development and tests.
    public func atomically<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        if Self.insideAtomically { return try await body() }
        await atomicGate.acquire()
        defer { atomicGate.release() }
        let before = state.withLock { $0 }
        do {
            return try await Self.$insideAtomically.withValue(true) { try await body() }
        } catch {
            state.withLock { $0 = before }
            throw error
        }
    }

    public func resetPassword(
        tenant: TenantName, id: String, passwordHash: String, address: String, issuedAt: Date, now: Date
    ) async throws -> Bool {
        try await countingChange {
            state.withLock { state in
                guard var user = state.users[tenant]?[id], user.enabled, user.email == address, user.emailVerified,
                    user.sessionsValidAfter.map { $0 <= issuedAt } ?? true
                else { return false }
                user.passwordHash = passwordHash
                user.updatedAt = now
                user.sessionsValidAfter = now
                state.users[tenant]?[id] = user
                return true
            }
        }
    }

    public func markEmailVerified(tenant: TenantName, id: String, address: String, now: Date) async throws -> Bool {
        try await countingChange {
            state.withLock { state in
                guard var user = state.users[tenant]?[id], user.email == address else { return false }
                user.emailVerified = true
                user.updatedAt = now
                state.users[tenant]?[id] = user
                return true
            }
        }
    }

    public func discardDue(kind: String, now: Date) async throws -> Int {
        state.withLock { state in
            let due = state.outbox.values.filter { $0.kind == kind && ($0.nextAttemptAt ?? .distantFuture) <= now }.map(\.id)
            for id in due { state.outbox.removeValue(forKey: id) }
            return due.count
        }
    }

    public func replaceRecoveryCodes(tenant: TenantName, userID: String, hashes: [String], now: Date) async throws {
        state.withLock { $0.recoveryCodes["\(tenant.value)|\(userID)"] = hashes.isEmpty ? nil : Set(hashes) }
    }

    public func useRecoveryCode(tenant: TenantName, userID: String, hash: String) async throws -> Bool {
        state.withLock { $0.recoveryCodes["\(tenant.value)|\(userID)"]?.remove(hash) != nil }
    }

    public func recoveryCodesLeft(tenant: TenantName, userID: String) async throws -> Int {
        state.withLock { $0.recoveryCodes["\(tenant.value)|\(userID)"]?.count ?? 0 }
    }

    public func setUserLanguage(tenant: TenantName, id: String, language: String) async throws {
        state.withLock { $0.users[tenant]?[id]?.language = language }
    }

    public func enqueue(_ message: OutboxMessage) async throws {
        state.withLock { $0.outbox[message.id] = message }
    }

    public func dueMessages(now: Date, limit: Int, kind: String?) async throws -> [OutboxMessage] {
        state.withLock { state in
            Array(
                state.outbox.values.filter {
                    $0.kind != OutboxKind.none && (kind == nil || $0.kind == kind) && ($0.nextAttemptAt ?? .distantFuture) <= now
                }
                .sorted { ($0.nextAttemptAt ?? .distantFuture, $0.id) < ($1.nextAttemptAt ?? .distantFuture, $1.id) }
                .prefix(max(0, limit)))
        }
    }

    public func completeMessage(id: String) async throws -> Bool {
        state.withLock { $0.outbox.removeValue(forKey: id) != nil }
    }

    public func deferMessage(id: String, attempts: Int, nextAttemptAt: Date?, lastError: String) async throws {
        state.withLock { state in
            guard var message = state.outbox[id] else { return }
            message.attempts = attempts
            message.nextAttemptAt = nextAttemptAt
            message.lastError = lastError
            if nextAttemptAt == nil { message.payload = "" }
            state.outbox[id] = message
        }
    }

    public func outboxMessages(tenant: String?, limit: Int) async throws -> [OutboxMessage] {
        state.withLock { state in
            Array(
                state.outbox.values.filter { tenant == nil || $0.tenant == tenant }
                    .sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.prefix(max(0, limit)))
        }
    }

    public func outboxDepth() async throws -> (pending: Int, abandoned: Int) {
        state.withLock { state in
            let pending = state.outbox.values.filter { $0.nextAttemptAt != nil }.count
            return (pending, state.outbox.count - pending)
        }
    }

    public func purgeOutbox(createdBefore cutoff: Date, limit: Int) async throws -> Int {
        state.withLock { state in
            let old = state.outbox.values.filter { $0.createdAt < cutoff }.prefix(max(0, limit)).map(\.id)
            for id in old { state.outbox.removeValue(forKey: id) }
            return old.count
        }
    }
}
