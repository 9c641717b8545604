import Foundation
import GatehouseCore
import Logging

/// Writes each log event as one JSON object on one line (`--log-format json`): `time` (RFC 3339,
/// UTC, microseconds), `level`, `logger`, `message`, then the metadata's keys (the logger's, the
/// provider's and the event's; a request line has trace and correlation IDs, tenant, client,
/// route, status, catalogue code and latency). Strings are JSON-escaped, every control character
/// (and U+2028/U+2029) as `\uXXXX`, so no value can break or forge a line. Lines go to a
/// `LogSink` whole (`BufferedLogOutput`: never interleaved, warnings written at once), through
/// `LineLogHandler`.
public enum JSONLogLine {
    /// The line for one event, newline included.
    public static func line(time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + metadata.count * 40)
        out.append(contentsOf: #"{"time":""#.utf8)
        out.append(contentsOf: timestamp(time).utf8)
        out.append(contentsOf: #"","level":""#.utf8)
        out.append(contentsOf: level.rawValue.utf8)
        out.append(contentsOf: #"","logger":"#.utf8)
        JSONText.appendString(label, to: &out)
        out.append(contentsOf: #","message":"#.utf8)
        JSONText.appendString(message, to: &out)
        for key in metadata.keys.sorted() where !["time", "level", "logger", "message"].contains(key) {
            guard let value = metadata[key] else { continue }
            out.append(UInt8(ascii: ","))
            JSONText.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendValue(value, to: &out)
        }
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    static func appendValue(_ value: Logger.Metadata.Value, to out: inout [UInt8]) {
        switch value {
        case .string(let text): JSONText.appendString(text, to: &out)
        case .stringConvertible(let convertible):
            // Numbers stay numbers (a status, a code); everything else is a string.
            if let number = convertible as? Int {
                out.append(contentsOf: String(number).utf8)
            } else {
                JSONText.appendString(convertible.description, to: &out)
            }
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendValue(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let values):
            out.append(UInt8(ascii: "{"))
            for (index, key) in values.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                if let element = values[key] { appendValue(element, to: &out) }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// `2026-12-02T07:29:34.123456Z`.
    static func timestamp(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        let seconds = Int(interval.rounded(.down))
        let micros = Int((interval - Double(seconds)) * 1_000_000)
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : String(value) }
        let fraction = String(micros)
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):"
            + "\(two(parts.tm_sec)).\(String(repeating: "0", count: max(0, 6 - fraction.count)))\(fraction)Z"
    }
}
