import Crypto
import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import HummingbirdTesting
import JWTKit
import NIOCore
import Testing

/// Pushed authorization requests (RFC 9126) and signed request objects (RFC 9101) through the
/// real router: the flow, and every refusal the issue lists.
@Suite struct PushedAndSignedRequestTests {
    static let parPath = "/contoso/oauth2/par"
    static let redirect = "https://rp.example.com/callback"

    /// The client's key (its JWKS holds the public half) and one it does not own.
    static let rpKey = P256.Signing.PrivateKey()
    static let strangerKey = P256.Signing.PrivateKey()

    static var rpJWKS: String {
        let raw = Array(rpKey.publicKey.rawRepresentation)
        return
            #"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","alg":"ES256","x":"\#(Base64URL.encode(Array(raw[0..<32])))","y":"\#(Base64URL.encode(Array(raw[32..<64])))"}]}"#
    }

    /// The harness with `rp`: a confidential web app with a secret, private_key_jwt and
    /// `rpKey` as its JWKS (for request objects), and `other`, a second such app.
    static func harness(time: TimeSource = .system, configure: (inout Administration.ClientSpec) -> Void = { _ in }) async throws
        -> Harness
    {
        let harness = try await Harness.make(time: time)
        var secrets = harness.secrets
        for id in ["rp", "other"] {
            var spec = Administration.ClientSpec(id: try ClientID(id), name: id)
            spec.grantTypes = [.authorizationCode, .refreshToken]
            spec.authMethods = [.clientSecretBasic, .privateKeyJWT]
            spec.allowedScopes = Scope(tokens: ["openid", "profile", "email", "offline_access"])
            spec.redirectURIs = [redirect]
            spec.jwks = rpJWKS
            if id == "rp" { configure(&spec) }
            let (_, secret) = try await harness.gatehouse.administration.createClient(tenant: TenantName("contoso"), spec: spec)
            secrets[id] = secret?.value
        }
        return Harness(
            gatehouse: harness.gatehouse, store: harness.store, secrets: secrets, clientKey: harness.clientKey,
            strangerKey: harness.strangerKey, totpSecret: harness.totpSecret)
    }

    /// A compact JWS of `claims` signed with `key` (ES256), or unsigned/mislabelled for `alg`.
    static func sign(
        _ claims: [String: Any], key: P256.Signing.PrivateKey = rpKey, alg: String = "ES256", typ: String = "oauth-authz-req+jwt"
    ) throws -> String {
        let header = Base64URL.encode(Array(#"{"alg":"\#(alg)","kid":"k1","typ":"\#(typ)"}"#.utf8))
        let payload = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])))
        if alg == "none" { return "\(header).\(payload)." }
        let signature = try key.signature(for: Data("\(header).\(payload)".utf8))
        return "\(header).\(payload).\(Base64URL.encode(Array(signature.rawRepresentation)))"
    }

    static func parameters(_ pkce: PKCEPair, client: String = "rp") -> [(String, String)] {
        [
            ("response_type", "code"), ("client_id", client), ("redirect_uri", redirect), ("scope", "openid profile"),
            ("state", "st-9"), ("nonce", "n-9"), ("code_challenge", pkce.challenge), ("code_challenge_method", "S256"),
        ]
    }

    static func push(_ harness: Harness, _ client: any TestClientProtocol, _ pairs: [(String, String)], as id: String = "rp")
        async throws -> TestResponse
    {
        try await harness.token(client, pairs, headers: [.authorization: basic(id, harness.secret(id))], path: parPath)
    }

    /// A request object with `claims`, signed by `key` (the client's own by default).
    static func requestObject(_ harness: Harness, _ claims: [String: Any], key: P256.Signing.PrivateKey = rpKey, alg: String = "ES256")
        async throws -> String
    {
        try sign(claims, key: key, alg: alg)
    }

    /// The authorization endpoint with a request object by value, for `rp`.
    static func authorize(_ client: any TestClientProtocol, _ jwt: String, extra: [(String, String)] = []) async throws -> TestResponse {
        try await client.execute(
            uri: "/contoso/oauth2/authorize?" + formEncode([("client_id", "rp"), ("request", jwt)] + extra), method: .get)
    }

    static func claims(_ pkce: PKCEPair, client: String = "rp", extra: [String: Any] = [:]) -> [String: Any] {
        var object: [String: Any] = [
            "iss": client, "aud": "\(Harness.baseURL)/contoso", "exp": Int(Date().timeIntervalSince1970) + 300,
            "client_id": client, "response_type": "code", "redirect_uri": redirect, "scope": "openid profile", "state": "st-9",
            "nonce": "n-9", "code_challenge": pkce.challenge, "code_challenge_method": "S256",
        ]
        for (key, value) in extra { object[key] = value }
        return object
    }

    func expectPageError(_ response: TestResponse, code: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status.code == 400, "\(String(buffer: response.body).prefix(300))", sourceLocation: sourceLocation)
        #expect(response.headers[.location] == nil, sourceLocation: sourceLocation)
        #expect(String(buffer: response.body).contains(">\(code)<"), "page shows \(code)", sourceLocation: sourceLocation)
    }

    @Test func aPushedRequestSignsTheUserInOnceAndOnlyForItsClient() async throws {
        let harness = try await Self.harness()
        try await harness.withClient { client in
            let pkce = PKCEPair()
            let pushed = try await Self.push(harness, client, Self.parameters(pkce))
            #expect(pushed.status == .created, "\(String(buffer: pushed.body))")
            #expect(pushed.headers[.cacheControl] == "no-store")
            let body = json(pushed)
            let uri = try #require(body["request_uri"] as? String)
            #expect(uri.hasPrefix("urn:ietf:params:oauth:request_uri:"))
            #expect(body["expires_in"] as? Int == 60)
            // Another client presenting it: refused, and the reference is spent.
            let stolen = try await client.execute(
                uri: "/contoso/oauth2/authorize?" + formEncode([("client_id", "other"), ("request_uri", uri)]), method: .get)
            expectPageError(stolen, code: 9900237)
            let again = try await Self.push(harness, client, Self.parameters(pkce))
            let fresh = try #require(json(again)["request_uri"] as? String)
            // The query's other parameters are ignored: the pushed ones count.
            let browser = Browser(client)
            let reply = try await harness.signIn(
                browser, uri: "/contoso/oauth2/authorize?" + formEncode([("client_id", "rp"), ("request_uri", fresh), ("state", "evil")]))
            let parameters = redirectParameters(reply)
            #expect(reply.headers[.location]?.hasPrefix(Self.redirect) == true, "\(String(buffer: reply.body).prefix(300))")
            #expect(parameters["state"] == "st-9")
            let code = try #require(parameters["code"])
            let tokens = try await harness.token(
                client,
                [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", Self.redirect), ("code_verifier", pkce.verifier)],
                headers: [.authorization: basic("rp", harness.secret("rp"))])
            #expect(json(tokens)["id_token"] != nil, "\(String(buffer: tokens.body))")
            // Used once: a second use (a replay) finds nothing.
            let replay = try await client.execute(
                uri: "/contoso/oauth2/authorize?" + formEncode([("client_id", "rp"), ("request_uri", fresh)]), method: .get)
            expectPageError(replay, code: 9900236)
        }
    }

    @Test func aPushedRequestsUILocalesChooseThePagesLanguage() async throws {
        let harness = try await Self.harness()
        try await harness.withClient { client in
            let pushed = try await Self.push(harness, client, Self.parameters(PKCEPair()) + [("ui_locales", "vi")])
            let uri = try #require(json(pushed)["request_uri"] as? String)
            let page = try await client.execute(
                uri: "/contoso/oauth2/authorize?" + formEncode([("client_id", "rp"), ("request_uri", uri)]), method: .get)
            #expect(page.status == .ok)
            #expect(String(buffer: page.body).contains("lang=\"vi\""), "\(String(buffer: page.body).prefix(200))")
        }
    }

    @Test func anExpiredOrForeignRequestURIIsRefused() async throws {
        let time = ManualTime()
        let harness = try await Self.harness(time: time.source)
        try await harness.withClient { client in
            let pushed = try await Self.push(harness, client, Self.parameters(PKCEPair()))
            let uri = try #require(json(pushed)["request_uri"] as? String)
            time.now += 61
            expectPageError(
                try await client.execute(
                    uri: "/contoso/oauth2/authorize?" + formEncode([("client_id", "rp"), ("request_uri", uri)]), method: .get),
                code: 9900236)
            // A request_uri the client hosts is not fetched.
            expectPageError(
                try await client.execute(
                    uri: "/contoso/oauth2/authorize?"
                        + formEncode([("client_id", "rp"), ("request_uri", "https://rp.example.com/request.jwt")]), method: .get),
                code: 9900235)
        }
    }

    @Test func thePushedRequestIsCheckedWhenItIsPushed() async throws {
        let harness = try await Self.harness()
        try await harness.withClient { client in
            var pairs = Self.parameters(PKCEPair())
            // A redirect URI the client did not register: answered to the client, not a browser.
            pairs[2] = ("redirect_uri", "https://evil.example.com/cb")
            expectError(try await Self.push(harness, client, pairs), status: 400, error: "invalid_request", code: 50011)
            // A pushed request may not refer to another.
            expectError(
                try await Self.push(harness, client, Self.parameters(PKCEPair()) + [("request_uri", "urn:x")]), status: 400,
                error: "invalid_request", code: 9900240)
            // The client authenticates (every method the token endpoint takes): a wrong secret is 401.
            let wrong = try await harness.token(
                client, Self.parameters(PKCEPair()), headers: [.authorization: basic("rp", "wrong")], path: Self.parPath)
            expectError(wrong, status: 401, error: "invalid_client", code: 7000215, wwwAuthenticate: true)
            // private_key_jwt at the PAR endpoint, the assertion's audience the endpoint itself.
            let now = Int(Date().timeIntervalSince1970)
            let assertion = try Self.sign(
                [
                    "iss": "rp", "sub": "rp", "aud": Harness.baseURL + Self.parPath, "exp": now + 60, "iat": now, "jti": UUID().uuidString,
                ], typ: "JWT")
            let byKey = try await harness.token(
                client,
                Self.parameters(PKCEPair()) + [
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"), ("client_assertion", assertion),
                ], path: Self.parPath)
            #expect(byKey.status == .created, "\(String(buffer: byKey.body))")
            // A client without the code grant: refused at the push, after authenticating.
            let service = try await harness.token(
                client, [("response_type", "code"), ("client_id", "svc"), ("scope", "api.read")],
                headers: [.authorization: basic("svc", harness.secret("svc"))], path: Self.parPath)
            #expect(service.status == .badRequest, "\(String(buffer: service.body))")
        }
    }

    @Test func parRequiredByTheClientOrTheTenantRefusesAPlainRequest() async throws {
        let harness = try await Self.harness { $0.requirePushedAuthorizationRequests = true }
        try await harness.withClient { client in
            let plain = try await client.execute(
                uri: "/contoso/oauth2/authorize?" + formEncode(Self.parameters(PKCEPair())), method: .get)
            let parameters = redirectParameters(plain)
            #expect(parameters["error"] == "invalid_request")
            #expect(parameters["error_codes"] == "9900238")
            // A pushed one is fine.
            let pushed = try await Self.push(harness, client, Self.parameters(PKCEPair()))
            let uri = try #require(json(pushed)["request_uri"] as? String)
            let page = try await client.execute(
                uri: "/contoso/oauth2/authorize?" + formEncode([("client_id", "rp"), ("request_uri", uri)]), method: .get)
            #expect(page.status == .ok)
            // Tenant-wide: the other client too.
            _ = try await harness.gatehouse.administration.updateTenant(
                tenant: TenantName("contoso"), requirePushedAuthorizationRequests: true)
            let other = try await client.execute(
                uri: "/contoso/oauth2/authorize?" + formEncode(Self.parameters(PKCEPair(), client: "other")), method: .get)
            #expect(redirectParameters(other)["error_codes"] == "9900238")
            let discovery = json(try await client.execute(uri: "/contoso/.well-known/openid-configuration", method: .get))
            #expect(discovery["require_pushed_authorization_requests"] as? Bool == true)
            #expect(discovery["pushed_authorization_request_endpoint"] as? String == Harness.baseURL + Self.parPath)
        }
    }

    @Test func aSignedRequestObjectByValueIsVerifiedAndTakesPrecedence() async throws {
        let harness = try await Self.harness { $0.requireSignedRequestObject = true }
        try await harness.withClient { client in
            let pkce = PKCEPair()
            func authorize(_ jwt: String, extra: [(String, String)] = []) async throws -> TestResponse {
                try await Self.authorize(client, jwt, extra: extra)
            }
            // Without an object: refused at the redirect URI (the client requires signed requests).
            let plain = try await client.execute(uri: "/contoso/oauth2/authorize?" + formEncode(Self.parameters(pkce)), method: .get)
            #expect(redirectParameters(plain)["error_codes"] == "9900239")
            // A good object: the sign-in page; the same value also in the query is fine.
            let good = try await Self.requestObject(harness, Self.claims(pkce))
            #expect(try await authorize(good, extra: [("response_type", "code"), ("scope", "openid profile")]).status == .ok)
            // A query parameter that differs from the object's.
            expectPageError(try await authorize(good, extra: [("scope", "openid email")]), code: 9900234)
            // Signed by a key the client does not own.
            expectPageError(
                try await authorize(try await Self.requestObject(harness, Self.claims(pkce), key: Self.strangerKey)), code: 9900231)
            // alg none, and a shared-secret alg.
            expectPageError(try await authorize(try await Self.requestObject(harness, Self.claims(pkce), alg: "none")), code: 9900229)
            expectPageError(try await authorize(try await Self.requestObject(harness, Self.claims(pkce), alg: "HS256")), code: 9900229)
            // An audience that is not the issuer; an expired one; one not valid yet; another client's iss.
            expectPageError(
                try await authorize(try await Self.requestObject(harness, Self.claims(pkce, extra: ["aud": "https://other.example.com"]))),
                code: 9900232)
            expectPageError(
                try await authorize(
                    try await Self.requestObject(harness, Self.claims(pkce, extra: ["exp": Int(Date().timeIntervalSince1970) - 120]))),
                code: 9900233)
            expectPageError(
                try await authorize(
                    try await Self.requestObject(harness, Self.claims(pkce, extra: ["nbf": Int(Date().timeIntervalSince1970) + 600]))),
                code: 9900233)
            expectPageError(
                try await authorize(try await Self.requestObject(harness, Self.claims(pkce, extra: ["iss": "other"]))), code: 9900228)
            // Garbage and an encrypted (five-part) object.
            expectPageError(try await authorize("not.a-jwt"), code: 9900228)
            expectPageError(try await authorize("a.b.c.d.e"), code: 9900228)
        }
    }

    @Test func aClientWithoutKeysCannotSignRequestObjects() async throws {
        let harness = try await Self.harness()
        try await harness.withClient { client in
            let jwt = try await Self.requestObject(harness, Self.claims(PKCEPair(), client: "web"))
            let response = try await client.execute(
                uri: "/contoso/oauth2/authorize?" + formEncode([("client_id", "web"), ("request", jwt)]), method: .get)
            expectPageError(response, code: 9900230)
        }
    }

    @Test func aSignedObjectPushedThroughPARCompletesTheFlow() async throws {
        let harness = try await Self.harness {
            $0.requireSignedRequestObject = true
            $0.requirePushedAuthorizationRequests = true
        }
        try await harness.withClient { client in
            let pkce = PKCEPair()
            // Unsigned parameters pushed by a client that requires signed ones: refused at the push.
            expectError(
                try await Self.push(harness, client, Self.parameters(pkce)), status: 400, error: "invalid_request", code: 9900239)
            let jwt = try await Self.requestObject(harness, Self.claims(pkce))
            let pushed = try await Self.push(harness, client, [("request", jwt)])
            #expect(pushed.status == .created, "\(String(buffer: pushed.body))")
            let uri = try #require(json(pushed)["request_uri"] as? String)
            let reply = try await harness.signIn(
                Browser(client), uri: "/contoso/oauth2/authorize?" + formEncode([("client_id", "rp"), ("request_uri", uri)]))
            #expect(redirectParameters(reply)["code"] != nil, "\(String(buffer: reply.body).prefix(300))")
            // A bad object is answered at the push, as JSON.
            let expired = try await Self.requestObject(harness, Self.claims(pkce, extra: ["exp": Int(Date().timeIntervalSince1970) - 600]))
            expectError(
                try await Self.push(harness, client, [("request", expired)]), status: 400, error: "invalid_request_object", code: 9900233)
        }
    }

    @Test func aBurstOfUsesOfOneRequestURIGetsOneSignInPage() async throws {
        let harness = try await Self.harness()
        try await harness.withClient { client in
            let pushed = try await Self.push(harness, client, Self.parameters(PKCEPair()))
            let uri = try #require(json(pushed)["request_uri"] as? String)
            let path = "/contoso/oauth2/authorize?" + formEncode([("client_id", "rp"), ("request_uri", uri)])
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 { group.addTask { Int(try await client.execute(uri: path, method: .get).status.code) } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == 400 }.count == 7, "\(statuses)")
        }
    }
    @Test func aTimeFarOutOfRangeIsRefusedNotATrap() async throws {
        let harness = try await Self.harness()
        try await harness.withClient { client in
            for (name, value) in [("exp", 1e300), ("nbf", -1e300), ("exp", 1e12)] {
                let jwt = try Self.sign(Self.claims(PKCEPair(), extra: [name: value]))
                expectPageError(try await Self.authorize(client, jwt), code: 9900228)
            }
        }
    }

    @Test func aClientThatRequiresSignedRequestsGetsNoUnsignedParameterAdded() async throws {
        let harness = try await Self.harness { $0.requireSignedRequestObject = true }
        try await harness.withClient { client in
            let pkce = PKCEPair()
            func authorize(_ jwt: String, extra: [(String, String)] = []) async throws -> TestResponse {
                try await Self.authorize(client, jwt, extra: extra)
            }
            let good = try Self.sign(Self.claims(pkce))
            // A parameter the object does not hold, added to the URL (prompt, resource, login_hint...).
            expectPageError(try await authorize(good, extra: [("prompt", "none")]), code: 9900228)
            expectPageError(try await authorize(good, extra: [("login_hint", "mallory")]), code: 9900228)
            // Without exp or iss the object could be used again without end: refused for this client.
            var noExp = Self.claims(pkce)
            noExp["exp"] = nil
            expectPageError(try await authorize(try Self.sign(noExp)), code: 9900228)
            var noIss = Self.claims(pkce)
            noIss["iss"] = nil
            expectPageError(try await authorize(try Self.sign(noIss)), code: 9900228)
            // The same values in both places are fine (OpenID Connect clients repeat response_type and scope).
            #expect(try await authorize(good, extra: [("response_type", "code"), ("scope", "openid profile")]).status == .ok)
            // Pushed: a form parameter beside the object is refused, whatever the client requires.
            expectError(
                try await Self.push(harness, client, [("request", good), ("prompt", "none")]), status: 400,
                error: "invalid_request_object", code: 9900228)
        }
    }

    @Test func aRequestObjectIsNeverAClientAssertion() async throws {
        let harness = try await Self.harness()
        try await harness.withClient { client in
            // An object that happens to carry what an assertion needs, seen in a browser's URL.
            let now = Int(Date().timeIntervalSince1970)
            let object = try Self.sign([
                "iss": "rp", "sub": "rp", "aud": Harness.tokenEndpoint, "exp": now + 60, "jti": UUID().uuidString,
                "response_type": "code", "client_id": "rp", "redirect_uri": Self.redirect,
            ])
            let response = try await harness.token(
                client,
                [
                    ("grant_type", "client_credentials"), ("client_id", "rp"),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"), ("client_assertion", object),
                ])
            expectError(response, status: 401, error: "invalid_client", code: 50027)
        }
    }
}
