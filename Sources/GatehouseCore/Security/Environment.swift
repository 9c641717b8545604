import Foundation

/// Injected time and randomness, so that tests control both.
public struct TimeSource: Sendable {
    public let now: @Sendable () -> Date
    public init(now: @escaping @Sendable () -> Date) { self.now = now }
    public static let system = TimeSource { Date() }
}

public struct RandomSource: Sendable {
    public let bytes: @Sendable (Int) -> [UInt8]
    public init(bytes: @escaping @Sendable (Int) -> [UInt8]) { self.bytes = bytes }

    /// The system's CSPRNG.
    public static let system = RandomSource { count in
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = generator.next()
            for _ in 0..<min(8, count - index) {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return bytes
    }

    /// A base64url token of `byteCount` random bytes (32 bytes = 256 bits).
    public func token(byteCount: Int = 32) -> String { Base64URL.encode(bytes(byteCount)) }

    /// A random version 4 GUID in its lowercase text form, e.g. for trace IDs.
    public func guidString() -> String {
        var raw = bytes(16)
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        let hex = Array(hexString(raw).utf8)
        var output: [UInt8] = []
        output.reserveCapacity(36)
        for (index, byte) in hex.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { output.append(UInt8(ascii: "-")) }
            output.append(byte)
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// A random RFC 4122 version 4 UUID.
    public func uuid() -> UUID {
        var raw = bytes(16)
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7], raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14],
                raw[15]
            ))
    }
}

extension Duration {
    /// Whole nanoseconds (saturating): for swift-metrics timers, latencies and log lines.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product + attoseconds / 1_000_000_000
    }
}
