import Foundation

/// What a fetch of a URL that someone else chose may do (client ID metadata documents, a
/// registered client's `jwks_uri`; later upstream identity providers and logout deliveries).
public struct OutboundPolicy: Sendable, Hashable {
    /// Private, loopback, link-local and similar addresses may be reached (development only:
    /// `gatehouse tenants set NAME --allow-local-fetches on`).
    public var allowLocalAddresses: Bool
    /// The largest answer read, in bytes.
    public var maximumBytes: Int
    /// One deadline for resolving, connecting, TLS and reading.
    public var timeout: TimeInterval

    public init(allowLocalAddresses: Bool = false, maximumBytes: Int = 64 * 1024, timeout: TimeInterval = 5) {
        self.allowLocalAddresses = allowLocalAddresses
        self.maximumBytes = maximumBytes
        self.timeout = timeout
    }

    /// The tenant's policy (`ClientRegistrationSettings.allowLocalFetches`).
    public init(tenant: Tenant) {
        self.init(allowLocalAddresses: tenant.clientRegistration.allowLocalFetches)
    }
}

/// A fetched document.
public struct FetchedDocument: Sendable, Hashable {
    public let body: [UInt8]
    public let contentType: String?
    /// `Cache-Control` as sent (`OutboundCacheLifetime` reads it).
    public let cacheControl: String?

    public init(body: [UInt8], contentType: String?, cacheControl: String?) {
        self.body = body
        self.contentType = contentType
        self.cacheControl = cacheControl
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Fetches a URL someone else chose, through `OutboundGuard`'s checks: https only, the host
/// resolved once and the connection made to the checked address, no redirects, a size cap and
/// a deadline. Every refusal is a catalogue error (9900220-9900225).
public protocol OutboundFetcher: Sendable {
    func fetch(_ url: String, policy: OutboundPolicy, accept: String) async throws -> FetchedDocument
    /// Posts a form (a back-channel logout token) through the same checks; http is allowed to a
    /// loopback host only. Returns when the answer is 2xx; a 4xx answer throws `DeliveryRefused`
    /// (retrying cannot help), anything else a catalogue error.
    func post(_ url: String, form: [(String, String)], policy: OutboundPolicy) async throws
}

extension OutboundFetcher {
    public func post(_ url: String, form: [(String, String)], policy: OutboundPolicy) async throws {
        throw CatalogueError(Catalogue.outboundFailed, ["url": RecordedValue.cut(url, to: 200), "reason": "this fetcher does not post"])
    }
}

/// The checks every outbound fetch makes before and after it resolves the host; pure, so that
/// each rule is tested without a network.
public enum OutboundGuard {
    /// A URL that may be fetched: https, a host, no user information, no fragment.
    public struct Target: Sendable, Hashable {
        public let url: String
        public let host: String
        public let port: Int
    }

    /// `loopbackHTTP`: plain http is allowed to a loopback host (`127.0.0.1`, `[::1]`,
    /// `localhost`): a relying party's back-channel logout endpoint on the same machine.
    public static func target(_ raw: String, loopbackHTTP: Bool = false) throws(CatalogueError) -> Target {
        let shown = RecordedValue.cut(raw, to: 200)
        guard raw.utf8.count <= 2048, let components = URLComponents(string: raw) else {
            throw CatalogueError(Catalogue.outboundURLRefused, ["url": shown, "reason": "it is not a URL"])
        }
        guard let host = components.host, !host.isEmpty else {
            throw CatalogueError(Catalogue.outboundURLRefused, ["url": shown, "reason": "it names no host"])
        }
        let scheme = components.scheme?.lowercased()
        guard scheme == "https" || (scheme == "http" && loopbackHTTP && ClientMetadata.isLoopback(host)) else {
            throw CatalogueError(
                Catalogue.outboundURLRefused,
                [
                    "url": shown,
                    "reason": loopbackHTTP ? "only https URLs (or http to a loopback host) are used" : "only https URLs are fetched",
                ])
        }
        guard components.user == nil, components.password == nil else {
            throw CatalogueError(Catalogue.outboundURLRefused, ["url": shown, "reason": "it carries a user name or password"])
        }
        guard components.fragment == nil else {
            throw CatalogueError(Catalogue.outboundURLRefused, ["url": shown, "reason": "it has a fragment"])
        }
        let port = components.port ?? (scheme == "http" ? 80 : 443)
        guard (1...65535).contains(port) else {
            throw CatalogueError(Catalogue.outboundURLRefused, ["url": shown, "reason": "its port is out of range"])
        }
        var bare = host.lowercased()
        if bare.hasPrefix("[") && bare.hasSuffix("]") { bare = String(bare.dropFirst().dropLast()) }
        return Target(url: raw, host: bare, port: port)
    }

    /// Refuses an address that is not a public unicast one, unless `policy` allows local ones.
    /// `address` is the numeric form the resolver returned (IPv4 dotted or IPv6).
    public static func check(address: String, host: String, policy: OutboundPolicy) throws(CatalogueError) {
        guard policy.allowLocalAddresses || !isLocal(address) else {
            // The address goes to the server's log only: an outsider must not learn internal addresses.
            throw CatalogueError(Catalogue.outboundAddressRefused, ["host": RecordedValue.cut(host, to: 200)], detail: "address \(address)")
        }
    }

    /// Whether `address` is unspecified, loopback, private, shared (CGNAT), link-local,
    /// multicast, reserved, documentation or benchmarking space, or an IPv6 form of one (IPv4-
    /// mapped, NAT64 of a local IPv4 address, unique local, site-local). An unreadable address
    /// counts as local.
    public static func isLocal(_ address: String) -> Bool {
        if let v4 = ipv4(address) { return isLocalIPv4(v4) }
        guard let v6 = ipv6(address) else { return true }
        // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::/96).
        let prefix10Zero = v6[0..<10].allSatisfy { $0 == 0 }
        if prefix10Zero && v6[10] == 0xff && v6[11] == 0xff { return isLocalIPv4(Array(v6[12..<16])) }
        if v6[0..<12].allSatisfy({ $0 == 0 }) { return true }  // ::, ::1 and IPv4-compatible
        if v6[0] == 0x00 && v6[1] == 0x64 && v6[2] == 0xff && v6[3] == 0x9b { return isLocalIPv4(Array(v6[12..<16])) }
        if v6[0] == 0xff { return true }  // multicast
        if v6[0] & 0xfe == 0xfc { return true }  // unique local fc00::/7
        if v6[0] == 0xfe && v6[1] & 0xc0 == 0x80 { return true }  // link-local fe80::/10
        if v6[0] == 0xfe && v6[1] & 0xc0 == 0xc0 { return true }  // site-local fec0::/10
        if v6[0] == 0x20 && v6[1] == 0x01 && v6[2] == 0x0d && v6[3] == 0xb8 { return true }  // documentation
        if v6[0] == 0x01 && v6[1..<8].allSatisfy({ $0 == 0 }) { return true }  // discard 100::/64
        if v6[0] == 0x20 && v6[1] == 0x02 { return isLocalIPv4(Array(v6[2..<6])) }  // 6to4
        return false
    }

    /// Whether `text` is an IPv4 or IPv6 address literal (no brackets).
    public static func isIPAddress(_ text: String) -> Bool { ipv4(text) != nil || ipv6(text) != nil }

    static func isLocalIPv4(_ b: [UInt8]) -> Bool {
        switch (b[0], b[1]) {
        case (0, _), (10, _), (127, _): return true
        case (100, 64...127): return true  // shared address space
        case (169, 254): return true
        case (172, 16...31): return true
        case (192, 168): return true
        case (192, 0) where b[2] == 0 || b[2] == 2: return true  // IETF protocol assignments, TEST-NET-1
        case (198, 18...19): return true  // benchmarking
        case (198, 51) where b[2] == 100: return true
        case (203, 0) where b[2] == 113: return true
        case (224...255, _): return true  // multicast, reserved, broadcast
        default: return false
        }
    }

    static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            // No leading zeros: `012` is octal to inet_aton, so it is no literal here (it is resolved).
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), part == "0" || !part.hasPrefix("0"),
                let value = UInt8(part)
            else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    static func ipv6(_ raw: String) -> [UInt8]? {
        var text = raw
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) }  // zone
        guard text.contains(":") else { return nil }
        var tail: [UInt8] = []
        // A trailing dotted IPv4 part.
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard let v4 = ipv4(String(text[text.index(after: lastColon)...])) else { return nil }
            tail = v4
            text = String(text[...lastColon]) + "0:0"
        }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ s: String) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            for g in s.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(g.count), let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var all: [UInt16]
        if halves.count == 2 {
            guard let rest = groups(halves[1]), head.count + rest.count <= 7 else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - rest.count) + rest
        } else {
            guard head.count == 8 else { return nil }
            all = head
        }
        var bytes = all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
        if !tail.isEmpty { bytes.replaceSubrange(12..<16, with: tail) }
        return bytes
    }
}

/// How long a fetched document may be kept: its `Cache-Control: max-age` (no-store and
/// no-cache: not kept), within `minimum` and `maximum`.
public enum OutboundCacheLifetime {
    public static func seconds(cacheControl: String?, minimum: TimeInterval = 60, maximum: TimeInterval = 86_400) -> TimeInterval {
        guard let header = cacheControl?.lowercased() else { return minimum * 5 }
        let directives = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if directives.contains("no-store") || directives.contains("no-cache") { return 0 }
        for directive in directives where directive.hasPrefix("max-age=") {
            if let value = Double(directive.dropFirst("max-age=".count)) { return min(max(value, minimum), maximum) }
        }
        return minimum * 5
    }
}
