/// A client identifier (RFC 6749 §2.2): 1–255 visible ASCII characters (VSCHAR, Appendix A.1).
public struct ClientID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    /// Parses a client_id; throws 90100 (invalid value) for characters outside VSCHAR.
    public init(_ raw: String) throws(CatalogueError) {
        let bytes = raw.utf8
        guard (1...255).contains(bytes.count), bytes.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) else {
            throw CatalogueError(Catalogue.invalidParameterValue, ["name": "client_id"], detail: "client_id is not 1-255 VSCHAR")
        }
        self.value = raw
    }

    public var description: String { value }
}
