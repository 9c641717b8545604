import Crypto
import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import NIOCore
import Testing

/// A server on an in-memory store with a tenant and a set of clients, one per situation the
/// tests need. Every test drives the real router (`buildRouter`).
struct Harness {
    static let tenant = "contoso"
    static let baseURL = "https://login.test"
    static let tokenPath = "/contoso/oauth2/token"
    static var tokenEndpoint: String { baseURL + tokenPath }

    let gatehouse: Gatehouse
    let store: any GatehouseStore
    /// Secrets by client ID.
    let secrets: [String: String]
    /// The ES256 key the `jwt-client` signs assertions with, and one it does not own.
    let clientKey: ES256PrivateKey
    let strangerKey: ES256PrivateKey
    /// Bob's TOTP secret.
    let totpSecret: String

    static func make(
        algorithm: SigningAlgorithm = .es256, time: TimeSource = .system, store: (any GatehouseStore)? = nil,
        passwordVerifier: (any PasswordHasher)? = nil, totp: (any TOTPGenerator)? = nil, mailTransport: (any MailTransport)? = nil,
        fetcher: (any OutboundFetcher)? = nil, configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> Harness {
        let store = store ?? InMemoryStore()
        var configuration = ServerConfiguration(baseURL: baseURL)
        configuration.cacheTTL = 0
        configuration.maxBodySize = 4096
        configuration.passwordHashCost = 4
        // Throttles off unless a test turns them on: many tests count lockouts with bursts from one "address".
        configuration.throttling = .off
        configure(&configuration)
        let gatehouse = Gatehouse(
            configuration: configuration, store: store, hasher: SecretHasher(key: Data("test-hash-key".utf8)), time: time,
            passwordVerifier: passwordVerifier, totp: totp, mailTransport: mailTransport, fetcher: fetcher.map { .some($0) })
        let admin = gatehouse.administration
        let tenant = try TenantName(tenant)
        try await admin.createTenant(name: tenant, algorithm: algorithm)
        var secrets: [String: String] = [:]

        func make(_ id: String, _ configure: (inout Administration.ClientSpec) -> Void) async throws {
            var spec = Administration.ClientSpec(id: try ClientID(id), name: id)
            spec.allowedScopes = Scope(tokens: ["api.read", "api.write"])
            spec.defaultScopes = Scope(tokens: ["api.read"])
            spec.allowedResources = [try ResourceIndicator("https://api.example.com"), try ResourceIndicator("urn:example:other")]
            configure(&spec)
            let (_, secret) = try await admin.createClient(tenant: tenant, spec: spec)
            if let secret { secrets[id] = secret.value }
        }
        try await make("svc") { _ in }
        try await make("my app:1") { _ in }
        try await make("no-defaults") { $0.defaultScopes = .empty }
        try await make("no-grant") { $0.grantTypes = [] }
        try await make("post-only") { $0.authMethods = [.clientSecretPost] }
        try await make("spa") { spec in
            spec.type = .public
            spec.grantTypes = []
        }
        let clientKey = ES256PrivateKey()
        let strangerKey = ES256PrivateKey()
        try await make("jwt-client") { spec in
            spec.jwks = Self.jwks(for: clientKey, kid: "k1")
        }
        // A client whose only secret expired yesterday.
        try await make("expired") { $0.secretLifetime = -86400 }
        // Sign-in: a web app, a second web app, a native app with a loopback redirect URI; users.
        for id in ["web", "web2"] {
            try await make(id) { spec in
                spec.grantTypes = [.authorizationCode, .refreshToken, .clientCredentials]
                spec.allowedScopes = Scope(tokens: ["openid", "profile", "email", "offline_access", "api.read"])
                spec.defaultScopes = Scope(tokens: ["openid"])
                spec.redirectURIs = [Self.webRedirect, "https://\(id).example.com/other"]
                spec.postLogoutRedirectURIs = ["https://\(id).example.com/bye"]
            }
        }
        try await make("native") { spec in
            spec.type = .public
            spec.grantTypes = [.authorizationCode, .refreshToken]
            spec.allowedScopes = Scope(tokens: ["openid", "offline_access", "api.read"])
            spec.defaultScopes = Scope(tokens: ["openid"])
            spec.redirectURIs = ["http://127.0.0.1/callback"]
        }
        let hasher = gatehouse.passwordHasher
        _ = try await admin.createUser(
            tenant: tenant, username: "alice", email: "alice@example.com", displayName: "Alice Nguyen", password: Self.password,
            passwords: hasher)
        _ = try await admin.createUser(
            tenant: tenant, username: "bob", email: nil, displayName: "Bob", password: Self.password, passwords: hasher)
        _ = try await admin.createUser(
            tenant: tenant, username: "carol", email: nil, displayName: "Carol", password: Self.password, passwords: hasher)
        _ = try await admin.setEnabled(tenant: tenant, user: "carol", enabled: false)
        let (_, totpSecret) = try await admin.enrollTOTP(tenant: tenant, user: "bob", box: gatehouse.secretBox)
        return Harness(
            gatehouse: gatehouse, store: store, secrets: secrets, clientKey: clientKey, strangerKey: strangerKey, totpSecret: totpSecret)
    }

    static let webRedirect = "https://web.example.com/callback"
    static let password = "correct horse battery"

    static func jwks(for key: ES256PrivateKey, kid: String) -> String {
        let parameters = key.publicKey.parameters!
        return
            #"{"keys":[{"kty":"EC","crv":"P-256","kid":"\#(kid)","alg":"ES256","use":"sig","x":"\#(parameters.x)","y":"\#(parameters.y)"}]}"#
    }

    func secret(_ id: String) -> String { secrets[id] ?? "" }

    /// Runs `body` against the real router.
    func withClient<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let app = Application(router: try gatehouse.buildRouter(), logger: logger)
        return try await app.test(.router, body)
    }

    /// POSTs a form to the token endpoint.
    func token(_ client: any TestClientProtocol, _ pairs: [(String, String)], headers: HTTPFields = [:], path: String = tokenPath)
        async throws -> TestResponse
    {
        var all: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        for field in headers { all[fields: field.name] = [field] }
        return try await client.execute(uri: path, method: .post, headers: all, body: ByteBuffer(string: formEncode(pairs)))
    }

    /// Signs a client assertion with the client's key unless another is given.
    func assertion(
        iss: String? = "jwt-client", sub: String? = "jwt-client", aud: String? = Harness.tokenEndpoint,
        exp: Double? = Date().timeIntervalSince1970 + 120, iat: Double? = Date().timeIntervalSince1970,
        jti: String? = UUID().uuidString, key: ES256PrivateKey? = nil, kid: String = "k1"
    ) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key ?? clientKey, kid: JWKIdentifier(string: kid))
        return try await keys.sign(AssertionPayload(iss: iss, sub: sub, aud: aud, exp: exp, iat: iat, jti: jti))
    }
}

struct AssertionPayload: JWTPayload {
    let iss: String?
    let sub: String?
    let aud: String?
    let exp: Double?
    let iat: Double?
    let jti: String?
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

func formEncode(_ pairs: [(String, String)]) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._*")
    func encode(_ value: String) -> String {
        (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value).replacingOccurrences(of: "%20", with: "+")
    }
    return pairs.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
}

func basic(_ id: String, _ secret: String) -> String {
    "Basic " + Data("\(formEncode([(id, "")]).dropLast()):\(formEncode([(secret, "")]).dropLast())".utf8).base64EncodedString()
}

/// The JSON object of a response body.
func json(_ response: TestResponse) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:]
}

/// Checks a catalogue error response: status, `error`, `error_codes`, headers and body shape.
func expectError(
    _ response: TestResponse, status: Int, error: String, code: Int, wwwAuthenticate: Bool = false,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(response.status.code == status, "status", sourceLocation: sourceLocation)
    let body = json(response)
    #expect(body["error"] as? String == error, "error was \(body["error"] ?? "nil")", sourceLocation: sourceLocation)
    #expect(body["error_codes"] as? [Int] == [code], "error_codes was \(body["error_codes"] ?? "nil")", sourceLocation: sourceLocation)
    #expect(response.headers[.contentType] == "application/json; charset=utf-8", sourceLocation: sourceLocation)
    #expect(response.headers[.cacheControl] == "no-store", sourceLocation: sourceLocation)
    #expect(response.headers[.init("Pragma")!] == "no-cache", sourceLocation: sourceLocation)
    let traceHeader = response.headers[.init("X-Trace-Id")!]
    #expect(
        traceHeader != nil && traceHeader == body["trace_id"] as? String, "trace header equals trace_id", sourceLocation: sourceLocation)
    #expect((response.headers[.wwwAuthenticate] != nil) == wwwAuthenticate, "WWW-Authenticate presence", sourceLocation: sourceLocation)
    if wwwAuthenticate { #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Basic realm=") == true, sourceLocation: sourceLocation) }
    // Shape and key order: error, error_description, error_codes, timestamp, trace_id, correlation_id, error_uri.
    let text = String(buffer: response.body)
    let keys = ["error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"]
    let positions = keys.map { text.range(of: "\"\($0)\":")?.lowerBound }
    #expect(positions.allSatisfy { $0 != nil }, "all keys present in \(text)", sourceLocation: sourceLocation)
    let found = positions.compactMap { $0 }
    #expect(found == found.sorted(), "key order", sourceLocation: sourceLocation)
    #expect(body.count == keys.count + (body["suberror"] != nil ? 1 : 0), "no extra keys", sourceLocation: sourceLocation)
    let uri = body["error_uri"] as? String ?? ""
    #expect(
        uri == "\(Harness.baseURL)/error?code=\(code)&trace_id=\(traceHeader ?? "-")"
            || uri.hasPrefix("\(Harness.baseURL)/error?code=\(code)&trace_id=\(traceHeader ?? "-")&ui_locales="),
        "error_uri carries the trace ID, ui_locales last", sourceLocation: sourceLocation)
    let timestamp = body["timestamp"] as? String ?? ""
    #expect(
        timestamp.range(of: #"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$"#, options: .regularExpression) != nil, sourceLocation: sourceLocation)
    let description = body["error_description"] as? String ?? ""
    #expect(
        !description.isEmpty && description.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value <= 0x7E && $0 != "\"" && $0 != "\\" },
        "error_description in the RFC 6749 character set", sourceLocation: sourceLocation)
}
