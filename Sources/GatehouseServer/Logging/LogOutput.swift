import Foundation
import Logging
import Synchronization

/// The two log formats (`--log-format`).
public enum LogFormat: Sendable { case text, json }

/// The log handler `serve` installs for every logger: merges the logger's, the provider's and the
/// event's metadata, formats the event as one line (`TextLogLine`, `JSONLogLine`) and hands
/// it to a sink whole.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let sink: any LogSink
    let format: LogFormat

    public init(label: String, sink: any LogSink, format: LogFormat, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.sink = sink
        self.format = format
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { merged.merge(provided) { _, provided in provided } }
        if let explicit = event.metadata, !explicit.isEmpty { merged.merge(explicit) { _, explicit in explicit } }
        let message = event.message.description
        let line =
            switch format {
            case .text:
                TextLogLine.line(
                    time: Date(), level: event.level, label: label, source: event.source, message: message, metadata: merged)
            case .json: JSONLogLine.line(time: Date(), level: event.level, label: label, message: message, metadata: merged)
            }
        sink.write(line, urgent: event.level >= .warning)
    }
}

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
                Thread.sleep(forTimeInterval: Double(interval.nanoseconds) / 1e9)
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
