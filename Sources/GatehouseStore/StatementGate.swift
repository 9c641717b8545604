import Logging
import NIOCore
import SQLKit
import Synchronization

/// Keeps the statements of other requests out of a transaction on a connection that every
/// request shares (SQLite's one connection): statements run side by side as usual, but while a
/// transaction holds the connection they wait, and a transaction waits for the statements in
/// flight to finish before it begins. A readers-writer lock with continuations: no thread blocks.
final class StatementGate: Sendable {
    private struct State {
        var running = 0
        var exclusive = false
        var statementWaiters: [CheckedContinuation<Void, Never>] = []
        var transactionWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func enterStatement() async {
        let entered = state.withLock { state -> Bool in
            guard !state.exclusive && state.transactionWaiters.isEmpty else { return false }
            state.running += 1
            return true
        }
        if entered { return }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                guard !state.exclusive && state.transactionWaiters.isEmpty else {
                    state.statementWaiters.append(continuation)
                    return false
                }
                state.running += 1
                return true
            }
            if now { continuation.resume() }
        }
    }

    func leaveStatement() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.running -= 1
            guard state.running == 0, !state.exclusive, !state.transactionWaiters.isEmpty else { return nil }
            state.exclusive = true
            return state.transactionWaiters.removeFirst()
        }
        next?.resume()
    }

    func enterTransaction() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                guard !state.exclusive && state.running == 0 else {
                    state.transactionWaiters.append(continuation)
                    return false
                }
                state.exclusive = true
                return true
            }
            if now { continuation.resume() }
        }
    }

    /// Statements that waited go first (all of them); else the next transaction.
    func leaveTransaction() {
        let (transaction, statements) = state.withLock { state -> (CheckedContinuation<Void, Never>?, [CheckedContinuation<Void, Never>]) in
            if !state.statementWaiters.isEmpty {
                let waiting = state.statementWaiters
                state.statementWaiters = []
                state.exclusive = false
                state.running += waiting.count
                return (nil, waiting)
            }
            if !state.transactionWaiters.isEmpty { return (state.transactionWaiters.removeFirst(), []) }
            state.exclusive = false
            return (nil, [])
        }
        transaction?.resume()
        for statement in statements { statement.resume() }
    }
}

/// A database whose every statement passes the gate (`StatementGate`), except those of the
/// transaction that holds it, which run on the inner database directly (`SQLStore.transaction`).
struct GatedSQLDatabase: SQLDatabase {
    let inner: any SQLDatabase
    let gate: StatementGate
    let metrics: DatabaseMetrics

    var logger: Logger { inner.logger }
    var eventLoop: any EventLoop { inner.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { inner.version }
    var dialect: any SQLDialect { inner.dialect }
    var queryLogLevel: Logger.Level? { inner.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        eventLoop.makeFutureWithTask { try await self.execute(sql: query, onRow) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        let asked = ContinuousClock.now
        await gate.enterStatement()
        defer { gate.leaveStatement() }
        do {
            try await metrics.leased(since: asked) { try await inner.execute(sql: query, onRow) }
        } catch {
            throw StoreFailure.classified(error)
        }
    }
}
