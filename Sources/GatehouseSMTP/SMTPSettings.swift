import Foundation

/// Where and how mail is submitted (RFC 6409), from `gatehouse.smtp.url` and `gatehouse.smtp.from`:
/// `smtps://user:pass@host:465` (TLS from the first byte) or `smtp://user:pass@host:587` (STARTTLS,
/// required: Gatehouse refuses to send in the clear, except to a loopback host, where STARTTLS is
/// used when offered). The server's certificate and host name are verified against the system's
/// trust store plus `gatehouse.tls.extra_ca_file`.
public struct SMTPSettings: Sendable, Equatable, CustomStringConvertible {
    public enum Security: Sendable, Equatable {
        /// `smtps://`: TLS from the first byte.
        case implicitTLS
        /// `smtp://` to another host: STARTTLS, or nothing is sent.
        case requireSTARTTLS
        /// `smtp://` to a loopback host: STARTTLS when the server offers it, else plain.
        case startTLSIfOffered
    }

    public let host: String
    public let port: Int
    public let security: Security
    public let username: String?
    public let password: String?
    /// The `From` header as configured (`Name <address>` or `address`).
    public let from: String
    /// The envelope sender (`MAIL FROM`): the address in `from`.
    public let envelopeFrom: String
    /// PEM file of extra trusted CA certificates (`gatehouse.tls.extra_ca_file`).
    public let extraCAFile: String?
    /// How long one connection attempt or one reply may take.
    public var timeout: Duration = .seconds(30)
    /// How long one mail's whole dialogue may take (the outbox sender holds its lease this long).
    public var deadline: Duration = .seconds(60)
    /// The name this client greets with (`EHLO`).
    public var helloName = "localhost"

    public init(url: String, from: String, extraCAFile: String? = nil) throws(SMTPSettingsError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let rawHost = components.host, !rawHost.isEmpty
        else { throw SMTPSettingsError("gatehouse.smtp.url must be smtp://[user:password@]host[:port] or smtps://…") }
        let host = rawHost.hasPrefix("[") && rawHost.hasSuffix("]") ? String(rawHost.dropFirst().dropLast()) : rawHost
        switch scheme {
        case "smtps": security = .implicitTLS
        case "smtp": security = Self.isLoopback(host) ? .startTLSIfOffered : .requireSTARTTLS
        default: throw SMTPSettingsError("gatehouse.smtp.url's scheme must be smtp (STARTTLS) or smtps (TLS), not '\(scheme)'")
        }
        self.host = host
        self.port = components.port ?? (security == .implicitTLS ? 465 : 587)
        guard (1...65535).contains(port) else { throw SMTPSettingsError("gatehouse.smtp.url's port must be 1 to 65535") }
        username = components.user.flatMap { $0.isEmpty ? nil : $0 }
        password = components.password
        if username != nil, password == nil { throw SMTPSettingsError("gatehouse.smtp.url names a user but no password") }
        guard let envelope = Self.address(in: from) else {
            throw SMTPSettingsError("gatehouse.smtp.from must be an address (name@domain) or Name <name@domain>")
        }
        self.from = from.trimmingCharacters(in: .whitespaces)
        self.envelopeFrom = envelope
        if let extraCAFile, !FileManager.default.isReadableFile(atPath: extraCAFile) {
            throw SMTPSettingsError("cannot read gatehouse.tls.extra_ca_file '\(extraCAFile)'")
        }
        self.extraCAFile = extraCAFile
    }

    /// What this client greets with for a server reached at `host` (the public base URL's host):
    /// the name, or an address literal (`[127.0.0.1]`, `[IPv6:::1]`, RFC 5321 §4.1.3).
    public static func helloName(forHost host: String?) -> String {
        guard var host, !host.isEmpty else { return "localhost" }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.contains(":") { return "[IPv6:\(host)]" }
        if host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ UInt8($0) != nil }) { return "[\(host)]" }
        return host
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        "\(security == .implicitTLS ? "smtps" : "smtp")://\(username.map { "\($0)@" } ?? "")\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    static func isLoopback(_ host: String) -> Bool {
        let lower = host.lowercased()
        if lower == "localhost" || lower == "::1" { return true }
        let parts = lower.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// The bare address of `Name <address>` or `address`, if it is one (no spaces, controls or
    /// angle brackets; one `@` with text on both sides).
    public static func address(in value: String) -> String? {
        var candidate = value.trimmingCharacters(in: .whitespaces)
        if let open = candidate.lastIndex(of: "<"), candidate.hasSuffix(">") {
            let name = candidate[..<open]
            guard !name.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\"" }) else { return nil }
            candidate = String(candidate[candidate.index(after: open)..<candidate.index(before: candidate.endIndex)])
        }
        let parts = candidate.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, candidate.utf8.count <= 254,
            !candidate.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value > 0x7E || "<>()[],;:\\\"".unicodeScalars.contains($0) })
        else { return nil }
        return candidate
    }
}

public struct SMTPSettingsError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
