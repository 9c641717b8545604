import Foundation
import GatehouseCore
import Logging
import ServiceLifecycle
import Synchronization

/// Writes sign-in events off the request path: requests append to a bounded in-memory buffer,
/// this service writes it in batches. A graceful shutdown (SIGTERM) ends after a final flush, so
/// a clean shutdown loses nothing; only a full buffer drops events, and they are counted.
public final class SignInLogWriter: Service {
    private let store: any SignInLogStore
    private let capacity: Int
    private let interval: Duration
    private let logger: Logger
    private let buffer = Mutex<[SignInEvent]>([])
    private let droppedCount = Atomic<Int>(0)
    private let writtenCount = Atomic<Int>(0)

    public init(
        store: any SignInLogStore, capacity: Int = 200_000, interval: Duration = .milliseconds(100),
        logger: Logger = Logger(label: "gatehouse.signins")
    ) {
        self.store = store
        self.capacity = capacity
        self.interval = interval
        self.logger = logger
    }

    /// Queues an event. Never blocks and never waits for the database.
    public func record(_ event: SignInEvent) {
        let accepted = buffer.withLock { buffer in
            guard buffer.count < capacity else { return false }
            buffer.append(event)
            return true
        }
        if !accepted { droppedCount.add(1, ordering: .relaxed) }
    }

    public var dropped: Int { droppedCount.load(ordering: .relaxed) }
    public var written: Int { writtenCount.load(ordering: .relaxed) }
    public var pending: Int { buffer.withLock { $0.count } }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            await flush()
        }
        await flush()
        logger.info("sign-in log writer stopped", metadata: ["written": "\(written)", "dropped": "\(dropped)"])
    }

    /// Writes everything buffered now. On a database error the batch goes back to the buffer.
    public func flush() async {
        while true {
            let batch = buffer.withLock { buffer -> [SignInEvent] in
                let taken = Array(buffer.prefix(5_000))
                buffer.removeFirst(taken.count)
                return taken
            }
            if batch.isEmpty { return }
            do {
                try await store.append(batch)
                writtenCount.add(batch.count, ordering: .relaxed)
            } catch {
                logger.error("sign-in log write failed; will retry", metadata: ["error": "\(error)", "events": "\(batch.count)"])
                buffer.withLock { buffer in buffer.insert(contentsOf: batch.prefix(max(0, capacity - buffer.count)), at: 0) }
                return
            }
        }
    }
}
