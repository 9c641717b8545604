/// A tenant's name: the first path segment of every endpoint and the last of its issuer.
/// 1–63 characters of lowercase letters, digits, `-` and `.`, starting with a letter or digit.
public struct TenantName: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    public let value: String

    /// Parses a path segment; throws 900023 for a malformed name.
    public init(_ raw: String) throws(CatalogueError) {
        guard Self.isValid(raw) else {
            throw CatalogueError(Catalogue.invalidTenantIdentifier, ["tenant": raw])
        }
        self.value = raw
    }

    public static func isValid(_ raw: String) -> Bool {
        let bytes = Array(raw.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        for (index, byte) in bytes.enumerated() {
            let alnum = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            if index == 0 {
                if !alnum { return false }
            } else if !(alnum || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")) {
                return false
            }
        }
        return true
    }

    public var description: String { value }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
}
