import Foundation
import GatehouseCore
import Synchronization
import Testing

/// A password hasher for tests: "right" is the only right password; it counts verifications and
/// can hold them until released, so a test can send a request while others are mid-check.
final class GatedHasher: PasswordHasher {
    let verifications = Atomic<Int>(0)
    let released = Atomic<Bool>(true)

    func hash(_ password: String) async throws -> String { "hash:" + password }

    func verify(_ password: String, hash: String) async -> Bool {
        verifications.add(1, ordering: .sequentiallyConsistent)
        while !released.load(ordering: .sequentiallyConsistent) { try? await Task.sleep(for: .milliseconds(5)) }
        return hash == "hash:" + password
    }

    /// Waits until `count` verifications have started (at most 10 s).
    func waitForVerifications(_ count: Int) async {
        for _ in 0..<2000 where verifications.load(ordering: .sequentiallyConsistent) < count {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// The security probe's findings that Core decides on its own (docs/security.md).
@Suite struct SecurityFindingTests {
    let tenant = try! TenantName("contoso")

    func signIn(store: InMemoryStore, hasher: GatedHasher, policy: SignInPolicy = SignInPolicy()) async throws -> PasswordSignIn {
        let now = Date()
        try await store.createUser(
            User(
                tenant: tenant, id: "u1", username: try Username("alice"), email: nil, displayName: "Alice",
                passwordHash: "hash:right", createdAt: now, updatedAt: now))
        return PasswordSignIn(users: store, passwords: hasher, decoyHash: "hash:decoy", policy: policy)
    }

    /// Finding 2: 30 wrong passwords in parallel get at most the threshold of checks, and the
    /// right password sent while they are being checked is refused (50053) without a check.
    @Test func finding02_burstOfWrongPasswordsGetsAtMostThresholdChecks() async throws {
        let store = InMemoryStore()
        let hasher = GatedHasher()
        let signIn = try await signIn(store: store, hasher: hasher)
        hasher.released.store(false, ordering: .sequentiallyConsistent)
        let outcomes = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<30 {
                group.addTask {
                    do {
                        _ = try await signIn.verify(tenant: tenant, username: "alice", password: "wrong")
                        return 0
                    } catch let error as CatalogueError {
                        return error.entry.number
                    }
                }
            }
            await hasher.waitForVerifications(5)
            try? await Task.sleep(for: .milliseconds(100))
            // Inside the burst: five checks are running, everything else was refused before a check.
            #expect(hasher.verifications.load(ordering: .sequentiallyConsistent) == 5)
            // Should it be checked, the held checks are let go after 3 s: the test fails, not hangs.
            let safety = Task {
                try await Task.sleep(for: .seconds(3))
                hasher.released.store(true, ordering: .sequentiallyConsistent)
            }
            await #expect(throws: CatalogueError.self) { _ = try await signIn.verify(tenant: tenant, username: "alice", password: "right") }
            safety.cancel()
            hasher.released.store(true, ordering: .sequentiallyConsistent)
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(hasher.verifications.load(ordering: .sequentiallyConsistent) == 5, "the right password was not checked either")
        #expect(outcomes.filter { $0 == 50126 }.count == 4 && outcomes.filter { $0 == 50053 }.count == 26, "\(outcomes)")
        await #expect(throws: CatalogueError.self) { _ = try await signIn.verify(tenant: tenant, username: "alice", password: "right") }
    }

    /// Finding 2: the right password within the threshold still signs in and clears the count.
    @Test func finding02_successClearsTheCount() async throws {
        let store = InMemoryStore()
        let signIn = try await signIn(store: store, hasher: GatedHasher())
        for _ in 0..<4 {
            await #expect(throws: CatalogueError.self) { _ = try await signIn.verify(tenant: tenant, username: "alice", password: "x") }
        }
        let key = PasswordSignIn.lockKey(
            tenant: tenant, user: try #require(try await store.user(tenant: tenant, username: Username("alice"))), device: nil)
        #expect(try await store.signInFailures(key: key, since: .distantPast) == 4)
        #expect(try await signIn.verify(tenant: tenant, username: "alice", password: "right").id == "u1")
        #expect(try await store.signInFailures(key: key, since: .distantPast) == 0)
    }

    /// Finding 3: a session satisfies a request only as the request demanded.
    @Test func finding03_promptLoginAndMaxAgeNeedASignInMadeForTheRequest() throws {
        let started = Date(timeIntervalSince1970: 1_800_000_000)
        func request(prompt: Set<Prompt> = [], maxAge: Int? = nil) throws -> AuthorizationRequest {
            AuthorizationRequest(
                tenant: try TenantName("t"), clientID: try ClientID("c"),
                reply: AuthorizationReplyTarget(redirectURI: try RedirectURI("https://app.example/cb"), responseMode: .query, state: nil),
                redirectURIWasSent: true, nonce: nil, scope: Scope(tokens: ["openid"]), audience: [], codeChallenge: nil, prompt: prompt,
                maxAge: maxAge, loginHint: nil, uiLocales: nil, issuer: "https://issuer/t")
        }
        func session(at authTime: Date) -> BrowserSession {
            BrowserSession(
                tenant: "t", userID: "u", sid: "s", authTime: authTime, amr: ["pwd"], expiresAt: authTime.addingTimeInterval(3600))
        }
        let old = session(at: started.addingTimeInterval(-600))
        let fresh = session(at: started.addingTimeInterval(2))
        #expect(try request().isSatisfied(by: old, startedAt: started))
        #expect(!(try request(prompt: [.login]).isSatisfied(by: old, startedAt: started)))
        #expect(try request(prompt: [.login]).isSatisfied(by: fresh, startedAt: started))
        #expect(!(try request(maxAge: 0).isSatisfied(by: old, startedAt: started)))
        #expect(try request(maxAge: 0).isSatisfied(by: fresh, startedAt: started))
        #expect(try request(maxAge: 601).isSatisfied(by: old, startedAt: started))
        #expect(!(try request(maxAge: 599).isSatisfied(by: old, startedAt: started)))
    }

    /// Finding 14: dangerous schemes and out-of-range ports never parse; the any-port loopback
    /// rule applies only when asked for (native clients).
    @Test func finding14_redirectURISchemesAndLoopbackPorts() throws {
        for bad in [
            "javascript:alert(1)", "JavaScript://x/%0aalert(1)", "data:text/html,<script>x</script>", "vbscript:msgbox",
            "file:///etc/passwd",
            "blob:https://a/b", "about:blank", "http://127.0.0.1:0/cb", "http://127.0.0.1:99999/cb", "https://a.example/cb\n",
        ] {
            #expect(throws: CatalogueError.self, "\(bad)") { _ = try RedirectURI(bad) }
        }
        for good in [
            "https://app.example.com/cb", "com.example.app:/oauth2redirect", "msal0a1b2c3d://auth", "http://127.0.0.1/cb",
            "http://[::1]:8080/cb",
        ] {
            #expect((try? RedirectURI(good)) != nil, "\(good)")
        }
        let presented = try RedirectURI("http://127.0.0.1:53124/cb")
        #expect(presented.matches(anyOf: ["http://127.0.0.1/cb"], anyLoopbackPort: true))
        #expect(!presented.matches(anyOf: ["http://127.0.0.1/cb"], anyLoopbackPort: false))
        #expect(presented.matches(anyOf: ["http://127.0.0.1:53124/cb"], anyLoopbackPort: false))
        #expect(!(try RedirectURI("http://127.0.0.1:53124/other")).matches(anyOf: ["http://127.0.0.1/cb"], anyLoopbackPort: true))
    }

    /// Finding 11: a user honours only sessions begun after the last credential change.
    @Test func finding11_sessionsBeforeACredentialChangeAreNotHonoured() throws {
        let changed = Date(timeIntervalSince1970: 1_800_000_000)
        var user = User(
            tenant: tenant, id: "u", username: try Username("a"), email: nil, displayName: "A", passwordHash: "h", createdAt: changed,
            updatedAt: changed)
        #expect(user.honours(sessionStartedAt: changed.addingTimeInterval(-1)))
        user.sessionsValidAfter = changed
        #expect(!user.honours(sessionStartedAt: changed.addingTimeInterval(-1)))
        #expect(user.honours(sessionStartedAt: changed))
        user.enabled = false
        #expect(!user.honours(sessionStartedAt: changed.addingTimeInterval(10)))
    }

    /// Finding 6: the header type tells an ID token from an access token.
    @Test func finding06_headerType() {
        func jws(_ header: String) -> String { Base64URL.encode(Data(header.utf8)) + ".e30.sig" }
        #expect(IDTokenClaims.headerType(of: jws(#"{"alg":"ES256","typ":"at+jwt"}"#)) == "at+jwt")
        #expect(IDTokenClaims.headerType(of: jws(#"{"alg":"ES256","typ":"JWT"}"#)) == "JWT")
        #expect(IDTokenClaims.headerType(of: jws(#"{"alg":"ES256"}"#)) == nil)
        #expect(IDTokenClaims.headerType(of: "not a token") == nil)
    }
}
