import Foundation

/// Claims a dialect adds to a token beyond those RFC 9068 and OpenID Connect Core name, kept in
/// the order they were added and written after the standard claims.
public struct AdditionalClaims: Sendable, Hashable {
    public enum Value: Sendable, Hashable {
        case string(String)
        case int(Int)
        case strings([String])
    }

    public private(set) var members: [(key: String, value: Value)] = []

    public init() {}

    public subscript(key: String) -> Value? {
        get { members.first { $0.key == key }?.value }
        set {
            let index = members.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (let index?, let value?): members[index].value = value
            case (let index?, nil): members.remove(at: index)
            case (nil, let value?): members.append((key, value))
            case (nil, nil): break
            }
        }
    }

    public func string(_ key: String) -> String? {
        if case .string(let value) = self[key] { return value }
        return nil
    }

    public var isEmpty: Bool { members.isEmpty }

    public static func == (lhs: AdditionalClaims, rhs: AdditionalClaims) -> Bool {
        lhs.members.count == rhs.members.count && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for member in members {
            hasher.combine(member.key)
            hasher.combine(member.value)
        }
    }

    /// Writes every member into the token's own JSON object.
    func encode(into encoder: any Encoder) throws {
        var out = EncoderMemberWriter(encoder)
        for (key, value) in members { out.write(key, value) }
        try out.finish()
    }

    /// The members of a decoded token that are not among `known`; values of other JSON types are skipped.
    init(from decoder: any Decoder, excluding known: Set<String>) throws {
        let container = try decoder.container(keyedBy: DynamicCodingKey.self)
        for key in container.allKeys where !known.contains(key.stringValue) {
            if let string = try? container.decode(String.self, forKey: key) {
                self[key.stringValue] = .string(string)
            } else if let int = try? container.decode(Int.self, forKey: key) {
                self[key.stringValue] = .int(int)
            } else if let strings = try? container.decode([String].self, forKey: key) {
                self[key.stringValue] = .strings(strings)
            }
        }
    }
}
