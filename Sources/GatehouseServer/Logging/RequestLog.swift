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

    public func text(_ line: Line, now: Date) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(320)
        out.append(contentsOf: clock.text(now).utf8)
        out.append(contentsOf: " info ".utf8)
        TextLogLine.append(label, to: &out)
        out.append(UInt8(ascii: ":"))
        line.forEachField { key, value in
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: key.utf8)
            out.append(UInt8(ascii: "="))
            switch value {
            case .text(let text): TextLogLine.appendValue(text, to: &out)
            case .number(let number): out.append(contentsOf: String(number).utf8)
            }
        }
        out.append(contentsOf: " [GatehouseServer] request\n".utf8)
        return out
    }

    public func json(_ line: Line, now: Date) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(360)
        out.append(contentsOf: #"{"time":""#.utf8)
        out.append(contentsOf: JSONLogLine.timestamp(now).utf8)
        out.append(contentsOf: #"","level":"info","logger":"#.utf8)
        JSONText.appendString(label, to: &out)
        out.append(contentsOf: #","message":"request""#.utf8)
        line.forEachField { key, value in
            out.append(contentsOf: ",\"\(key)\":".utf8)
            switch value {
            case .text(let text): JSONText.appendString(text, to: &out)
            case .number(let number): out.append(contentsOf: String(number).utf8)
            }
        }
        out.append(contentsOf: "}\n".utf8)
        return out
    }
}

extension RequestLog.Line {
    public enum FieldValue: Sendable {
        case text(String)
        case number(Int)
    }

    /// The line's fields besides time, level, logger and message, in key order (the order a
    /// `Logger` line sorts them in), with the lengths tenant and client are cut to: one list for
    /// the text and JSON lines and for the logger's metadata (`TraceMiddleware.lineMetadata`).
    public func forEachField(_ body: (String, FieldValue) -> Void) {
        if let client = notes.clientID { body("client_id", .text(String(client.prefix(128)))) }
        if let code = notes.code { body("code", .number(code)) }
        body("correlation_id", .text(correlationID))
        body("latency_ms", .text(TraceMiddleware.milliseconds(elapsed)))
        body("method", .text(method))
        body("route", .text(route))
        body("status", .number(status))
        if let tenant = notes.tenant { body("tenant", .text(String(tenant.prefix(64)))) }
        body("trace_id", .text(traceID))
        if let parentTraceID { body("w3c_trace_id", .text(parentTraceID)) }
    }
}

/// The text format's timestamp, formatted once per second.
final class SecondClock: Sendable {
    private let cached = Mutex<(second: Int, text: String)>((-1, ""))

    func text(_ date: Date) -> String {
        let second = Int(date.timeIntervalSince1970.rounded(.down))
        if let hit = cached.withLock({ $0.second == second ? $0.text : nil }) { return hit }
        let text = TextLogLine.timestamp(date)
        cached.withLock { $0 = (second, text) }
        return text
    }
}
