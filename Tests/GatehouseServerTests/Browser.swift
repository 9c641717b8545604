import Crypto
import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// A minimal browser over the test client: keeps cookies (by name, as the server scopes them to
/// the tenant path), submits forms, and reads hidden fields.
final class Browser: Sendable {
    let client: any TestClientProtocol
    let cookies = Mutex<[String: String]>([:])

    init(_ client: any TestClientProtocol) { self.client = client }

    func get(_ uri: String) async throws -> TestResponse {
        try await send(uri, method: .get, body: nil)
    }

    func post(_ uri: String, _ pairs: [(String, String)]) async throws -> TestResponse {
        try await send(uri, method: .post, body: formEncode(pairs))
    }

    private func send(_ uri: String, method: HTTPRequest.Method, body: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        let jar = cookies.withLock { $0 }
        if !jar.isEmpty { headers[.cookie] = jar.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        for header in response.headers[values: .setCookie] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            guard let name = pair.first else { continue }
            let value = pair.count > 1 ? String(pair[1]) : ""
            cookies.withLock { jar in
                if value.isEmpty || header.contains("Max-Age=0") { jar[String(name)] = nil } else { jar[String(name)] = value }
            }
        }
        return response
    }
}

/// A hidden or text field's value in a page.
func field(_ name: String, in response: TestResponse) -> String? {
    let html = String(buffer: response.body)
    guard let range = html.range(of: #"name="\#(name)" value="([^"]*)""#, options: .regularExpression) else { return nil }
    let match = html[range]
    return match.split(separator: "\"", omittingEmptySubsequences: false).dropLast().last.map(String.init)
}

/// The query (or fragment) parameters of a redirect's Location.
func redirectParameters(_ response: TestResponse) -> [String: String] {
    guard let location = response.headers[.location],
        let components = URLComponents(string: location.replacingOccurrences(of: "#", with: "?"))
    else { return [:] }
    return Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
}

/// An RFC 7636 verifier and its S256 challenge.
struct PKCEPair {
    let verifier: String
    let challenge: String
    init() {
        verifier = RandomSource.system.token(byteCount: 40)
        challenge = Base64URL.encode(Array(SHA256Digest.of(verifier)))
    }
}

enum SHA256Digest {
    static func of(_ text: String) -> [UInt8] { Array(SHA256.hash(data: Array(text.utf8))) }
}

/// The claims of a JWT, unverified (the tests verify signatures separately where it matters).
func claims(_ jwt: String) -> [String: Any] {
    let parts = jwt.split(separator: ".")
    guard parts.count == 3, let data = Base64URL.decode(parts[1]) else { return [:] }
    return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
}

extension Harness {
    static let authorizePath = "/contoso/oauth2/authorize"

    func authorizeURI(
        client: String = "web", redirect: String? = Harness.webRedirect, scope: String? = "openid profile email offline_access",
        pkce: PKCEPair? = PKCEPair(), extra: [(String, String)] = []
    ) -> String {
        var pairs: [(String, String)] = [("response_type", "code"), ("client_id", client), ("state", "st-1"), ("nonce", "n-1")]
        if let redirect { pairs.append(("redirect_uri", redirect)) }
        if let scope { pairs.append(("scope", scope)) }
        if let pkce { pairs += [("code_challenge", pkce.challenge), ("code_challenge_method", "S256")] }
        return Self.authorizePath + "?" + formEncode(pairs + extra)
    }

    /// Signs in as `user` through the pages and allows consent; returns the final redirect.
    func signIn(_ browser: Browser, uri: String, user: String = "alice", password: String = Harness.password) async throws -> TestResponse {
        let page = try await browser.get(uri)
        guard page.status == .ok, let interaction = field("interaction", in: page), let csrf = field("csrf", in: page) else { return page }
        var response = try await browser.post(
            "/contoso/oauth2/login", [("interaction", interaction), ("csrf", csrf), ("username", user), ("password", password)])
        if response.status == .ok, String(buffer: response.body).contains("oauth2/consent"),
            let next = field("interaction", in: response), let nextCSRF = field("csrf", in: response)
        {
            response = try await browser.post(
                "/contoso/oauth2/consent", [("interaction", next), ("csrf", nextCSRF), ("decision", "allow")])
        }
        return response
    }

    /// Redeems a code for the web client.
    func redeem(
        _ client: any TestClientProtocol, code: String, pkce: PKCEPair?, clientID: String = "web", redirect: String = Harness.webRedirect
    ) async throws -> TestResponse {
        var pairs = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect)]
        if let pkce { pairs.append(("code_verifier", pkce.verifier)) }
        if clientID == "native" {
            pairs.append(("client_id", "native"))
            return try await token(client, pairs)
        }
        return try await token(client, pairs, headers: [.authorization: basic(clientID, secret(clientID))])
    }

    func refresh(_ client: any TestClientProtocol, _ refreshToken: String, clientID: String = "web", scope: String? = nil) async throws
        -> TestResponse
    {
        var pairs = [("grant_type", "refresh_token"), ("refresh_token", refreshToken)]
        if let scope { pairs.append(("scope", scope)) }
        return try await token(client, pairs, headers: [.authorization: basic(clientID, secret(clientID))])
    }

    /// A full sign-in and redemption: the token response.
    func tokens(_ client: any TestClientProtocol, scope: String = "openid profile email offline_access") async throws -> [String: Any] {
        let pkce = PKCEPair()
        let browser = Browser(client)
        let reply = try await signIn(browser, uri: authorizeURI(scope: scope, pkce: pkce))
        let code = redirectParameters(reply)["code"] ?? ""
        return json(try await redeem(client, code: code, pkce: pkce))
    }
}

final class ManualTime: @unchecked Sendable {
    // Tests only: changed from the test task between requests, never concurrently with a read.
    var now = Date()
    var source: TimeSource { TimeSource { self.now } }
}
