import CoreMetrics
import Foundation
import GatehouseCore
import Logging
import ServiceLifecycle

/// Sends what the outbox holds, on one node at a time (the node holding the `outbox` lease,
/// renewed each pass and taken over by another node three intervals after its holder stops).
/// Each pass deletes the due decoys in one statement, then takes the rows that are due, batch
/// after batch, delivers each (a mail through `transport`) and deletes it once delivered, or records the failure and the next attempt
/// (`OutboxPolicy`: 5 s, doubling, at most 15 minutes apart, given up after 3 days). A node
/// stopped between a delivery and its deletion delivers that row again from the next pass: at
/// least once, at most a duplicate with the same `Message-ID`.
public struct OutboxSender: Service {
    public typealias Store = OutboxStore & LeaseStore
    let store: any Store
    let transport: (any MailTransport)?
    /// Posts back-channel logout tokens; nil: such rows wait.
    let logouts: BackchannelLogoutSender?
    /// How long a logout delivery is tried (shorter than a mail: a day).
    let logoutPolicy: OutboxPolicy
    let box: SecretBox
    let policy: OutboxPolicy
    let time: TimeSource
    let interval: Duration
    /// How long a delivery may take at most (the transport's own deadline, plus a margin): before
    /// each one the lease is extended by this, so that no other node takes over mid-send. A node
    /// that dies while idle is replaced after three intervals, one that dies mid-send after this.
    let deliveryLease: Duration
    let batch: Int
    /// Batches one pass works through at most (a backlog is worked off without waiting).
    let maxBatches = 10
    /// Logout tokens posted at once.
    static let logoutWidth = 8
    let node: String
    let logger: Logger
    let depth: CoreMetrics.Gauge
    let abandonedDepth: CoreMetrics.Gauge
    let factory: any MetricsFactory

    public init(
        store: any Store, transport: (any MailTransport)?, logouts: BackchannelLogoutSender? = nil, box: SecretBox,
        policy: OutboxPolicy = OutboxPolicy(), logoutPolicy: OutboxPolicy = .logout, time: TimeSource = .system,
        interval: Duration = .seconds(2), deliveryLease: Duration = .seconds(90), batch: Int = 20, node: String = UUID().uuidString,
        logger: Logger = Logger(label: "gatehouse.outbox"), telemetry: Telemetry? = nil
    ) {
        self.store = store
        self.transport = transport
        self.logouts = logouts
        self.logoutPolicy = logoutPolicy
        self.box = box
        self.policy = policy
        self.time = time
        self.interval = interval
        self.deliveryLease = deliveryLease
        self.batch = max(1, batch)
        self.node = node
        self.logger = logger
        let factory = telemetry?.factory ?? NOOPMetricsHandler.instance
        self.factory = factory
        depth = CoreMetrics.Gauge(label: "gatehouse_outbox_depth", dimensions: [("state", "pending")], factory: factory)
        abandonedDepth = CoreMetrics.Gauge(label: "gatehouse_outbox_depth", dimensions: [("state", "abandoned")], factory: factory)
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval) { _ = await pass() }
    }

    /// What one pass did; nil when another node holds the lease (or the store failed).
    public struct Pass: Sendable, Equatable {
        public var sent = 0, failed = 0, abandoned = 0, discarded = 0
        public init(sent: Int = 0, failed: Int = 0, abandoned: Int = 0, discarded: Int = 0) {
            (self.sent, self.failed, self.abandoned, self.discarded) = (sent, failed, abandoned, discarded)
        }
    }

    @discardableResult
    public func pass() async -> Pass? {
        let now = time.now()
        do {
            guard try await store.acquireLease("outbox", holder: node, until: leaseExpiry(from: now, every: interval), now: now) else {
                return nil
            }
            var done = Pass()
            // Decoys in one statement, never in a batch: a flood of them cannot hold real mail back.
            done.discarded = try await store.discardDue(kind: OutboxKind.none, now: now)
            // Mail: batch after batch while they come back full (a backlog), up to `maxBatches` a pass.
            var lostLease = false
            for _ in 0..<maxBatches where !lostLease {
                let due = try await store.dueMessages(now: now, limit: batch, kind: OutboxKind.mail)
                for message in due {
                    if Task.isShuttingDownGracefully { break }
                    // Still this node's, for as long as a delivery can take; else another node sends.
                    let started = time.now()
                    let until = started.addingTimeInterval(Double(deliveryLease.components.seconds))
                    guard try await store.acquireLease("outbox", holder: node, until: until, now: started) else {
                        lostLease = true
                        break
                    }
                    await deliver(message, into: &done)
                }
                if due.count < batch || Task.isShuttingDownGracefully { break }
            }
            // Logout tokens after the mail, one batch a pass, `logoutWidth` posts at once (each
            // at most 5 s): relying parties that never answer cannot hold mail back, nor each other.
            if !lostLease, logouts != nil, !Task.isShuttingDownGracefully {
                let due = try await store.dueMessages(now: now, limit: batch, kind: OutboxKind.backchannelLogout)
                let started = time.now()
                let until = started.addingTimeInterval(Double(deliveryLease.components.seconds))
                if !due.isEmpty, try await store.acquireLease("outbox", holder: node, until: until, now: started) {
                    let width = Self.logoutWidth
                    await withTaskGroup(of: Pass.self) { group in
                        var next = due.makeIterator()
                        func start() -> Bool {
                            guard let message = next.next() else { return false }
                            group.addTask {
                                var one = Pass()
                                await deliver(message, into: &one)
                                return one
                            }
                            return true
                        }
                        for _ in 0..<width where !start() { break }
                        for await one in group {
                            done.sent += one.sent
                            done.failed += one.failed
                            done.abandoned += one.abandoned
                            _ = start()
                        }
                    }
                }
            }
            let (pending, abandoned) = try await store.outboxDepth()
            depth.record(pending)
            abandonedDepth.record(abandoned)
            return done
        } catch {
            logger.warning("outbox pass failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    private func deliver(_ message: OutboxMessage, into done: inout Pass) async {
        let kind = message.kind
        var logout: BackchannelLogoutDelivery? = nil
        do {
            switch kind {
            case OutboxKind.backchannelLogout:
                guard let logouts else { throw MailDeliveryError("back-channel logouts are not sent by this node") }
                let delivery = try BackchannelLogoutDelivery.opened(message)
                logout = delivery
                try await logouts.deliver(delivery)
                logouts.record(delivery, attempt: message.attempts + 1, failure: nil, givenUp: false)
                try await store.completeMessage(id: message.id)
                done.sent += 1
                count("gatehouse_outbox_sent_total", kind: kind)
            case OutboxKind.mail:
                guard let transport else { throw MailDeliveryError("no mail transport is configured") }
                try await transport.send(try MailMessage.opened(message, box: box), id: message.id)
                try await store.completeMessage(id: message.id)
                done.sent += 1
                count("gatehouse_outbox_sent_total", kind: kind)
                logger.info(
                    "outbox delivered", metadata: ["id": "\(message.id)", "kind": "\(kind)", "attempts": "\(message.attempts + 1)"])
            default:
                throw MailDeliveryError("no transport for outbox rows of kind '\(kind)'")
            }
        } catch {
            let attempts = message.attempts + 1
            let permanent =
                (error as? MailDeliveryError)?.permanent == true || error is SecretBoxError || error is DeliveryRefused
                || error is DecodingError
            let rowPolicy = kind == OutboxKind.backchannelLogout ? logoutPolicy : policy
            let next = permanent ? nil : rowPolicy.nextAttempt(after: attempts, createdAt: message.createdAt, now: time.now())
            let reason = String(Self.reason(error).prefix(1000))
            if let logout { logouts?.record(logout, attempt: attempts, failure: reason, givenUp: next == nil) }
            count("gatehouse_outbox_failures_total", kind: kind)
            if next == nil {
                done.abandoned += 1
                count("gatehouse_outbox_abandoned_total", kind: kind)
            } else {
                done.failed += 1
            }
            logger.warning(
                next == nil ? "outbox delivery given up" : "outbox delivery failed; will retry",
                metadata: [
                    "id": "\(message.id)", "kind": "\(kind)", "attempts": "\(attempts)", "error": "\(reason)",
                    "next_attempt": "\(next.map { "\($0)" } ?? "none")",
                ])
            do {
                try await store.deferMessage(id: message.id, attempts: attempts, nextAttemptAt: next, lastError: reason)
            } catch {
                logger.warning("outbox: recording a failed delivery failed", metadata: ["id": "\(message.id)", "error": "\(error)"])
            }
        }
    }

    /// A catalogue error by its message's facts (never the whole error with its private detail).
    static func reason(_ error: any Error) -> String {
        if let error = error as? CatalogueError {
            return error.parameters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                + " (\(error.entry.name))"
        }
        return "\(error)"
    }

    private func count(_ label: String, kind: String) {
        CoreMetrics.Counter(label: label, dimensions: [("kind", kind)], factory: factory).increment()
    }
}
