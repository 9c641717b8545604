import Foundation

/// A web origin (RFC 6454): scheme, host and port, serialized as a browser sends it in `Origin`
/// (lower-case scheme and host, the port only when it is not the scheme's default). Browser
/// apps (CORS) are recognised by the origins of their registered redirect URIs, compared exactly.
public enum BrowserOrigin {
    /// The origin of an `http` or `https` URI; nil for other schemes (a native app's custom
    /// scheme has no origin a browser would send).
    public static func of(_ uri: String) -> String? {
        guard let components = URLComponents(string: uri), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        let defaultPort = scheme == "https" ? 443 : 80
        let port = components.port.flatMap { $0 == defaultPort ? nil : $0 }
        // An IPv6 host keeps its brackets in an origin.
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(shownHost)" + (port.map { ":\($0)" } ?? "")
    }
}

extension Client {
    /// The origins of the client's redirect URIs: where a browser app of this client runs.
    public var redirectOrigins: Set<String> { Set(redirectURIs.compactMap(BrowserOrigin.of)) }
}
