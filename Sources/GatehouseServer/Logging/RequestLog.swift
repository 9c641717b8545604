import Foundation
import GatehouseCore
import Logging
import Synchronization

/// The one line per request (`info`), written straight to the log output in the log's format:
/// the same fields a `Logger` line would carry (time, level, logger, message `request`, trace and
/// correlation IDs, method, route, status, latency, tenant, client, catalogue code, W3C trace ID),
/// without building and sorting a metadata dictionary for every request, which cost more than a
/// fifth of a client credentials request (BENCHMARKS.md). `serve` uses it when the level is `info`
/// or lower and tracing is off (with tracing on, the logger's line carries the span's IDs).
public struct RequestLog: Sendable {
    let sink: any LogSink
    let format: LogFormat
    let label: String
    private let clock = SecondClock()

    public init(sink: any LogSink, format: LogFormat, label: String = "gatehouse") {
        self.sink = sink
        self.format = format
        self.label = label
    }

    public struct Line: Sendable {
        public var traceID: String
        public var correlationID: String
        public var method: String
        public var route: String
        public var status: Int
        public var elapsed: Duration
        public var notes: RequestNotes.Fields
        public var parentTraceID: String?

        public init(
            traceID: String, correlationID: String, method: String, route: String, status: Int, elapsed: Duration,
            notes: RequestNotes.Fields, parentTraceID: String?
        ) {
            (self.traceID, self.correlationID, self.method, self.route) = (traceID, correlationID, method, route)
            (self.status, self.elapsed, self.notes, self.parentTraceID) = (status, elapsed, notes, parentTraceID)
        }
    }

    func write(_ line: Line, now: Date = Date()) {
        sink.write(format == .json ? json(line, now: now) : text(line, now: now), urgent: false)
    }

    /// Keys in the order a `Logger` line has them (sorted), so both paths read the same.
    public func text(_ line: Line, now: Date) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(320)
        out.append(contentsOf: clock.text(now).utf8)
        out.append(contentsOf: " info ".utf8)
        TextLogHandler.append(label, to: &out)
        out.append(UInt8(ascii: ":"))
        func field(_ key: String, _ value: String) {
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: key.utf8)
            out.append(UInt8(ascii: "="))
            TextLogHandler.append(value, to: &out)
        }
        if let client = line.notes.clientID { field("client_id", String(client.prefix(128))) }
        if let code = line.notes.code { field("code", String(code)) }
        field("correlation_id", line.correlationID)
        field("latency_ms", TraceMiddleware.milliseconds(line.elapsed))
        field("method", line.method)
        field("route", line.route)
        field("status", String(line.status))
        if let tenant = line.notes.tenant { field("tenant", String(tenant.prefix(64))) }
        field("trace_id", line.traceID)
        if let parent = line.parentTraceID { field("w3c_trace_id", parent) }
        out.append(contentsOf: " [GatehouseServer] request\n".utf8)
        return out
    }

    public func json(_ line: Line, now: Date) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(360)
        out.append(contentsOf: #"{"time":""#.utf8)
        out.append(contentsOf: JSONLogHandler.timestamp(now).utf8)
        out.append(contentsOf: #"","level":"info","logger":"#.utf8)
        JSONText.appendString(label, to: &out)
        out.append(contentsOf: #","message":"request""#.utf8)
        func field(_ key: String, _ value: String) {
            out.append(contentsOf: ",\"\(key)\":".utf8)
            JSONText.appendString(value, to: &out)
        }
        func number(_ key: String, _ value: Int) {
            out.append(contentsOf: ",\"\(key)\":\(value)".utf8)
        }
        if let client = line.notes.clientID { field("client_id", String(client.prefix(128))) }
        if let code = line.notes.code { number("code", code) }
        field("correlation_id", line.correlationID)
        field("latency_ms", TraceMiddleware.milliseconds(line.elapsed))
        field("method", line.method)
        field("route", line.route)
        number("status", line.status)
        if let tenant = line.notes.tenant { field("tenant", String(tenant.prefix(64))) }
        field("trace_id", line.traceID)
        if let parent = line.parentTraceID { field("w3c_trace_id", parent) }
        out.append(contentsOf: "}\n".utf8)
        return out
    }
}

/// The text format's timestamp, formatted once per second.
final class SecondClock: Sendable {
    private let cached = Mutex<(second: Int, text: String)>((-1, ""))

    func text(_ date: Date) -> String {
        let second = Int(date.timeIntervalSince1970.rounded(.down))
        if let hit = cached.withLock({ $0.second == second ? $0.text : nil }) { return hit }
        let text = TextLogHandler.timestamp(date)
        cached.withLock { $0 = (second, text) }
        return text
    }
}
