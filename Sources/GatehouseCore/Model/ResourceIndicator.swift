import Foundation

/// A resource indicator (RFC 8707 §2): an absolute URI without a fragment, naming the audience
/// of the token.
public struct ResourceIndicator: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    /// Parses a `resource` value; throws 9900123 (invalid_target) when it is not an absolute URI
    /// or has a fragment.
    public init(_ raw: String) throws(CatalogueError) {
        guard raw.utf8.count <= 2048,
            !raw.contains("#"),
            raw.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
            let components = URLComponents(string: raw),
            let scheme = components.scheme, !scheme.isEmpty,
            scheme.first?.isLetter == true
        else {
            throw CatalogueError(Catalogue.malformedResource, ["resource": raw])
        }
        // Hierarchical URIs need an authority (https://host); URNs and similar need a path.
        if let host = components.host {
            guard !host.isEmpty else { throw CatalogueError(Catalogue.malformedResource, ["resource": raw]) }
        } else if components.path.isEmpty {
            throw CatalogueError(Catalogue.malformedResource, ["resource": raw])
        }
        self.value = raw
    }

    public var description: String { value }
}
