import Foundation

/// A CBOR data item (RFC 8949), as far as WebAuthn needs it: attestation objects, COSE keys and
/// extension outputs. Integers keep their sign apart (`negative(n)` is -1 - n), so every 64-bit
/// value is exact.
public indirect enum CBOR: Sendable, Hashable {
    case unsigned(UInt64)
    /// The negative integer -1 - n.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    /// Key-value pairs in the order they came (keys are unique: `CBORDecoder` refuses duplicates).
    case map([Pair])
    case tagged(UInt64, CBOR)
    case bool(Bool)
    case null
    case undefined
    case float(Double)
    /// A simple value other than false, true, null and undefined.
    case simple(UInt8)

    public struct Pair: Sendable, Hashable {
        public let key: CBOR
        public let value: CBOR
        public init(_ key: CBOR, _ value: CBOR) {
            self.key = key
            self.value = value
        }
    }

    /// The integer, if it is one that fits an `Int` (COSE labels and algorithm numbers).
    public var int: Int? {
        switch self {
        case .unsigned(let n): n <= UInt64(Int.max) ? Int(n) : nil
        case .negative(let n): n <= UInt64(Int.max) ? -1 - Int(n) : nil
        default: nil
        }
    }

    /// The value of a map entry with an integer key (COSE) or a text key (attestation objects).
    public subscript(_ key: Int) -> CBOR? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.first { $0.key.int == key }?.value
    }

    public subscript(_ key: String) -> CBOR? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.first { $0.key == .text(key) }?.value
    }

    public var byteString: [UInt8]? {
        if case .bytes(let bytes) = self { return bytes }
        return nil
    }

    public var textString: String? {
        if case .text(let text) = self { return text }
        return nil
    }
}

/// A strict CBOR decoder for data from outside: definite lengths only, a depth limit, a limit on
/// the items of a document, valid UTF-8 text, unique map keys, and (for `decode`) nothing after
/// the item. Each refusal says what and where.
public struct CBORDecoder: Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case truncated(at: Int)
        case indefiniteLength(at: Int)
        case reservedAdditionalInfo(at: Int)
        case tooDeep(at: Int)
        case tooManyItems
        case tooLong(at: Int)
        case invalidUTF8(at: Int)
        case duplicateKey(at: Int)
        case trailingBytes(at: Int)
        case invalidSimpleValue(at: Int)

        public var description: String {
            switch self {
            case .truncated(let at): "CBOR ends inside an item at byte \(at)"
            case .indefiniteLength(let at): "indefinite-length CBOR item at byte \(at) (only definite lengths are accepted)"
            case .reservedAdditionalInfo(let at): "reserved CBOR additional information at byte \(at)"
            case .tooDeep(let at): "CBOR nested too deep at byte \(at)"
            case .tooManyItems: "too many CBOR items"
            case .tooLong(let at): "CBOR length at byte \(at) is longer than the input"
            case .invalidUTF8(let at): "CBOR text at byte \(at) is not valid UTF-8"
            case .duplicateKey(let at): "duplicate CBOR map key at byte \(at)"
            case .trailingBytes(let at): "bytes after the CBOR item, from byte \(at)"
            case .invalidSimpleValue(let at): "a two-byte CBOR simple value below 32 at byte \(at)"
            }
        }
    }

    public var maximumDepth = 16
    public var maximumItems = 4096

    public init() {}

    /// Exactly one item: anything after it is refused.
    public func decode(_ bytes: [UInt8]) throws(Failure) -> CBOR {
        let (item, end) = try decodePrefix(bytes, from: 0)
        guard end == bytes.count else { throw .trailingBytes(at: end) }
        return item
    }

    /// The item that starts at `start`, and where it ends (authenticator data carries a COSE key
    /// followed by extensions).
    public func decodePrefix(_ bytes: [UInt8], from start: Int) throws(Failure) -> (CBOR, end: Int) {
        var reader = Reader(bytes: bytes, offset: start, maximumDepth: maximumDepth, itemsLeft: maximumItems)
        let item = try reader.item(depth: 0)
        return (item, reader.offset)
    }

    struct Reader {
        let bytes: [UInt8]
        var offset: Int
        let maximumDepth: Int
        var itemsLeft: Int

        mutating func byte() throws(Failure) -> UInt8 {
            guard offset < bytes.count else { throw .truncated(at: offset) }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func take(_ count: UInt64, from start: Int) throws(Failure) -> ArraySlice<UInt8> {
            guard count <= UInt64(bytes.count - offset) else { throw .tooLong(at: start) }
            let end = offset + Int(count)
            defer { offset = end }
            return bytes[offset..<end]
        }

        /// The argument of an initial byte's additional information.
        mutating func argument(_ info: UInt8, at start: Int) throws(Failure) -> UInt64 {
            switch info {
            case 0...23: return UInt64(info)
            case 24...27:
                let width = 1 << Int(info - 24)
                guard width <= bytes.count - offset else { throw .truncated(at: offset) }
                return try take(UInt64(width), from: start).reduce(0) { $0 << 8 | UInt64($1) }
            case 31: throw .indefiniteLength(at: start)
            default: throw .reservedAdditionalInfo(at: start)
            }
        }

        mutating func item(depth: Int) throws(Failure) -> CBOR {
            guard depth <= maximumDepth else { throw .tooDeep(at: offset) }
            guard itemsLeft > 0 else { throw .tooManyItems }
            itemsLeft -= 1
            let start = offset
            let initial = try byte()
            let major = initial >> 5
            let info = initial & 0x1f
            if major == 7 { return try simpleOrFloat(info, at: start) }
            let value = try argument(info, at: start)
            switch major {
            case 0: return .unsigned(value)
            case 1: return .negative(value)
            case 2: return .bytes(Array(try take(value, from: start)))
            case 3:
                guard let text = String(validating: try take(value, from: start), as: UTF8.self) else { throw .invalidUTF8(at: start) }
                return .text(text)
            case 4:
                // Every element takes at least a byte: a count beyond the input is refused before any work.
                guard value <= UInt64(bytes.count - offset) else { throw .tooLong(at: start) }
                var elements: [CBOR] = []
                elements.reserveCapacity(Int(value))
                for _ in 0..<value { elements.append(try item(depth: depth + 1)) }
                return .array(elements)
            case 5:
                guard value <= UInt64(bytes.count - offset) / 2 else { throw .tooLong(at: start) }
                var pairs: [CBOR.Pair] = []
                var keys = Set<CBOR>()
                for _ in 0..<value {
                    let keyStart = offset
                    let key = try item(depth: depth + 1)
                    guard keys.insert(key).inserted else { throw .duplicateKey(at: keyStart) }
                    pairs.append(CBOR.Pair(key, try item(depth: depth + 1)))
                }
                return .map(pairs)
            default:  // 6
                return .tagged(value, try item(depth: depth + 1))
            }
        }

        mutating func simpleOrFloat(_ info: UInt8, at start: Int) throws(Failure) -> CBOR {
            switch info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            case 23: return .undefined
            case 0...19: return .simple(info)
            case 24:
                let value = try byte()
                guard value >= 32 else { throw .invalidSimpleValue(at: start) }
                return .simple(value)
            case 25:
                let bits = try take(2, from: start).reduce(UInt16(0)) { $0 << 8 | UInt16($1) }
                return .float(Self.half(bits))
            case 26:
                let bits = try take(4, from: start).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                return .float(Double(Float(bitPattern: bits)))
            case 27:
                let bits = try take(8, from: start).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                return .float(Double(bitPattern: bits))
            case 31: throw .indefiniteLength(at: start)
            default: throw .reservedAdditionalInfo(at: start)
            }
        }

        /// IEEE 754 half precision (RFC 8949 Appendix D).
        static func half(_ bits: UInt16) -> Double {
            let exponent = Int((bits >> 10) & 0x1f)
            let mantissa = Double(bits & 0x3ff)
            let magnitude: Double
            switch exponent {
            case 0: magnitude = mantissa * pow(2, -24)
            case 31: magnitude = mantissa == 0 ? .infinity : .nan
            default: magnitude = (mantissa + 1024) * pow(2, Double(exponent - 25))
            }
            return bits & 0x8000 != 0 ? -magnitude : magnitude
        }
    }
}
