import Foundation

/// A redirect URI (RFC 6749 §3.1.2): absolute, no fragment. Matching against the registered list
/// is exact (RFC 9700 §4.1.3), except that a loopback IP literal with `http` may use any port
/// (RFC 8252 §7.3), for native clients.
public struct RedirectURI: Sendable, Hashable, CustomStringConvertible {
    public let value: String
    let components: URLComponents

    public init(_ raw: String) throws(CatalogueError) {
        guard raw.utf8.count <= 2048, !raw.contains("#"), let components = URLComponents(string: raw),
              let scheme = components.scheme, !scheme.isEmpty, components.host != nil || scheme != "http" && scheme != "https"
        else {
            throw CatalogueError(Catalogue.invalidParameterValue, ["name": "redirect_uri"], detail: "not an absolute URI without fragment")
        }
        self.value = raw
        self.components = components
    }

    public var description: String { value }

    var isLoopbackHTTP: Bool {
        components.scheme == "http" && (components.host == "127.0.0.1" || components.host == "[::1]" || components.host == "::1")
    }

    /// Whether this presented URI is one of `registered`: identical, or the same loopback URI with another port.
    public func matches(anyOf registered: [String]) -> Bool {
        if registered.contains(value) { return true }
        guard isLoopbackHTTP else { return false }
        for candidate in registered {
            guard let other = try? RedirectURI(candidate), other.isLoopbackHTTP else { continue }
            var left = components, right = other.components
            left.port = nil
            right.port = nil
            if left.string == right.string { return true }
        }
        return false
    }

    /// This URI with parameters added to its query (RFC 6749 §4.1.2: existing query kept).
    public func appendingQuery(_ parameters: [(String, String)]) -> String {
        let encoded = parameters.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        if value.contains("?") { return value + (value.hasSuffix("?") || value.hasSuffix("&") ? "" : "&") + encoded }
        return value + "?" + encoded
    }

    /// This URI with parameters in its fragment.
    public func appendingFragment(_ parameters: [(String, String)]) -> String {
        value + "#" + parameters.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    public static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
