import Foundation

/// Trace IDs: UUID version 7 (RFC 9562 §5.7), still a GUID as Entra's clients expect, but
/// ordered by the time the request arrived. The sign-in log uses that time to tell which
/// aggregate a trace ID that was not kept whole belongs to.
public enum TraceID {
    /// A new trace ID: 48 bits of Unix time in milliseconds, the version, and 74 random bits.
    public static func make(now: Date, random: RandomSource) -> String {
        var raw = random.bytes(16)
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        for index in 0..<6 { raw[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - UInt64(index)))) }
        raw[6] = (raw[6] & 0x0F) | 0x70
        raw[8] = (raw[8] & 0x3F) | 0x80
        return format(raw)
    }

    /// When a version 7 trace ID was minted, to the millisecond; nil for anything else.
    public static func time(of traceID: String) -> Date? {
        let hex = traceID.utf8.filter { $0 != UInt8(ascii: "-") }
        guard traceID.utf8.count == 36, hex.count == 32, Array(hex)[12] == UInt8(ascii: "7") else { return nil }
        guard let milliseconds = UInt64(String(decoding: hex.prefix(12), as: UTF8.self), radix: 16) else { return nil }
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    static func format(_ raw: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(36)
        for (index, byte) in raw.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { output.append(UInt8(ascii: "-")) }
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
