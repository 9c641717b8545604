import Foundation

/// Where a document's members go: straight into bytes (`JSONBytesWriter`, the token endpoint's
/// hot path) or into a `Codable` encoder (`EncoderMemberWriter`). A type lists its members once,
/// in a `writeMembers(to:)` generic over this protocol, and both encodings come from that list.
public protocol JSONMemberWriter {
    mutating func write(_ key: StaticString, _ value: String)
    mutating func write(_ key: StaticString, _ value: Int)
    mutating func write(_ key: StaticString, _ values: [String])
    /// A member whose name is data (a dialect's additional claims).
    mutating func write(_ key: String, _ value: AdditionalClaims.Value)
    /// A nested object (`cnf`), its members written by `members`.
    mutating func writeObject(_ key: StaticString, _ members: (inout Self) -> Void)
}

extension JSONMemberWriter {
    public mutating func writeIfPresent(_ key: StaticString, _ value: String?) {
        if let value { write(key, value) }
    }

    public mutating func writeIfPresent(_ key: StaticString, _ value: Int?) {
        if let value { write(key, value) }
    }
}

/// Writes one JSON object as bytes, members in the order they are written.
public struct JSONBytesWriter: JSONMemberWriter {
    private var bytes: [UInt8]
    private var first = true

    public init(capacity: Int = 256) {
        bytes = [UInt8(ascii: "{")]
        bytes.reserveCapacity(capacity)
    }

    private mutating func key(_ key: StaticString) {
        JSONText.appendKey(key, to: &bytes, first: first)
        first = false
    }

    public mutating func write(_ key: StaticString, _ value: String) {
        self.key(key)
        JSONText.appendString(value, to: &bytes)
    }

    public mutating func write(_ key: StaticString, _ value: Int) {
        self.key(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func write(_ key: StaticString, _ values: [String]) {
        self.key(key)
        JSONText.appendArray(values, to: &bytes)
    }

    public mutating func write(_ key: String, _ value: AdditionalClaims.Value) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        JSONText.appendString(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        switch value {
        case .string(let string): JSONText.appendString(string, to: &bytes)
        case .int(let int): bytes.append(contentsOf: String(int).utf8)
        case .strings(let strings): JSONText.appendArray(strings, to: &bytes)
        }
    }

    public mutating func writeObject(_ key: StaticString, _ members: (inout JSONBytesWriter) -> Void) {
        self.key(key)
        // The nested writer continues in the same buffer (moved, not copied).
        var inner = JSONBytesWriter(capacity: 0)
        swap(&inner.bytes, &bytes)
        inner.bytes.append(UInt8(ascii: "{"))
        members(&inner)
        inner.bytes.append(UInt8(ascii: "}"))
        swap(&inner.bytes, &bytes)
    }

    /// The object, closed.
    public consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}

/// A coding key whose name is data: the members of a document written through a member list,
/// and the claims a dialect adds.
struct DynamicCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Writes the members into a `Codable` encoder's keyed container; the first failure is kept and
/// thrown by `finish()`.
public struct EncoderMemberWriter: JSONMemberWriter {
    typealias Key = DynamicCodingKey

    private var container: KeyedEncodingContainer<Key>
    private var failure: (any Error)?

    public init(_ encoder: any Encoder) {
        container = encoder.container(keyedBy: Key.self)
    }

    private init(container: KeyedEncodingContainer<Key>) {
        self.container = container
    }

    private mutating func attempt(_ body: (inout KeyedEncodingContainer<Key>) throws -> Void) {
        do { try body(&container) } catch { failure = failure ?? error }
    }

    public mutating func write(_ key: StaticString, _ value: String) { attempt { try $0.encode(value, forKey: Key("\(key)")) } }
    public mutating func write(_ key: StaticString, _ value: Int) { attempt { try $0.encode(value, forKey: Key("\(key)")) } }
    public mutating func write(_ key: StaticString, _ values: [String]) { attempt { try $0.encode(values, forKey: Key("\(key)")) } }

    public mutating func write(_ key: String, _ value: AdditionalClaims.Value) {
        attempt { container in
            switch value {
            case .string(let string): try container.encode(string, forKey: Key(key))
            case .int(let int): try container.encode(int, forKey: Key(key))
            case .strings(let strings): try container.encode(strings, forKey: Key(key))
            }
        }
    }

    public mutating func writeObject(_ key: StaticString, _ members: (inout EncoderMemberWriter) -> Void) {
        var inner = EncoderMemberWriter(container: container.nestedContainer(keyedBy: Key.self, forKey: Key("\(key)")))
        members(&inner)
        if let failed = inner.failure { failure = failure ?? failed }
    }

    public func finish() throws {
        if let failure { throw failure }
    }
}
