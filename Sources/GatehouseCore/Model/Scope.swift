/// A set of scope tokens (RFC 6749 §3.3): space-delimited, each token 1*( %x21 / %x23-5B / %x5D-7E ).
/// Order is kept as given, duplicates dropped.
public struct Scope: Sendable, Hashable, Codable, CustomStringConvertible {
    public let tokens: [String]

    /// Parses a `scope` parameter. An empty value or a token with characters outside NQCHAR, or
    /// separators other than single spaces, throws 70011.
    public init(parsing raw: String) throws(CatalogueError) {
        guard !raw.isEmpty else { throw CatalogueError(Catalogue.invalidScope, ["scope": "''"]) }
        var tokens: [String] = []
        var seen: Set<String> = []
        for token in raw.split(separator: " ", omittingEmptySubsequences: false) {
            guard Self.isValidToken(token) else {
                throw CatalogueError(Catalogue.invalidScope, ["scope": String(token).isEmpty ? "''" : String(token)])
            }
            let value = String(token)
            if seen.insert(value).inserted { tokens.append(value) }
        }
        self.tokens = tokens
    }

    /// Builds a scope from already valid tokens (configuration, storage); invalid ones are dropped.
    public init(tokens: [String]) {
        var seen: Set<String> = []
        self.tokens = tokens.filter { Self.isValidToken($0[...]) && seen.insert($0).inserted }
    }

    public static let empty = Scope(tokens: [])

    public static func isValidToken(_ token: Substring) -> Bool {
        !token.isEmpty && token.utf8.allSatisfy { $0 == 0x21 || ($0 >= 0x23 && $0 <= 0x5B) || ($0 >= 0x5D && $0 <= 0x7E) }
    }

    public var isEmpty: Bool { tokens.isEmpty }
    public var set: Set<String> { Set(tokens) }
    /// The space-joined form used on the wire.
    public var description: String { tokens.joined(separator: " ") }

    /// Tokens of this scope that `allowed` does not contain, in order.
    public func notContained(in allowed: Scope) -> [String] {
        let allowedSet = allowed.set
        return tokens.filter { !allowedSet.contains($0) }
    }
}
