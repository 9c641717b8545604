import Foundation
import Synchronization

/// Where formatted log lines go.
public protocol LogSink: Sendable {
    /// Takes one whole line (newline included). `urgent` lines (warning and above) are written at
    /// once, with every line before them.
    func write(_ line: [UInt8], urgent: Bool)
}

/// Log lines to a file descriptor (standard error), written in batches: a line at `info` or
/// below joins a buffer that is written when it reaches 64 KiB or when `interval` (50 ms) has
/// passed; a warning or worse is written at once, after what was buffered. Lines keep their order
/// and are never split. A request line then costs a copy instead of a system call; what a kill -9
/// can lose is the last 50 ms of info lines, as the sign-in log can lose its last 100 ms.
/// `serve` flushes it when it stops.
public final class BufferedLogOutput: LogSink {
    private let descriptor: Int32
    private let limit: Int
    private let buffer = Mutex<[UInt8]>([])

    public init(descriptor: Int32 = STDERR_FILENO, interval: Duration = .milliseconds(50), limit: Int = 64 * 1024) {
        self.descriptor = descriptor
        self.limit = limit
        // A thread of its own: the timer must not depend on the cooperative pool being free.
        let flusher = Thread { [weak self] in
            while let output = self {
                output.flush()
                Thread.sleep(forTimeInterval: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)
            }
        }
        flusher.name = "gatehouse-log-flush"
        flusher.start()
    }

    public func write(_ line: [UInt8], urgent: Bool) {
        buffer.withLock { buffer in
            buffer.append(contentsOf: line)
            // Written under the lock, so that lines stay in order.
            if urgent || buffer.count >= limit { drain(&buffer) }
        }
    }

    /// Writes whatever is buffered.
    public func flush() {
        buffer.withLock { buffer in if !buffer.isEmpty { drain(&buffer) } }
    }

    private func drain(_ buffer: inout [UInt8]) {
        buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count, let base = bytes.baseAddress {
                let written = Foundation.write(descriptor, base + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    break  // nowhere to write: drop rather than block requests
                }
            }
        }
        buffer.removeAll(keepingCapacity: buffer.capacity <= 4 * limit)
    }
}
