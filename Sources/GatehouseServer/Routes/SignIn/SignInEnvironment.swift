import Foundation
import GatehouseCore
import Hummingbird
import Logging

/// What the browser-facing routes (authorize, sign-in forms, logout) share.
struct SignInEnvironment: Sendable {
    let configuration: ServerConfiguration
    let tenants: TenantDirectory
    let clients: CachedClientDirectory
    let users: any UserStore
    /// APIs, for the consent page's names and descriptions.
    let apis: any ResourceStore
    let state: SignInStateStore
    let passwords: PasswordSignIn
    let codes: CodeIssuer
    let devices: DeviceAuthorizationStore
    let totp: any TOTPGenerator
    let box: SecretBox
    let replay: any ReplayStore
    let keyRings: KeyRingRegistry
    let pages: SignInPages
    let signIns: SignInLogWriter
    let throttles: Throttles
    let hasher: SecretHasher
    let time: TimeSource
    let random: RandomSource
    /// Passkey challenges, verification and the credentials (WebAuthn).
    let passkeys: PasskeyCeremonies
    /// Pushed requests and signed request objects (RFC 9126, RFC 9101).
    let requests: AuthorizationRequestAssembler
    /// Where a session's relying parties are noted and their logout tokens queued.
    let logouts: any SessionParticipantStore & OutboxStore & TransactionStore & ClientStore
    /// Whether mail is sent (an SMTP server is configured): the sign-in page offers a password reset.
    var mailEnabled = false

    var policy: SignInPolicy { configuration.signIn }
    /// Sends authorization responses and errors to a validated redirect URI.
    var reply: AuthorizationReply { AuthorizationReply(pages: pages, random: random) }

    static let sessionCookie = "gatehouse_session"
    /// Marks a browser that has signed in as a user before (smart lockout, `FamiliarDevice`).
    static let deviceCookie = "gatehouse_device"
    /// How long a browser stays familiar after its last sign-in.
    static let deviceCookieLifetime = 90 * 86_400
    static let browserCookie = "gatehouse_browser"

    func client(_ tenant: TenantName, _ id: ClientID) async throws -> Client? {
        try await clients.lookup(tenant: tenant, id: id)?.client
    }

    /// Cookies are scoped to the tenant's path.
    func cookiePath(_ tenant: String) -> String { "\(configuration.basePath)/\(tenant)/" }

    func cookie(_ name: String, value: String, tenant: String, maxAge: Int?) -> Cookie {
        Cookie(
            name: name, value: value, maxAge: maxAge, path: cookiePath(tenant), secure: configuration.secureCookies, httpOnly: true,
            sameSite: .lax)
    }

    /// The browser's device cookie, if this server made it for this tenant:
    /// `<device id>.<user id>.<issued, ms since 1970>.<MAC>`, the MAC keyed by the server's secret
    /// (`SecretHasher.derive`). Whether the device is familiar to a user is the user's to say
    /// (`FamiliarDevice.belongs(to:)`: not after the user's password changed).
    func familiarDevice(_ request: Request, tenant: String) -> FamiliarDevice? {
        guard let value = request.cookies[Self.deviceCookie]?.value, value.utf8.count <= 256 else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, let issued = Int64(parts[2]) else { return nil }
        let expected = hasher.derive("familiar-device", "\(tenant)|\(parts[1])|\(parts[0])|\(issued)")
        guard constantTimeEquals(Array(expected.utf8), Array(parts[3].utf8)) else { return nil }
        return FamiliarDevice(userID: parts[1], id: parts[0], issuedAt: Date(timeIntervalSince1970: Double(issued) / 1_000))
    }

    /// The device cookie for a browser that just signed in as `user`: the same device when it was
    /// already familiar to this user, else a new one; renewed at every sign-in.
    func deviceCookie(for user: User, tenant: String, current: FamiliarDevice?) -> Cookie {
        let device = current.flatMap { $0.belongs(to: user) ? $0.id : nil } ?? random.token(byteCount: 16)
        // Rounded up, so that a sign-in in the same millisecond as a password change is after it.
        let issued = Int64((time.now().timeIntervalSince1970 * 1_000).rounded(.up))
        let mac = hasher.derive("familiar-device", "\(tenant)|\(user.id)|\(device)|\(issued)")
        return cookie(
            Self.deviceCookie, value: "\(device).\(user.id).\(issued).\(mac)", tenant: tenant, maxAge: Self.deviceCookieLifetime)
    }

    /// The signed-in session of this browser for the tenant, if still valid: not expired, and its
    /// user exists, is enabled and has not had the password set, the account disabled or the
    /// second factor removed since the session began (`User.sessionsValidAfter`).
    func session(_ request: Request, tenant: String) async throws -> (cookie: String, session: BrowserSession)? {
        guard let value = request.cookies[Self.sessionCookie]?.value, !value.isEmpty,
            let session = try await state.session(cookie: value, now: time.now()), session.tenant == tenant,
            let name = try? TenantName(tenant), let user = try await users.user(tenant: name, id: session.userID),
            user.honours(sessionStartedAt: session.authTime)
        else { return nil }
        // When it was last used (for the user's list of sessions); a failed note never fails the request.
        try? await state.touch(session, cookie: value, now: time.now())
        return (value, session)
    }

    func startSession(user: User, tenant: String, amr: [String], clientIP: String?, userAgent: String?) async throws -> (
        cookie: String, session: BrowserSession
    ) {
        let now = time.now()
        let value = random.token()
        let session = BrowserSession(
            tenant: tenant, userID: user.id, sid: random.token(byteCount: 16), authTime: now, amr: amr,
            expiresAt: now.addingTimeInterval(policy.sessionLifetime), clientIP: clientIP, userAgent: userAgent)
        try await state.save(session, cookie: value)
        return (value, session)
    }

    /// Records a browser step in the sign-in log (same record as token requests).
    func record(
        _ request: Request, context: GatehouseContext, tenant: String, clientID: String?, step: String, scopes: String?,
        failure: CatalogueError?, detail: String? = nil
    ) {
        signIns.record(
            request, context: context, time: time.now(), tenant: tenant, clientID: clientID, step: step, scopes: scopes,
            failure: failure, detail: detail)
        if let failure {
            context.logger.info(
                "sign-in step failed",
                metadata: [
                    "step": "\(step)", "code": "\(failure.entry.number)",
                    "client_id": "\(RecordedValue.cut(clientID, to: RecordedValue.clientID) ?? "-")",
                    "detail": "\(failure.detail ?? "-")",
                ])
        }
    }
}
