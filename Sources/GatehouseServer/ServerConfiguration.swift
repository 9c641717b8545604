import Foundation
import GatehouseCore

/// What the server needs to know, decided by the executable from flags, environment and file.
public struct ServerConfiguration: Sendable {
    /// The public base URL (scheme, host, port, optional path prefix) without a trailing slash;
    /// issuers are `{baseURL}/{tenant}`, error links `{baseURL}/error?code=N`.
    public var baseURL: String
    public var host: String
    public var port: Int
    /// Largest accepted token request body, in bytes.
    public var maxBodySize: Int = 16 * 1024
    /// How often the store's change counter is read; a change made elsewhere (the CLI, another
    /// node) drops this node's caches within this.
    public var changePollInterval: Duration = .milliseconds(250)
    /// How long a client or tenant record is cached.
    public var cacheTTL: TimeInterval = 5
    /// Sign-in log: most events held in memory awaiting a write, and the write interval.
    public var signInBufferCapacity: Int = 200_000
    public var signInFlushInterval: Duration = .milliseconds(100)
    /// How long a tenant's keys are cached before they are read again; a rotation reaches the server within this.
    public var keyRingTTL: TimeInterval = 30
    /// How long sign-in events kept whole are kept.
    public var signInRetention: TimeInterval = 30 * 86400
    /// How long sign-in aggregates (counts per minute) are kept.
    public var signInAggregateRetention: TimeInterval = 90 * 86400
    /// Lifetimes and limits of user sign-in, codes and refresh tokens.
    public var signIn = SignInPolicy()
    /// bcrypt cost for user passwords (2^cost rounds).
    public var passwordHashCost: UInt8 = 12
    /// HTTPS: PEM files of the certificate chain and the private key; nil serves plain HTTP.
    public var tls: TLSFiles?
    /// Log level name for the server log.
    public var logLevel: String = "info"
    /// Failure throttles per source address (429 with `Retry-After`).
    public var throttling = ThrottleSettings()
    /// The management port (same host): `/metrics` and readiness in detail. Without it, neither
    /// is served on the main port except to the bearer of `metricsToken`.
    public var metricsPort: Int?
    /// A token that opens `/metrics` and readiness in detail on the main port (`Authorization:
    /// Bearer …`); nil: closed there.
    public var metricsToken: String?
    /// The administrative tenant: its principals holding `Admin.Read`/`Admin.Write` on its admin
    /// API administer every tenant (`gatehouse.admin_tenant`, default `gatehouse`; nil: none).
    public var adminTenant: TenantName? = ServerConfiguration.defaultAdminTenant
    public static let defaultAdminTenant = try? TenantName("gatehouse")
    /// Whether requests become spans of the bootstrapped tracer (set when OTLP export is configured).
    public var tracing = false
    /// Where request lines go directly (`RequestLog`); nil: through the request's logger.
    public var requestLog: RequestLog?
    /// A connection that completes no request head (or sends nothing) for this long, or sits idle
    /// between requests for this long, is closed (Hummingbird's idle timeout): a few hundred
    /// silent or trickling sockets cannot hold the server. Real clients reconnect transparently.
    public var idleTimeout: TimeInterval = 30
    /// `Strict-Transport-Security: max-age=N` on every response served over TLS; 0 sends none.
    public var hstsMaxAge: Int = 31_536_000
    /// The HSTS header value, when this server serves TLS itself.
    public var strictTransportSecurity: String? { tls != nil && hstsMaxAge > 0 ? "max-age=\(hstsMaxAge)" : nil }

    /// The WebAuthn relying party ID (`gatehouse.webauthn.rp_id`): nil for the base URL's host.
    public var webAuthnRPID: String?

    /// The relying party ID passkeys are made for: the configured one, or the base URL's host.
    public var passkeyRPID: String { webAuthnRPID ?? (URLComponents(string: baseURL)?.host?.lowercased() ?? "localhost") }

    /// The one origin WebAuthn ceremonies may come from: the base URL's scheme, host and port.
    public var passkeyOrigin: String {
        guard let url = URLComponents(string: baseURL), let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else {
            return baseURL
        }
        let defaultPort = (scheme == "https" && url.port == 443) || (scheme == "http" && url.port == 80)
        return "\(scheme)://\(host)" + (url.port.map { defaultPort ? "" : ":\($0)" } ?? "")
    }

    /// Whether `rpID` may serve for the base URL's host: the host itself or a suffix of it at a
    /// label boundary, and not an IP address (WebAuthn refuses one).
    public static func isValidRPID(_ rpID: String, forHost host: String) -> Bool {
        let id = rpID.lowercased()
        let host = host.lowercased()
        guard !id.isEmpty, id.contains(where: \.isLetter), !id.hasPrefix("."), id.split(separator: ".").count >= (id == host ? 1 : 2)
        else { return false }
        return host == id || host.hasSuffix("." + id)
    }

    public init(baseURL: String, host: String = "127.0.0.1", port: Int = 8080) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.host = host
        self.port = port
    }

    /// The native issuer of a tenant, `{base}/{tenant name}`.
    public func issuer(_ tenant: String) -> String { "\(baseURL)/\(tenant)" }
    /// The issuer a request in this dialect is answered with.
    public func issuer(_ tenant: Tenant, dialect: any Dialect) -> String { dialect.issuer(baseURL: baseURL, tenant: tenant) }
    /// Every issuer of a tenant, one per dialect (tokens of any are accepted at its endpoints).
    public func issuers(_ tenant: Tenant) -> Set<String> { Set(Dialects.all.map { issuer(tenant, dialect: $0) }) }
    public func tokenEndpoint(_ tenant: String) -> String { "\(baseURL)/\(tenant)/oauth2/token" }
    /// Every URL of a tenant's token endpoint a client assertion's `aud` may name: the native
    /// one by name, and each other dialect's by name, by GUID and by the segment the request
    /// used (`common`).
    public func tokenEndpoints(_ tenant: Tenant, segment: String) -> Set<String> {
        var urls: Set<String> = [tokenEndpoint(tenant.name.value)]
        for dialect in Dialects.all {
            for name in [tenant.name.value, tenant.guid, segment] { urls.insert(endpoint(name, dialect.endpointPath("token"))) }
        }
        return urls
    }
    /// The one rule for what a client assertion's `aud` may be, at every endpoint that
    /// authenticates clients: any URL of the token endpoint, either issuer, or the URL of the
    /// endpoint itself (`path`, such as `oauth2/introspect`; RFC 7523 §3, RFC 7662 §2.1).
    public func assertionAudiences(_ tenant: Tenant, segment: String, endpoint path: String? = nil) -> Set<String> {
        var audiences = tokenEndpoints(tenant, segment: segment).union(issuers(tenant))
        if let path { audiences.insert(endpoint(tenant.name.value, path)) }
        return audiences
    }
    public func jwksURI(_ tenant: String) -> String { "\(baseURL)/\(tenant)/discovery/keys" }
    /// The troubleshooting page of a code for one request: `trace_id` lets the page show that
    /// request's public record ("your request"); `ui_locales` stays last.
    public func errorURI(_ code: Int, traceID: String? = nil, language: String = CatalogueTexts.defaultLanguage) -> String {
        var uri = "\(baseURL)/error?code=\(code)"
        if let traceID, !traceID.isEmpty { uri += "&trace_id=\(traceID)" }
        if language != CatalogueTexts.defaultLanguage { uri += "&ui_locales=\(language)" }
        return uri
    }
    public func endpoint(_ tenant: String, _ path: String) -> String { "\(baseURL)/\(tenant)/\(path)" }
    /// Cookies carry `Secure` when the public URL is HTTPS.
    public var secureCookies: Bool { baseURL.lowercased().hasPrefix("https://") }
    /// The path prefix of the public URL (cookie paths), e.g. "" or "/auth".
    public var basePath: String { URLComponents(string: baseURL)?.path ?? "" }
}

/// Where `serve --tls-cert --tls-key` reads its certificate chain and key (PEM).
public struct TLSFiles: Sendable, Hashable {
    public let certificatePath: String
    public let keyPath: String
    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}
