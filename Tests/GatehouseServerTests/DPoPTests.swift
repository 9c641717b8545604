import Crypto
import CryptoExtras
import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A client's DPoP key, and proofs made with it the way a client library makes them (RFC 9449
/// §4.2), with every part open to a test that wants to break one.
struct ProofKey: Sendable {
    enum Key: Sendable {
        case p256(P256.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey, pss: Bool)
    }

    let key: Key

    static func es256() -> ProofKey { ProofKey(key: .p256(P256.Signing.PrivateKey())) }
    static func edDSA() -> ProofKey { ProofKey(key: .ed25519(Curve25519.Signing.PrivateKey())) }
    static func rsa(bits: Int = 2048, pss: Bool = false) throws -> ProofKey {
        ProofKey(key: .rsa(try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: bits)), pss: pss))
    }

    var alg: String {
        switch key {
        case .p256: "ES256"
        case .ed25519: "EdDSA"
        case .rsa(_, let pss): pss ? "PS256" : "RS256"
        }
    }

    /// The public JWK: only the members RFC 7638 hashes.
    var jwk: [String: String] {
        switch key {
        case .p256(let key):
            let raw = key.publicKey.rawRepresentation
            return ["kty": "EC", "crv": "P-256", "x": Base64URL.encode(raw.prefix(32)), "y": Base64URL.encode(raw.suffix(32))]
        case .ed25519(let key):
            return ["kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(key.publicKey.rawRepresentation)]
        case .rsa(let key, _):
            let primitives = try! key.publicKey.getKeyPrimitives()
            return ["kty": "RSA", "n": Base64URL.encode(primitives.modulus), "e": Base64URL.encode(primitives.publicExponent)]
        }
    }

    /// RFC 7638, computed here on its own: the members, sorted, no blanks, SHA-256, base64url.
    var thumbprint: String {
        let data = try! JSONSerialization.data(withJSONObject: jwk, options: [.sortedKeys, .withoutEscapingSlashes])
        return Base64URL.encode(Array(SHA256.hash(data: data)))
    }

    func sign(_ input: Data) -> Data {
        switch key {
        case .p256(let key): return try! key.signature(for: input).rawRepresentation
        case .ed25519(let key): return try! key.signature(for: input)
        case .rsa(let key, let pss): return try! key.signature(for: input, padding: pss ? .PSS : .insecurePKCS1v1_5).rawRepresentation
        }
    }

    static func part(_ object: [String: Any]) -> String {
        Base64URL.encode(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    /// A proof for `htm` `htu`; `header` and `claims` replace or add members (`NSNull` removes one).
    func proof(
        htm: String = "POST", htu: String = Harness.tokenEndpoint, iat: Date = Date(), jti: String = UUID().uuidString,
        nonce: String? = nil,
        accessToken: String? = nil, header: [String: Any] = [:], claims: [String: Any] = [:], signer: ProofKey? = nil
    ) -> String {
        var head: [String: Any] = ["typ": "dpop+jwt", "alg": alg, "jwk": jwk]
        var body: [String: Any] = ["htm": htm, "htu": htu, "iat": Int(iat.timeIntervalSince1970), "jti": jti]
        if let nonce { body["nonce"] = nonce }
        if let accessToken { body["ath"] = Base64URL.encode(Array(SHA256.hash(data: Data(accessToken.utf8)))) }
        for (name, value) in header { head[name] = value is NSNull ? nil : value }
        for (name, value) in claims { body[name] = value is NSNull ? nil : value }
        let input = Self.part(head) + "." + Self.part(body)
        return input + "." + Base64URL.encode((signer ?? self).sign(Data(input.utf8)))
    }
}

/// A base64url text in the standard alphabet (`-` and `_` as `+` and `/`): the same bytes to a
/// lenient decoder, another thumbprint to anyone who hashes the text.
func standardAlphabet(_ text: String) -> String {
    var changed = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    if changed == text { changed = text + "=" }  // no such character in this one: padding instead
    return changed
}

/// DPoP (RFC 9449) at the token endpoint, introspection and userinfo.
@Suite struct DPoPTests {
    static let userinfo = Harness.baseURL + "/contoso/oidc/userinfo"

    static func code(_ response: TestResponse) -> Int? { (json(response)["error_codes"] as? [Int])?.first }

    static func claims(_ jwt: String) -> [String: Any] {
        let parts = jwt.split(separator: ".")
        guard parts.count == 3, let data = Base64URL.decode(parts[1]) else { return [:] }
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    static func clientCredentials(_ harness: Harness, _ client: any TestClientProtocol, proof: String?) async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: basic("svc", harness.secret("svc"))]
        if let proof { headers[.dpop] = proof }
        return try await harness.token(client, [("grant_type", "client_credentials")], headers: headers)
    }

    @Test func aProofBindsTheAccessTokenAndIntrospectionSaysSo() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            for key in [ProofKey.es256(), .edDSA(), try .rsa(), try .rsa(pss: true)] {
                let response = try await Self.clientCredentials(harness, client, proof: key.proof())
                #expect(response.status == .ok, "\(key.alg): \(String(buffer: response.body))")
                let body = json(response)
                #expect(body["token_type"] as? String == "DPoP")
                let access = try #require(body["access_token"] as? String)
                #expect(Self.claims(access)["cnf"] as? [String: String] == ["jkt": key.thumbprint], "\(key.alg)")
                let introspected = json(
                    try await client.execute(
                        uri: "/contoso/oauth2/introspect", method: .post,
                        headers: [.contentType: "application/x-www-form-urlencoded", .authorization: basic("svc", harness.secret("svc"))],
                        body: ByteBuffer(string: formEncode([("token", access)]))))
                #expect(introspected["active"] as? Bool == true && introspected["token_type"] as? String == "DPoP")
                #expect(introspected["cnf"] as? [String: String] == ["jkt": key.thumbprint])
            }
            // Without a proof: a bearer token, as before.
            let plain = json(try await Self.clientCredentials(harness, client, proof: nil))
            #expect(plain["token_type"] as? String == "Bearer")
            #expect(Self.claims(plain["access_token"] as? String ?? "")["cnf"] == nil)
        }
    }

    @Test func everyBrokenProofGetsItsOwnCatalogueEntry() async throws {
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source)
        let key = ProofKey.es256()
        let other = ProofKey.es256()
        var privateJWK: [String: String] = key.jwk
        privateJWK["d"] = "AAAA"
        let rsaSmall = try ProofKey.rsa(bits: 1024)
        // Proofs are made at the server's (manual) time: a loaded test run must not age them.
        let now = time.now
        @Sendable func proof(
            htm: String = "POST", htu: String = Harness.tokenEndpoint, iat: Date? = nil, header: [String: Any] = [:],
            claims: [String: Any] = [:], signer: ProofKey? = nil, with proofKey: ProofKey? = nil
        ) -> String {
            (proofKey ?? key).proof(htm: htm, htu: htu, iat: iat ?? now, header: header, claims: claims, signer: signer)
        }
        let cases: [(String, String, Int)] = [
            ("not a JWS", "abc.def", 9_900_243),
            ("header not JSON", "bm90anNvbg.e30.AAAA", 9_900_243),
            ("typ", proof(header: ["typ": "JWT"]), 9_900_244),
            ("no typ", proof(header: ["typ": NSNull()]), 9_900_244),
            ("alg none", proof(header: ["alg": "none"]), 9_900_245),
            ("HS256", proof(header: ["alg": "HS256"]), 9_900_245),
            ("RS512", proof(header: ["alg": "RS512"]), 9_900_245),
            ("private key in jwk", proof(header: ["jwk": privateJWK]), 9_900_246),
            ("no jwk", proof(header: ["jwk": NSNull()]), 9_900_246),
            ("EC key with RS256", proof(header: ["alg": "RS256"]), 9_900_246),
            ("RSA 1024", proof(with: rsaSmall), 9_900_246),
            ("padded x", proof(header: ["jwk": key.jwk.merging(["x": (key.jwk["x"] ?? "") + "="]) { $1 }]), 9_900_246),
            (
                "x in the standard alphabet", proof(header: ["jwk": key.jwk.merging(["x": standardAlphabet(key.jwk["x"] ?? "")]) { $1 }]),
                9_900_246
            ),
            ("signed by another key", proof(signer: other), 9_900_247),
            ("htm", proof(htm: "GET"), 9_900_248),
            ("htu of another endpoint", proof(htu: Harness.baseURL + "/contoso/oauth2/par"), 9_900_249),
            ("htu of another tenant", proof(htu: Harness.baseURL + "/fabrikam/oauth2/token"), 9_900_249),
            ("htu on another host", proof(htu: "https://evil.test/contoso/oauth2/token"), 9_900_249),
            ("iat two minutes old", proof(iat: time.now.addingTimeInterval(-120)), 9_900_250),
            ("iat a minute ahead", proof(iat: time.now.addingTimeInterval(60)), 9_900_250),
            ("no jti", proof(claims: ["jti": NSNull()]), 9_900_252),
            ("no htu", proof(claims: ["htu": NSNull()]), 9_900_252),
            ("iat a string", proof(claims: ["iat": "now"]), 9_900_243),
        ]
        try await harness.withClient { client in
            for (name, proof, expected) in cases {
                let response = try await Self.clientCredentials(harness, client, proof: proof)
                #expect(response.status == .badRequest, "\(name)")
                #expect(json(response)["error"] as? String == "invalid_dpop_proof", "\(name)")
                #expect(Self.code(response) == expected, "\(name): \(String(buffer: response.body))")
            }
            // Two DPoP headers: refused, whichever is valid.
            var headers: HTTPFields = [.authorization: basic("svc", harness.secret("svc"))]
            headers.append(HTTPField(name: .dpop, value: proof()))
            headers.append(HTTPField(name: .dpop, value: proof()))
            var all: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            all.append(contentsOf: headers)
            let two = try await client.execute(
                uri: Harness.tokenPath, method: .post, headers: all, body: ByteBuffer(string: "grant_type=client_credentials"))
            #expect(Self.code(two) == 9_900_243)
            // htu is compared without query and fragment, scheme and host without case.
            let query = try await Self.clientCredentials(
                harness, client, proof: proof(htu: "HTTPS://Login.Test/contoso/oauth2/token?x=1#f"))
            #expect(query.status == .ok, "\(String(buffer: query.body))")
            // A proof within the window from a client a little ahead or behind is accepted.
            #expect(
                try await Self.clientCredentials(harness, client, proof: proof(iat: time.now.addingTimeInterval(-50))).status == .ok)
            #expect(try await Self.clientCredentials(harness, client, proof: proof(iat: time.now.addingTimeInterval(5))).status == .ok)
        }
    }

    @Test func aProofIsUsedOnceEvenInABurstAndOnAnotherNode() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dpop-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try await SQLiteDatabase.open(path: path)
        let harness = try await Harness.make(store: first.store)
        let second = try await SQLiteDatabase.open(path: path)
        let node = Harness(
            gatehouse: Gatehouse(configuration: harness.gatehouse.configuration, store: second.store, hasher: harness.gatehouse.hasher),
            store: second.store, secrets: harness.secrets, clientKey: harness.clientKey, strangerKey: harness.strangerKey,
            totpSecret: harness.totpSecret)
        let key = ProofKey.es256()
        try await harness.withClient { client in
            let proof = key.proof()
            let statuses = try await withThrowingTaskGroup(of: Int?.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let response = try await Self.clientCredentials(harness, client, proof: proof)
                        return response.status == .ok ? 0 : Self.code(response)
                    }
                }
                return try await group.reduce(into: [Int?]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 0 }.count == 1)
            #expect(statuses.filter { $0 == 9_900_251 }.count == 7, "\(statuses)")
            // The same proof at the other node: already used.
            let replayed = try await node.withClient { other in try await Self.clientCredentials(node, other, proof: proof) }
            #expect(Self.code(replayed) == 9_900_251)
            // A new proof from the same key works at either node.
            #expect(try await node.withClient { other in try await Self.clientCredentials(node, other, proof: key.proof()) }.status == .ok)
        }
        try await second.close()
        try await first.close()
    }

    @Test func aTenantThatRequiresNoncesHandsThemOutAndRotatesThem() async throws {
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source)
        _ = try await harness.gatehouse.administration.updateTenant(tenant: try TenantName("contoso"), requireDPoPNonce: true)
        let key = ProofKey.es256()
        try await harness.withClient { client in
            let first = try await Self.clientCredentials(harness, client, proof: key.proof(iat: time.now))
            #expect(first.status == .badRequest && json(first)["error"] as? String == "use_dpop_nonce" && Self.code(first) == 9_900_253)
            let nonce = try #require(first.headers[.dpopNonce])
            let second = try await Self.clientCredentials(harness, client, proof: key.proof(iat: time.now, nonce: nonce))
            #expect(second.status == .ok && second.headers[.dpopNonce] == nonce)
            // A nonce of another shape, and one past its two periods, are refused with a fresh one.
            #expect(
                Self.code(try await Self.clientCredentials(harness, client, proof: key.proof(iat: time.now, nonce: "made-up"))) == 9_900_253
            )
            time.now = time.now.addingTimeInterval(601)
            let stale = try await Self.clientCredentials(harness, client, proof: key.proof(iat: time.now, nonce: nonce))
            #expect(Self.code(stale) == 9_900_253)
            let fresh = try #require(stale.headers[.dpopNonce])
            #expect(fresh != nonce)
            #expect(try await Self.clientCredentials(harness, client, proof: key.proof(iat: time.now, nonce: fresh)).status == .ok)
            // Requests without DPoP are not affected.
            #expect(try await Self.clientCredentials(harness, client, proof: nil).status == .ok)
        }
    }

    @Test func aClientThatRequiresDPoPGetsNoTokenWithoutAProof() async throws {
        let harness = try await Harness.make()
        var change = Administration.ClientChange()
        change.requireDPoP = true
        _ = try await harness.gatehouse.administration.updateClient(
            tenant: try TenantName("contoso"), id: try ClientID("svc"), change: change)
        try await harness.withClient { client in
            let refused = try await Self.clientCredentials(harness, client, proof: nil)
            #expect(refused.status == .badRequest && json(refused)["error"] as? String == "invalid_dpop_proof")
            #expect(Self.code(refused) == 9_900_254)
            #expect(try await Self.clientCredentials(harness, client, proof: ProofKey.es256().proof()).status == .ok)
        }
    }

    /// A public client through the code flow: `dpop_jkt` binds the code, the refresh token is
    /// bound, and only the key can use it; a retry within the window is the key's, from anywhere.
    @Test func aPublicClientsCodeAndRefreshTokensAreBoundToItsKey() async throws {
        let harness = try await Harness.make()
        let key = ProofKey.es256()
        let thief = ProofKey.es256()
        try await harness.withClient { client in
            func code(jkt: String?) async throws -> (String, PKCEPair) {
                let pkce = PKCEPair()
                let uri = harness.authorizeURI(
                    client: "native", redirect: "http://127.0.0.1/callback", scope: "openid offline_access", pkce: pkce,
                    extra: jkt.map { [("dpop_jkt", $0)] } ?? [])
                let reply = try await harness.signIn(Browser(client), uri: uri)
                return (try #require(redirectParameters(reply)["code"]), pkce)
            }
            func redeem(_ code: String, _ pkce: PKCEPair, proof: String?) async throws -> TestResponse {
                try await harness.token(
                    client,
                    [
                        ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", "http://127.0.0.1/callback"),
                        ("code_verifier", pkce.verifier), ("client_id", "native"),
                    ], headers: proof.map { [.dpop: $0] } ?? [:])
            }
            func refresh(_ token: String, proof: String?, agent: String = "app/1") async throws -> TestResponse {
                var headers: HTTPFields = [.userAgent: agent]
                if let proof { headers[.dpop] = proof }
                return try await harness.token(
                    client, [("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", "native")], headers: headers)
            }
            // A malformed dpop_jkt goes back to the redirect URI.
            let malformed = try await Browser(client).get(
                harness.authorizeURI(
                    client: "native", redirect: "http://127.0.0.1/callback", scope: "openid", extra: [("dpop_jkt", "short")]))
            #expect(redirectParameters(malformed)["error"] == "invalid_request")
            // dpop_jkt: another key's proof, or none, does not redeem the code (and spends it).
            let (stolen, stolenPKCE) = try await code(jkt: key.thumbprint)
            let wrongKey = try await redeem(stolen, stolenPKCE, proof: thief.proof())
            #expect(json(wrongKey)["error"] as? String == "invalid_grant" && Self.code(wrongKey) == 9_900_257)
            let (bare, barePKCE) = try await code(jkt: key.thumbprint)
            #expect(Self.code(try await redeem(bare, barePKCE, proof: nil)) == 9_900_257)
            // The key's own proof redeems it: DPoP tokens, the refresh token bound.
            let (good, goodPKCE) = try await code(jkt: key.thumbprint)
            let redeemed = try await redeem(good, goodPKCE, proof: key.proof())
            #expect(redeemed.status == .ok && json(redeemed)["token_type"] as? String == "DPoP", "\(String(buffer: redeemed.body))")
            let refreshToken = try #require(json(redeemed)["refresh_token"] as? String)
            // Without a proof, or with another key's: refused, and the grant lives on.
            let none = try await refresh(refreshToken, proof: nil)
            #expect(json(none)["error"] as? String == "invalid_grant" && Self.code(none) == 9_900_256)
            #expect(Self.code(try await refresh(refreshToken, proof: thief.proof())) == 9_900_256)
            let rotated = try await refresh(refreshToken, proof: key.proof())
            #expect(rotated.status == .ok && json(rotated)["token_type"] as? String == "DPoP", "\(String(buffer: rotated.body))")
            let successor = try #require(json(rotated)["refresh_token"] as? String)
            // A retry of the replaced token from another address or agent, with the key: the same
            // successor (the key decides, not the user agent).
            let retry = try await refresh(refreshToken, proof: key.proof(), agent: "other/2")
            #expect(retry.status == .ok && json(retry)["refresh_token"] as? String == successor, "\(String(buffer: retry.body))")
            #expect(try await refresh(successor, proof: key.proof()).status == .ok)
            // Revoking the bound refresh token needs the key too (else whoever holds a copy could
            // end the grant); with it, the grant ends.
            func revoke(_ token: String, proof: String?) async throws -> TestResponse {
                try await client.execute(
                    uri: "/contoso/oauth2/revoke", method: .post,
                    headers: proof.map { [.contentType: "application/x-www-form-urlencoded", .dpop: $0] }
                        ?? [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: formEncode([("token", successor), ("client_id", "native")])))
            }
            let revocationURL = Harness.baseURL + "/contoso/oauth2/revoke"
            #expect(Self.code(try await revoke(successor, proof: nil)) == 9_900_256)
            #expect(Self.code(try await revoke(successor, proof: thief.proof(htu: revocationURL))) == 9_900_256)
            #expect(try await revoke(successor, proof: key.proof(htu: revocationURL)).status == .ok)
            #expect(json(try await refresh(successor, proof: key.proof()))["error"] as? String == "invalid_grant")
            // Without dpop_jkt, the redemption's proof binds the grant.
            let (open, openPKCE) = try await code(jkt: nil)
            let openRedeemed = try await redeem(open, openPKCE, proof: key.proof())
            let openRefresh = try #require(json(openRedeemed)["refresh_token"] as? String)
            #expect(Self.code(try await refresh(openRefresh, proof: thief.proof())) == 9_900_256)
            // Redeemed without a proof, the grant stays unbound: a thief who refreshes first with
            // a key of their own does not take it over, and the client's next refresh (its token
            // now replaced) is reuse, which ends the grant for both.
            let (plain, plainPKCE) = try await code(jkt: nil)
            let plainRedeemed = try await redeem(plain, plainPKCE, proof: nil)
            #expect(json(plainRedeemed)["token_type"] as? String == "Bearer")
            let plainRefresh = try #require(json(plainRedeemed)["refresh_token"] as? String)
            let takeover = try await refresh(plainRefresh, proof: thief.proof(), agent: "thief/1")
            #expect(takeover.status == .ok && json(takeover)["token_type"] as? String == "DPoP")
            let thiefToken = try #require(json(takeover)["refresh_token"] as? String)
            let victim = try await refresh(plainRefresh, proof: nil)
            #expect(Self.code(victim) == 9_900_154, "\(String(buffer: victim.body))")
            #expect(json(try await refresh(thiefToken, proof: thief.proof(), agent: "thief/1"))["error"] as? String == "invalid_grant")
        }
    }

    @Test func userinfoTakesABoundTokenOnlyWithItsProof() async throws {
        let harness = try await Harness.make()
        let key = ProofKey.es256()
        try await harness.withClient { client in
            let pkce = PKCEPair()
            let reply = try await harness.signIn(Browser(client), uri: harness.authorizeURI(scope: "openid profile", pkce: pkce))
            let code = try #require(redirectParameters(reply)["code"])
            let redeemed = try await harness.token(
                client,
                [
                    ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", Harness.webRedirect),
                    ("code_verifier", pkce.verifier),
                ], headers: [.authorization: basic("web", harness.secret("web")), .dpop: key.proof()])
            let access = try #require(json(redeemed)["access_token"] as? String)
            func call(_ scheme: String, proof: String?) async throws -> TestResponse {
                var headers: HTTPFields = [.authorization: "\(scheme) \(access)"]
                if let proof { headers[.dpop] = proof }
                return try await client.execute(uri: "/contoso/oidc/userinfo", method: .get, headers: headers)
            }
            let ok = try await call("DPoP", proof: key.proof(htm: "GET", htu: Self.userinfo, accessToken: access))
            #expect(ok.status == .ok && json(ok)["preferred_username"] as? String == "alice", "\(String(buffer: ok.body))")
            // As a Bearer token: refused, with the DPoP challenge carrying the error.
            let bearer = try await call("Bearer", proof: nil)
            #expect(bearer.status == .unauthorized && Self.code(bearer) == 9_900_258)
            #expect(bearer.headers[values: .wwwAuthenticate].first?.hasPrefix(#"DPoP realm="contoso", error="invalid_token""#) == true)
            let cases: [(String, String?, Int)] = [
                ("no proof", nil, 9_900_243),
                ("no ath", key.proof(htm: "GET", htu: Self.userinfo), 9_900_252),
                ("ath of another token", key.proof(htm: "GET", htu: Self.userinfo, accessToken: access + "x"), 9_900_255),
                ("another key", ProofKey.es256().proof(htm: "GET", htu: Self.userinfo, accessToken: access), 9_900_260),
                ("POST proof for a GET", key.proof(htm: "POST", htu: Self.userinfo, accessToken: access), 9_900_248),
                ("token endpoint proof", key.proof(htm: "GET", accessToken: access), 9_900_249),
            ]
            for (name, proof, expected) in cases {
                let response = try await call("DPoP", proof: proof)
                #expect(response.status == .unauthorized && Self.code(response) == expected, "\(name): \(String(buffer: response.body))")
                #expect(
                    response.headers[values: .wwwAuthenticate].first?.hasPrefix(#"DPoP realm="contoso", error="invalid_dpop_proof""#)
                        == true,
                    "\(name): \(response.headers[values: .wwwAuthenticate])")
            }
            // A replayed proof.
            let once = key.proof(htm: "GET", htu: Self.userinfo, accessToken: access)
            #expect(try await call("DPoP", proof: once).status == .ok)
            #expect(Self.code(try await call("DPoP", proof: once)) == 9_900_251)
            // A bearer token with the DPoP scheme.
            let bearerToken = try #require(try await harness.tokens(client, scope: "openid profile")["access_token"] as? String)
            let wrongScheme = try await client.execute(
                uri: "/contoso/oidc/userinfo", method: .get,
                headers: [
                    .authorization: "DPoP \(bearerToken)", .dpop: key.proof(htm: "GET", htu: Self.userinfo, accessToken: bearerToken),
                ])
            #expect(wrongScheme.status == .unauthorized && Self.code(wrongScheme) == 9_900_259)
            // Nonces at the resource: a 401 use_dpop_nonce with the nonce, then success.
            _ = try await harness.gatehouse.administration.updateTenant(tenant: try TenantName("contoso"), requireDPoPNonce: true)
            let challenge = try await call("DPoP", proof: key.proof(htm: "GET", htu: Self.userinfo, accessToken: access))
            #expect(challenge.status == .unauthorized && json(challenge)["error"] as? String == "use_dpop_nonce")
            #expect(challenge.headers[values: .wwwAuthenticate].first?.contains(#"error="use_dpop_nonce""#) == true)
            let nonce = try #require(challenge.headers[.dpopNonce])
            let answered = try await call("DPoP", proof: key.proof(htm: "GET", htu: Self.userinfo, nonce: nonce, accessToken: access))
            #expect(answered.status == .ok && answered.headers[.dpopNonce] == nonce)
        }
    }

    /// RFC 9449 §10.1: a proof at the PAR endpoint binds the code as `dpop_jkt` does; with both,
    /// they must name the same key.
    @Test func aProofAtThePushedRequestEndpointBindsTheCode() async throws {
        let harness = try await Harness.make()
        let key = ProofKey.es256()
        let parURL = Harness.baseURL + "/contoso/oauth2/par"
        try await harness.withClient { client in
            func push(proof: String, extra: [(String, String)] = []) async throws -> (TestResponse, PKCEPair) {
                let pkce = PKCEPair()
                let response = try await harness.token(
                    client,
                    [
                        ("client_id", "native"), ("response_type", "code"), ("redirect_uri", "http://127.0.0.1/callback"),
                        ("scope", "openid offline_access"), ("code_challenge", pkce.challenge), ("code_challenge_method", "S256"),
                        ("state", "s"),
                    ] + extra, headers: [.dpop: proof], path: "/contoso/oauth2/par")
                return (response, pkce)
            }
            let other = ProofKey.es256()
            let (mismatch, _) = try await push(proof: key.proof(htu: parURL), extra: [("dpop_jkt", other.thumbprint)])
            #expect(mismatch.status == .badRequest && Self.code(mismatch) == 9_900_261, "\(String(buffer: mismatch.body))")
            let (wrongURL, _) = try await push(proof: key.proof())
            #expect(Self.code(wrongURL) == 9_900_249)
            let (pushed, pkce) = try await push(proof: key.proof(htu: parURL), extra: [("dpop_jkt", key.thumbprint)])
            #expect(pushed.status == .created, "\(String(buffer: pushed.body))")
            let requestURI = try #require(json(pushed)["request_uri"] as? String)
            let reply = try await harness.signIn(
                Browser(client), uri: "/contoso/oauth2/authorize?" + formEncode([("client_id", "native"), ("request_uri", requestURI)]))
            let code = try #require(redirectParameters(reply)["code"])
            func redeem(_ proof: String) async throws -> TestResponse {
                try await harness.token(
                    client,
                    [
                        ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", "http://127.0.0.1/callback"),
                        ("code_verifier", pkce.verifier), ("client_id", "native"),
                    ], headers: [.dpop: proof])
            }
            // The code is the proof key's: another key's redemption is refused (and spends it).
            #expect(Self.code(try await redeem(other.proof())) == 9_900_257)
            // A second push, proof only: the key's redemption works.
            let (again, againPKCE) = try await push(proof: key.proof(htu: parURL))
            let againURI = try #require(json(again)["request_uri"] as? String)
            let againReply = try await harness.signIn(
                Browser(client), uri: "/contoso/oauth2/authorize?" + formEncode([("client_id", "native"), ("request_uri", againURI)]))
            let againCode = try #require(redirectParameters(againReply)["code"])
            let redeemed = try await harness.token(
                client,
                [
                    ("grant_type", "authorization_code"), ("code", againCode), ("redirect_uri", "http://127.0.0.1/callback"),
                    ("code_verifier", againPKCE.verifier), ("client_id", "native"),
                ], headers: [.dpop: other.proof()])
            #expect(Self.code(redeemed) == 9_900_257)
        }
    }

    @Test func discoveryAdvertisesTheProofAlgorithms() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let document = json(try await client.execute(uri: "/contoso/.well-known/openid-configuration", method: .get))
            #expect(document["dpop_signing_alg_values_supported"] as? [String] == ["ES256", "RS256", "PS256", "EdDSA"])
        }
    }
}

extension HTTPField.Name {
    static let dpop = HTTPField.Name("DPoP")!
    static let dpopNonce = HTTPField.Name("DPoP-Nonce")!
}
