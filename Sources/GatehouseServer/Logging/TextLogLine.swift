import Foundation
import Logging

/// The default log format (`--log-format text`), one line per event, like swift-log's stream
/// handler: `2026-12-02T07:29:34+0000 info gatehouse: key=value … [Source] message`, metadata
/// sorted by key. No logged value can break a line: control characters (C0, DEL, C1, and the
/// Unicode line and paragraph separators) in the message and in every metadata value are written
/// as escapes (`\n`, `\r`, `\t`, `\u{1b}`), so a request parameter such as
/// `x\n2026-01-01 critical gatehouse: FORGED` stays on its own line, and so are the Unicode
/// bidirectional controls (U+202A-202E, U+2066-2069, U+200E/200F, U+061C), which would make a
/// line read differently from what it holds. A metadata value that is empty or holds a space, `=`
/// or `"` is written in double quotes (`"` and `\` inside escaped), so that a value such as
/// `a code=0 status=200` cannot pass for fields of its own. Written by `LineLogHandler`.
public enum TextLogLine {
    /// The line for one event, newline included.
    public static func line(
        time: Date, level: Logger.Level, label: String, source: String, message: String, metadata: Logger.Metadata
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + metadata.count * 48 + message.utf8.count)
        out.append(contentsOf: timestamp(time).utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: level.rawValue.utf8)
        out.append(UInt8(ascii: " "))
        append(label, to: &out)
        out.append(UInt8(ascii: ":"))
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            out.append(UInt8(ascii: " "))
            append(key, to: &out)
            out.append(UInt8(ascii: "="))
            if case .string(let text) = value { appendValue(text, to: &out) } else { appendValue(render(value), to: &out) }
        }
        out.append(contentsOf: " [".utf8)
        append(source, to: &out)
        out.append(contentsOf: "] ".utf8)
        append(message, to: &out)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// Appends `text`, escaped.
    static func append(_ text: String, to out: inout [UInt8]) {
        let plain = text.utf8.withContiguousStorageIfAvailable { bytes in
            guard bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if plain != true { out.append(contentsOf: escape(text).utf8) }
    }

    /// Appends a field's value: escaped, and quoted when it is empty or holds a space, `=` or `"`.
    static func appendValue(_ text: String, to out: inout [UInt8]) {
        let plain = text.utf8.withContiguousStorageIfAvailable { bytes in
            guard !bytes.isEmpty,
                bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "\"") })
            else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if plain == true { return }
        guard text.isEmpty || text.utf8.contains(where: { $0 == 0x20 || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "\"") }) else {
            out.append(contentsOf: escape(text).utf8)
            return
        }
        // Inside the quotes `\` and `"` are escaped first, then the controls.
        let quoted = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: escape(quoted).utf8)
        out.append(UInt8(ascii: "\""))
    }

    static func render(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): "[" + values.map(render).joined(separator: ", ") + "]"
        case .dictionary(let values):
            "[" + values.sorted { $0.key < $1.key }.map { "\($0.key): \(render($0.value))" }.joined(separator: ", ") + "]"
        }
    }

    /// The text with every control character replaced by a visible escape.
    public static func escape(_ text: String) -> String {
        // Fast path: plain ASCII without controls is by far the common case.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: out.append(contentsOf: "\\n".unicodeScalars)
            case 0x0D: out.append(contentsOf: "\\r".unicodeScalars)
            case 0x09: out.append(contentsOf: "\\t".unicodeScalars)
            case 0x00..<0x20, 0x7F..<0xA0, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C:
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// `2026-12-02T07:29:34+0000`, UTC, to the second.
    static func timestamp(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):"
            + "\(two(parts.tm_sec))+0000"
    }

    static func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : String(value) }
}
