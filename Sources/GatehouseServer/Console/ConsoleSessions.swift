import Foundation
import GatehouseCore
import Hummingbird

/// A console operator's session: who signed in to which tenant's console, when they last
/// proved who they are (`authTime`), and the CSRF token of its forms. Kept in the store's state
/// table under a keyed hash of the cookie (every node sees it; the cookie alone is never stored).
struct ConsoleSession: Codable, Sendable {
    let tenant: String
    let userID: String
    let username: String
    let authTime: Date
    let startedAt: Date
    let csrf: String
    /// When the idle deadline was last moved (at most once a minute: not a write per page).
    var touchedAt: Date?
    /// The browser session (`sid`) the sign-in came from: the account page ends with it.
    var sid: String? = nil
    /// A TOTP secret being enrolled on the account page, sealed with the server key.
    var pendingTOTP: String? = nil
}

/// A console sign-in under way: the PKCE verifier, where to go after, and a hash of the
/// browser binding cookie (a `state` alone, sent through the browser, proves nothing).
struct ConsoleLogin: Codable, Sendable {
    let tenant: String
    let verifier: String
    let returnTo: String
    let binding: String
    /// A re-authentication asked for `max_age=0`: the callback then insists on a fresh sign-in.
    let reauthentication: Bool
    let startedAt: Date
}

/// The console's sessions, and the account page's (`area` "account": its own state kinds, cookie
/// names and a cookie path of the tenant's account page alone).
struct ConsoleSessions: Sendable {
    let store: any StateStore
    let hasher: SecretHasher
    let time: TimeSource
    let random: RandomSource
    let configuration: ServerConfiguration
    /// "console" or "account": the prefix of the state kinds and keys.
    var area = "console"

    static let sessionCookie = "gatehouse_console"
    static let loginCookie = "gatehouse_console_login"
    var sessionCookie: String { area == "console" ? Self.sessionCookie : "gatehouse_\(area)" }
    var loginCookie: String { area == "console" ? Self.loginCookie : "gatehouse_\(area)_login" }
    /// A session unused this long ends.
    static let idleTimeout: TimeInterval = 15 * 60
    /// A session ends this long after it began, used or not.
    static let absoluteLifetime: TimeInterval = 8 * 3_600
    /// Creating a secret or rotating keys needs a sign-in at most this old.
    static let recentAuthentication: TimeInterval = 5 * 60
    /// How often a session's idle deadline moves: its end is between `idleTimeout` minus this
    /// and `idleTimeout` after its last use.
    static let touchInterval: TimeInterval = 60
    /// A console sign-in must come back within this time.
    static let loginLifetime: TimeInterval = 10 * 60

    /// The console cookie covers the whole server's path: the troubleshooting page (`/error`) reads
    /// it to offer a signed-in administrator the full record. `SameSite=Strict`, `HttpOnly`,
    /// `Secure` when the base URL is HTTPS.
    var cookiePath: String { configuration.basePath + "/" }

    /// The account page's cookies cover only the tenant's account page.
    func cookie(_ name: String, value: String, maxAge: Int?, sameSite: Cookie.SameSite = .strict, tenant: String? = nil) -> Cookie {
        Cookie(
            name: name, value: value, maxAge: maxAge, path: tenant.map { "\(configuration.basePath)/\($0)/\(area)" } ?? cookiePath,
            secure: configuration.secureCookies, httpOnly: true, sameSite: sameSite)
    }

    func expired(_ name: String, tenant: String? = nil) -> Cookie { cookie(name, value: "", maxAge: 0, tenant: tenant) }

    private var sessionKind: String { "\(area).session" }
    private func key(_ cookie: String) -> String { hasher.derive("\(area)-session", cookie) }

    /// Starts a session; returns the cookie's value.
    func start(tenant: String, userID: String, username: String, authTime: Date, sid: String? = nil) async throws -> (
        String, ConsoleSession
    ) {
        let value = random.token()
        let now = time.now()
        let session = ConsoleSession(
            tenant: tenant, userID: userID, username: username, authTime: authTime, startedAt: now, csrf: random.token(byteCount: 24),
            touchedAt: now, sid: sid)
        try await put(session, cookie: value, now: now)
        return (value, session)
    }

    /// Stores a changed session (a pending enrolment) under its cookie.
    func save(_ session: ConsoleSession, cookie: String) async throws { try await put(session, cookie: cookie, now: time.now()) }

    private func put(_ session: ConsoleSession, cookie: String, now: Date) async throws {
        let data = try JSONEncoder().encode(session)
        let until = min(now.addingTimeInterval(Self.idleTimeout), session.startedAt.addingTimeInterval(Self.absoluteLifetime))
        try await store.putState(kind: sessionKind, key: key(cookie), value: String(decoding: data, as: UTF8.self), expiresAt: until)
    }

    /// The session of a cookie, if it has not timed out; each use moves its idle deadline.
    func session(cookie: String?) async throws -> ConsoleSession? {
        guard let cookie, !cookie.isEmpty, cookie.utf8.count <= 128 else { return nil }
        let now = time.now()
        guard let raw = try await store.state(kind: sessionKind, key: key(cookie), now: now),
            var session = try? JSONDecoder().decode(ConsoleSession.self, from: Data(raw.utf8)),
            now < session.startedAt.addingTimeInterval(Self.absoluteLifetime)
        else { return nil }
        if now.timeIntervalSince(session.touchedAt ?? session.startedAt) >= Self.touchInterval {
            session.touchedAt = now
            try await put(session, cookie: cookie, now: now)
        }
        return session
    }

    func end(cookie: String?) async throws {
        guard let cookie, !cookie.isEmpty, cookie.utf8.count <= 128 else { return }
        _ = try await store.deleteState(kind: sessionKind, key: key(cookie))
    }

    /// Records a sign-in under way; returns the `state` and the binding cookie's value.
    func beginLogin(tenant: String, verifier: String, returnTo: String, reauthentication: Bool) async throws -> (
        state: String, binding: String
    ) {
        let state = random.token()
        let binding = random.token()
        let now = time.now()
        let login = ConsoleLogin(
            tenant: tenant, verifier: verifier, returnTo: returnTo, binding: hasher.derive("\(area)-login", binding),
            reauthentication: reauthentication, startedAt: now)
        let data = try JSONEncoder().encode(login)
        try await store.putState(
            kind: "\(area).login", key: hasher.derive("\(area)-state", state), value: String(decoding: data, as: UTF8.self),
            expiresAt: now.addingTimeInterval(Self.loginLifetime))
        return (state, binding)
    }

    /// Takes a sign-in under way (once: a replayed callback finds nothing) if the browser holds
    /// its binding cookie.
    func takeLogin(state: String, binding: String?) async throws -> ConsoleLogin? {
        guard state.utf8.count <= 128, let binding, binding.utf8.count <= 128,
            let raw = try await store.takeState(kind: "\(area).login", key: hasher.derive("\(area)-state", state), now: time.now()),
            let login = try? JSONDecoder().decode(ConsoleLogin.self, from: Data(raw.utf8)),
            constantTimeEquals(Array(hasher.derive("\(area)-login", binding).utf8), Array(login.binding.utf8))
        else { return nil }
        return login
    }
}
