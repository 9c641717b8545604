import Logging

/// Wraps a log handler so that no logged value can break a log line: control characters
/// (C0, DEL, C1, and the Unicode line and paragraph separators) in the message and in every
/// metadata value are written as escapes (`\n`, `\r`, `\t`, `\u{1b}`), so a request parameter such
/// as `x\n2026-01-01 critical gatehouse: FORGED` stays on its own line. `gatehouse serve`
/// installs it around swift-log's stream handler for every logger of the process.
public struct EscapingLogHandler: LogHandler {
    public var inner: any LogHandler
    public var metadataProvider: Logger.MetadataProvider?

    public init(_ inner: any LogHandler) {
        var inner = inner
        // Metadata from a provider is merged and escaped here, not by the inner handler.
        self.metadataProvider = inner.metadataProvider
        inner.metadataProvider = nil
        inner.metadata = Self.escape(inner.metadata)
        self.inner = inner
    }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = Self.escape(newValue) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue.map(Self.escape) }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = Logger.Message(stringLiteral: Self.escape(event.message.description))
        var merged = metadataProvider?.get() ?? [:]
        if let metadata = event.metadata { merged.merge(metadata) { _, explicit in explicit } }
        event.metadata = merged.isEmpty ? nil : Self.escape(merged)
        inner.log(event: event)
    }

    static func escape(_ metadata: Logger.Metadata) -> Logger.Metadata {
        metadata.mapValues(escape)
    }

    static func escape(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(escape(text))
        case .stringConvertible(let convertible): .string(escape(convertible.description))
        case .array(let values): .array(values.map(escape))
        case .dictionary(let values): .dictionary(escape(values))
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
            case 0x00..<0x20, 0x7F..<0xA0, 0x2028, 0x2029:
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }
}
