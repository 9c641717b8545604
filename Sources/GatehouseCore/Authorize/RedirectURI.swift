import Foundation

/// A redirect URI (RFC 6749 §3.1.2): absolute, no fragment, not a scheme that runs or reads
/// content in the browser (`javascript:`, `data:`, ...; RFC 9700 §4.1), a port in 1–65535.
/// Matching against the registered list is exact (RFC 9700 §4.1.3), except that a native
/// (public) client's loopback redirect with `http` (127.0.0.1, [::1], localhost) may use any
/// port (RFC 8252 §7.3).
public struct RedirectURI: Sendable, Hashable, CustomStringConvertible {
    public let value: String
    let components: URLComponents

    /// Schemes never accepted: a browser would run, show or read content with them instead of
    /// handing the response to an application.
    public static let refusedSchemes: Set<String> = [
        "javascript", "data", "vbscript", "file", "blob", "filesystem", "about", "view-source", "jar", "livescript", "mhtml",
    ]

    public init(_ raw: String) throws(CatalogueError) {
        guard raw.utf8.count <= 2048, !raw.contains("#"), !raw.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }),
            let components = URLComponents(string: raw),
            let scheme = components.scheme?.lowercased(), !scheme.isEmpty, components.host != nil || scheme != "http" && scheme != "https"
        else {
            throw CatalogueError(Catalogue.invalidParameterValue, ["name": "redirect_uri"], detail: "not an absolute URI without fragment")
        }
        guard !Self.refusedSchemes.contains(scheme) else {
            throw CatalogueError(
                Catalogue.invalidParameterValue, ["name": "redirect_uri"], detail: "scheme '\(scheme)' is never a redirect target")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw CatalogueError(Catalogue.invalidParameterValue, ["name": "redirect_uri"], detail: "port \(port) out of range")
        }
        self.value = raw
        self.components = components
    }

    public var description: String { value }

    /// `http` to 127.0.0.1, [::1] or `localhost` (RFC 8252 §7.3 prefers the IP literals; MCP
    /// clients and many CLIs register `localhost`, which the open registration policy accepts).
    var isLoopbackHTTP: Bool {
        components.scheme?.lowercased() == "http" && ClientMetadata.isLoopback(components.host)
    }

    /// Whether this presented URI is one of `registered`: identical, or (only when
    /// `anyLoopbackPort`, for native clients) the same loopback URI with another port.
    public func matches(anyOf registered: [String], anyLoopbackPort: Bool) -> Bool {
        if registered.contains(value) { return true }
        guard anyLoopbackPort, isLoopbackHTTP else { return false }
        for candidate in registered {
            guard let other = try? RedirectURI(candidate), other.isLoopbackHTTP else { continue }
            var left = components
            var right = other.components
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

extension RedirectURI: Codable {
    /// Stored as its text and parsed again when read back, so a stored value is never trusted unchecked.
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(raw) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a redirect URI"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
