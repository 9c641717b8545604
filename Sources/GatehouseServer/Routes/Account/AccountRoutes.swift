import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// The account page (`/{tenant}/account`): a signed-in user changes their password, enrols or
/// removes a second factor and its recovery codes, ends their sessions and withdraws apps' access.
///
/// The user signs in through this server's own authorization code flow with PKCE, as the tenant's
/// built-in account client (`BuiltInAccount`), exactly as the console does; the page's session
/// (`ConsoleSessions` with the area "account": its own cookie, whose path is the tenant's account
/// page) remembers the browser session (`sid`) it came from and ends with it: ending that session
/// from another browser, a password reset or a disabled account signs the page out at its next
/// request. Every form carries the session's CSRF token; removing the second factor and making
/// new recovery codes need a sign-in at most 5 minutes old (`max_age=0` otherwise). Every change
/// is an `Administration` call acting as the user: audited, and mailed to the user (`notify`).
struct AccountRoutes: Sendable {
    let env: SignInEnvironment
    let administration: Administration
    let store: any GatehouseStore
    let grants: GrantRegistry
    let sessions: ConsoleSessions

    /// The pages whose sensitive action needs a recent sign-in, each with its form's target.
    static let sensitive = ["security/remove", "security/codes", "totp", "passkeys", "passkeys/new"]
    /// The sensitive actions that have a confirmation page of their own.
    static let confirmed = ["security/remove", "security/codes"]
    /// What `?done=` may say after a change.
    static let notices = ["password", "enrolled", "removed", "ended", "withdrawn", "passkeyAdded", "passkeyRemoved", "passkeyRenamed"]

    func register(on router: some RouterMethods<GatehouseContext>) {
        let account = router.group("/:tenant/account")
        account.get { request, context in try await self.guarded(request, context) { try await self.home(request, context) } }
        account.get("login") { request, context in try await self.guarded(request, context) { try await self.login(request, context) } }
        account.get("callback") { request, context in
            try await self.guarded(request, context) { try await self.callback(request, context) }
        }
        account.post("logout") { request, context in try await self.form(request, context, self.logout) }
        account.post("password") { request, context in try await self.form(request, context, self.changePassword) }
        account.get("totp") { request, context in try await self.page(request, context, self.enrolPage) }
        account.post("totp") { request, context in try await self.form(request, context, self.confirmEnrolment) }
        for path in Self.confirmed {
            account.get(RouterPath(stringLiteral: path)) { request, context in
                try await self.page(request, context) { call in try await self.confirmPage(call, path: path) }
            }
        }
        account.post("security/remove") { request, context in try await self.form(request, context, self.removeSecondFactor) }
        account.post("security/codes") { request, context in try await self.form(request, context, self.renewCodes) }
        account.post("sessions/end") { request, context in try await self.form(request, context, self.endSession) }
        account.post("apps/withdraw") { request, context in try await self.form(request, context, self.withdraw) }
        registerPasskeys(on: account)
    }

    var pages: SignInPages { env.pages }

    func homePath(_ tenant: String) -> String { "\(env.configuration.basePath)/\(tenant)/account" }

    // MARK: - Signing in

    /// Starts the authorization code flow with PKCE as the account client; `reauth=1` asks for a
    /// fresh sign-in (`max_age=0`, `prompt=login`) and `return` names the page to come back to.
    private func login(_ request: Request, _ context: GatehouseContext) async throws -> Response {
        let tenant = try await env.tenants.resolve(context.parameters.get("tenant") ?? "", for: context)
        let name = tenant.name.value
        let requested = request.uri.queryParameters["return"].map(String.init) ?? ""
        // Only one of this page's own paths: never an open redirect.
        let returnTo = Self.sensitive.map { homePath(name) + "/" + $0 }.contains(requested) ? requested : homePath(name)
        return try await sessions.beginSignIn(
            tenant: name, clientID: BuiltInAccount.clientID,
            redirectURI: BuiltInAccount.redirectURI(baseURL: env.configuration.baseURL, tenant: name), returnTo: returnTo,
            reauthentication: request.uri.queryParameters["reauth"] == "1", language: pages.texts.language(for: request))
    }

    /// The account client's redirect URI: the state must be one this browser started; the code is
    /// redeemed as at the token endpoint (`ConsoleSessions.finishSignIn`).
    private func callback(_ request: Request, _ context: GatehouseContext) async throws -> Response {
        let tenant = try await env.tenants.resolve(context.parameters.get("tenant") ?? "", for: context)
        let name = tenant.name.value
        let returned = try await sessions.finishSignIn(
            request, tenant: tenant, clientID: BuiltInAccount.clientID,
            redirectURI: BuiltInAccount.redirectURI(baseURL: env.configuration.baseURL, tenant: name), clients: env.clients,
            grants: grants, users: store,
            missingClient: CatalogueError(Catalogue.applicationNotFound, ["clientId": BuiltInAccount.clientID, "tenant": name]))
        switch returned {
        case .unknown:
            throw CatalogueError(Catalogue.csrfCheckFailed, detail: "account callback without its sign-in")
        case .declined:
            // Declined or failed; the authorization endpoint logged why. No automatic retry (no loop).
            let language = pages.texts.language(for: request)
            return pages.notice(
                pages.ui("account.title", language), pages.ui("account.signInFailed", language), language: language, tenant: tenant)
        case .signedIn(let login, let user, let authTime, let sid):
            let (cookie, _) = try await sessions.start(
                tenant: name, userID: user.id, username: user.username.value, authTime: authTime, sid: sid)
            var response = redirect(login.returnTo)
            response.setCookie(sessions.cookie(sessions.sessionCookie, value: cookie, maxAge: nil, tenant: name))
            response.setCookie(sessions.expired(sessions.loginCookie, tenant: name))
            return response
        }
    }

    // MARK: - Every page

    /// What a page of the account knows about its request.
    struct Call {
        let request: Request
        let context: GatehouseContext
        let language: String
        let tenant: Tenant
        let user: User
        let session: ConsoleSession
        let cookie: String
        let form: FormParameters
        let acting: Administration

        var recentlyAuthenticated: Bool {
            acting.time.now().timeIntervalSince(session.authTime) <= ConsoleSessions.recentAuthentication
        }
    }

    typealias Handler = @Sendable (Call) async throws -> Response

    /// A GET page: the signed-in user's, or a redirect to the sign-in.
    func page(_ request: Request, _ context: GatehouseContext, _ body: Handler) async throws -> Response {
        try await guarded(request, context) {
            guard let call = try await self.call(request, context, form: FormParameters([:])) else {
                return redirect(homePath(context.parameters.get("tenant") ?? "") + "/login")
            }
            return try await self.answer(call, body)
        }
    }

    /// A form post: a signed-in user's, with the session's CSRF token.
    func form(_ request: Request, _ context: GatehouseContext, _ body: @escaping Handler) async throws -> Response {
        try await guarded(request, context) {
            let form = try await FormBody.read(request, limit: env.configuration.maxBodySize)
            guard let call = try await self.call(request, context, form: form) else {
                return redirect(homePath(context.parameters.get("tenant") ?? "") + "/login")
            }
            guard ConsoleRoutes.sameToken(form["csrf"], call.session.csrf) else {
                throw CatalogueError(Catalogue.csrfCheckFailed, detail: "account form without its session's CSRF token")
            }
            return try await self.answer(call, body)
        }
    }

    /// A failure the handler knows how to show (a wrong current password, a wrong code) is the
    /// home page or the page it came from with the catalogue error; it is also logged.
    private func answer(_ call: Call, _ body: Handler) async throws -> Response {
        do {
            return try await body(call)
        } catch let error as CatalogueError {
            record(call, failure: error)
            throw error
        }
    }

    func record(_ call: Call, failure: CatalogueError?, detail: String? = nil) {
        env.record(
            call.request, context: call.context, tenant: call.tenant.name.value, clientID: BuiltInAccount.clientID, step: "account",
            scopes: nil, failure: failure, detail: detail)
    }

    /// The signed-in user of the request: the page's session, still honoured by the user, and
    /// the browser session it came from still live.
    private func call(_ request: Request, _ context: GatehouseContext, form: FormParameters) async throws -> Call? {
        let tenant = try await env.tenants.resolve(context.parameters.get("tenant") ?? "", for: context)
        let cookie = request.cookies[sessions.sessionCookie]?.value
        guard let cookie, let session = try await sessions.session(cookie: cookie), session.tenant == tenant.name.value,
            let user = try await store.user(tenant: tenant.name, id: session.userID), user.honours(sessionStartedAt: session.authTime),
            let sid = session.sid,
            try await store.sessions(tenant: tenant.name.value, userID: user.id, now: env.time.now()).contains(where: { $0.sid == sid })
        else {
            if cookie != nil { try? await sessions.end(cookie: cookie) }
            return nil
        }
        let language = pages.texts.language(for: request, formUILocales: form["ui_locales"])
        let acting = administration.acting(
            as: AdminActor(kind: .user, id: user.id, tenant: tenant.name), traceID: context.traceID,
            source: env.throttles.source(request, context: context))
        return Call(
            request: request, context: context, language: language, tenant: tenant, user: user, session: session, cookie: cookie,
            form: form, acting: acting)
    }

    /// Every failure as the catalogue's page (never a 500 with details).
    private func guarded(_ request: Request, _ context: GatehouseContext, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch {
            let caught = CatalogueError.caught(error, context: context, step: "account")
            return pages.errorPage(caught, language: pages.texts.language(for: request), context: context, titleKey: "account.title")
        }
    }

    func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    func done(_ call: Call, _ notice: String) -> Response {
        redirect(homePath(call.tenant.name.value) + "?done=\(notice)")
    }

    // MARK: - The home page

    private func home(_ request: Request, _ context: GatehouseContext) async throws -> Response {
        try await page(request, context) { call in
            let done = call.request.uri.queryParameters["done"].map(String.init).flatMap { Self.notices.contains($0) ? $0 : nil }
            return try await self.homePage(call, error: nil, notice: done)
        }
    }

    func homePage(_ call: Call, error: CatalogueError?, notice: String?) async throws -> Response {
        let language = call.language
        let t = { (key: String) in pages.ui("account.\(key)", language) }
        let user = call.user
        let tenant = call.tenant
        let now = env.time.now()
        let sessionRows = try await store.sessions(tenant: tenant.name.value, userID: user.id, now: now)
            .filter { user.honours(sessionStartedAt: $0.authTime) }
            .map { session -> [String: Any] in
                let device = DeviceSummary.parse(session.userAgent)
                let deviceText = [device.browser ?? t("unknownBrowser"), device.system].compactMap { $0 }.joined(separator: " · ")
                return [
                    "sid": session.sid, "device": deviceText, "address": session.clientIP ?? "-",
                    "started": Self.when(session.authTime), "lastUsed": Self.when(session.lastUsedAt ?? session.authTime),
                    "current": session.sid == call.session.sid,
                ]
            }
        var appRows: [[String: Any]] = []
        for consent in try await store.consents(tenant: tenant.name.value, userID: user.id, now: now) {
            let client = try? await env.client(tenant.name, ClientID(consent.clientID))
            appRows.append([
                "clientID": consent.clientID, "name": client?.name ?? consent.clientID,
                "scope": consent.scope.description, "granted": Self.when(consent.grantedAt),
            ])
        }
        let passkeys = try await store.passkeys(tenant: tenant.name, userID: user.id).map { passkeyRow($0, language: language) }
        let enrolled = user.sealedTOTPSecret != nil
        let codesLeft = enrolled ? try await store.recoveryCodesLeft(tenant: tenant.name, userID: user.id) : 0
        let base = homePath(tenant.name.value)
        var view: [String: Any] = [
            "language": language, "title": t("title"), "heading": t("title"), "wide": true, "csrf": call.session.csrf, "base": base,
            "brand": pages.brand(tenant, language: language),
            "error": pages.alert(error, language: language, context: call.context) as Any,
            "displayName": user.displayName, "username": user.username.value, "email": user.email ?? "",
            "hasEmail": user.email != nil, "emailVerified": user.emailVerified,
            "sessions": sessionRows, "hasSessions": !sessionRows.isEmpty, "apps": appRows, "hasApps": !appRows.isEmpty,
            "enrolled": enrolled, "codesLeft": pages.ui("account.codesLeft", language, ["count": String(codesLeft)]),
            "minimum": String(Administration.minimumPasswordLength),
            "passkeys": passkeys, "hasPasskeys": !passkeys.isEmpty,
        ]
        for key in [
            "profile", "usernameLabel", "emailLabel", "verified", "unverified", "password", "currentPassword", "newPassword",
            "confirmPassword", "changePassword", "secondFactor", "secondFactorOn", "secondFactorOff", "enrol", "remove", "newCodes",
            "sessions", "device", "address", "started", "lastUsed", "thisBrowser", "end", "endOthers", "endAll", "apps", "app",
            "permissions", "granted", "withdraw", "noApps", "signOut", "passkeys", "passkeysIntro", "noPasskeys", "addPasskey",
            "managePasskeys", "passkeyName", "passkeyKind", "created",
        ] {
            view["t_" + key] = t(key)
        }
        if let notice { view["notice"] = t("done.\(notice)") }
        let body = pages.account.render(view)
        return pages.html(body, status: error.map { .init(code: $0.entry.status == 401 ? 400 : $0.entry.status) } ?? .ok)
    }

    static func when(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }

    // MARK: - Password

    private func changePassword(_ call: Call) async throws -> Response {
        let current = call.form["current"] ?? ""
        let new = call.form["password"] ?? ""
        do {
            if let refusal = pages.passwordRefusal(new, confirm: call.form["confirm"] ?? "", language: call.language) { throw refusal }
            // The current password is a credential check: counted per source and account (429
            // past the limit) and against the account's lock, like the sign-in page.
            let source = env.throttles.source(call.request, context: call.context)
            let attempt = try CheckAdmission(
                [
                    (
                        env.throttles.signIn,
                        "\(source)|\(PasswordSignIn.attemptKey(tenant: call.tenant.name, username: call.user.username.value))"
                    )
                ], now: env.time.now())
            let amr = try await currentAMR(call)
            let changed = try await attempt.check(guesses: Guess.password) {
                try await call.acting.changeOwnPassword(
                    tenant: call.tenant, user: call.user, current: current, new: new, signIn: env.passwords)
            }
            record(call, failure: nil, detail: "user \(call.user.id) changed their password; every session ended, grants revoked")
            var response = done(call, "password")
            try await continueSignedIn(call, user: changed, amr: amr, response: &response)
            return response
        } catch let error as CatalogueError {
            record(call, failure: error)
            return try await homePage(call, error: error, notice: nil)
        }
    }

    /// How the browser making a change signed in (its session's `amr`), kept for its new session.
    func currentAMR(_ call: Call) async throws -> [String] {
        try await store.sessions(tenant: call.tenant.name.value, userID: call.user.id, now: env.time.now())
            .first { $0.sid == call.session.sid }?.amr ?? ["pwd"]
    }

    /// After a change that ended every session of the user (a new password, a removed second
    /// factor): the browser that made it gets a new browser session, page session and device
    /// cookie; every other browser is signed out.
    func continueSignedIn(_ call: Call, user: User, amr: [String], response: inout Response) async throws {
        let tenant = call.tenant.name.value
        let (cookie, session) = try await env.startSession(
            user: user, tenant: tenant, amr: amr, clientIP: env.throttles.source(call.request, context: call.context),
            userAgent: call.request.headers[.userAgent])
        response.setCookie(
            env.cookie(SignInEnvironment.sessionCookie, value: cookie, tenant: tenant, maxAge: Int(env.policy.sessionLifetime)))
        response.setCookie(env.deviceCookie(for: user, tenant: tenant, current: env.familiarDevice(call.request, tenant: tenant)))
        try await sessions.end(cookie: call.cookie)
        let (page, _) = try await sessions.start(
            tenant: tenant, userID: user.id, username: user.username.value, authTime: session.authTime, sid: session.sid)
        response.setCookie(sessions.cookie(sessions.sessionCookie, value: page, maxAge: nil, tenant: tenant))
    }

    // MARK: - Second factor

    private func enrolPage(_ call: Call) async throws -> Response {
        // A stolen session must not tie the account to the thief's authenticator.
        if let reauthenticate = requireRecent(call, path: "totp") { return reauthenticate }
        return try await enrolment(call, error: nil)
    }

    /// The enrolment page: the pending secret (made at the first visit, kept sealed in the page's
    /// session) as a QR code of its `otpauth://` URI and as the setup key, and the first code's field.
    private func enrolment(_ call: Call, error: CatalogueError?) async throws -> Response {
        guard call.user.sealedTOTPSecret == nil else { return redirect(homePath(call.tenant.name.value)) }
        var session = call.session
        let secret: String
        if let sealed = session.pendingTOTP, let opened = try? env.box.open(sealed) {
            secret = opened
        } else {
            secret = administration.newTOTPSecret()
            session.pendingTOTP = try env.box.seal(secret)
            try await sessions.save(session, cookie: call.cookie)
        }
        // Short names keep the URI within the QR code's capacity (percent-encoding can triple a
        // non-ASCII name); should it still not fit, the page shows the setup key alone.
        let url = HummingbirdTOTP.enrollmentURL(
            secret: secret, account: String(call.user.username.value.prefix(40)), issuer: String(call.tenant.displayName.prefix(30)))
        let setupKey = URLComponents(string: url)?.queryItems?.first { $0.name == "secret" }?.value ?? ""
        let language = call.language
        let t = { (key: String) in pages.ui("account.\(key)", language) }
        let qr = (try? QRCode(url))?.svg(scale: 5, label: t("qrLabel")) ?? ""
        let body = pages.enrol.render([
            "language": language, "title": t("enrolTitle"), "heading": t("enrolTitle"), "csrf": session.csrf,
            "brand": pages.brand(call.tenant, language: language),
            "error": pages.alert(error, language: language, context: call.context) as Any,
            "intro": t("enrolIntro"), "qr": qr, "setupKeyLabel": t("setupKey"),
            "setupKey": stride(from: 0, to: setupKey.count, by: 4).map { offset in
                String(setupKey.dropFirst(offset).prefix(4))
            }.joined(separator: " "),
            "codeLabel": t("firstCode"), "submit": t("confirmEnrol"), "action": homePath(call.tenant.name.value) + "/totp",
            "back": homePath(call.tenant.name.value), "backLabel": t("back"),
        ])
        return pages.html(body, status: error.map { .init(code: $0.entry.status == 401 ? 400 : $0.entry.status) } ?? .ok)
    }

    private func confirmEnrolment(_ call: Call) async throws -> Response {
        if let reauthenticate = requireRecent(call, path: "totp") { return reauthenticate }
        guard let sealed = call.session.pendingTOTP, let secret = try? env.box.open(sealed) else {
            return redirect(homePath(call.tenant.name.value) + "/totp")
        }
        let codes: [String]
        do {
            codes = try await call.acting.confirmTOTPEnrolment(
                tenant: call.tenant, user: call.user, secret: secret, code: call.form["otp"] ?? "", generator: env.totp, box: env.box)
        } catch let error as CatalogueError {
            record(call, failure: error)
            if error.entry == Catalogue.tooManyVerificationCodes {
                // This secret is spent: the next visit shows a new one.
                var session = call.session
                session.pendingTOTP = nil
                try await sessions.save(session, cookie: call.cookie)
            }
            return try await enrolment(call, error: error)
        }
        var session = call.session
        session.pendingTOTP = nil
        try await sessions.save(session, cookie: call.cookie)
        record(call, failure: nil, detail: "user \(call.user.id) enrolled a TOTP second factor")
        return codesPage(call, codes: codes, heading: "enrolledTitle")
    }

    /// The recovery codes, once: the page is `no-store` and nothing keeps them but their hashes.
    private func codesPage(_ call: Call, codes: [String], heading: String) -> Response {
        let t = { (key: String) in pages.ui("account.\(key)", call.language) }
        let body = pages.codes.render([
            "language": call.language, "title": t(heading), "heading": t(heading), "intro": t("codesIntro"), "codes": codes,
            "brand": pages.brand(call.tenant, language: call.language),
            "back": homePath(call.tenant.name.value), "backLabel": t("codesSaved"),
        ])
        return pages.html(body)
    }

    /// The confirmation of a sensitive action: after a fresh sign-in only.
    private func confirmPage(_ call: Call, path: String) async throws -> Response {
        let name = call.tenant.name.value
        guard call.user.sealedTOTPSecret != nil else { return redirect(homePath(name)) }
        guard call.recentlyAuthenticated else {
            let target = homePath(name) + "/" + path
            return redirect(homePath(name) + "/login?reauth=1&return=" + ConsoleRoutes.percentEncode(target))
        }
        let t = { (key: String) in pages.ui("account.\(key)", call.language) }
        let key = path == "security/remove" ? "remove" : "codes"
        let body = pages.message.render([
            "language": call.language, "title": t("\(key)Title"), "heading": t("\(key)Title"), "text": t("\(key)Confirm"),
            "brand": pages.brand(call.tenant, language: call.language),
            "confirm": true, "action": homePath(name) + "/" + path, "csrf": call.session.csrf, "fields": [] as [Any],
            "labelSubmit": t("\(key)Submit"),
        ])
        return pages.html(body)
    }

    func requireRecent(_ call: Call, path: String) -> Response? {
        guard call.recentlyAuthenticated else {
            let target = homePath(call.tenant.name.value) + "/" + path
            return redirect(homePath(call.tenant.name.value) + "/login?reauth=1&return=" + ConsoleRoutes.percentEncode(target))
        }
        return nil
    }

    private func removeSecondFactor(_ call: Call) async throws -> Response {
        if let reauthenticate = requireRecent(call, path: "security/remove") { return reauthenticate }
        let amr = try await currentAMR(call).filter { $0 != "otp" && $0 != "mfa" }
        let changed = try await call.acting.removeOwnSecondFactor(tenant: call.tenant, user: call.user)
        record(call, failure: nil, detail: "user \(call.user.id) removed their second factor; every session ended, grants revoked")
        var response = done(call, "removed")
        try await continueSignedIn(call, user: changed, amr: amr.isEmpty ? ["pwd"] : amr, response: &response)
        return response
    }

    private func renewCodes(_ call: Call) async throws -> Response {
        if let reauthenticate = requireRecent(call, path: "security/codes") { return reauthenticate }
        let codes = try await call.acting.renewRecoveryCodes(tenant: call.tenant, user: call.user)
        record(call, failure: nil, detail: "user \(call.user.id) made new recovery codes")
        return codesPage(call, codes: codes, heading: "codesTitle")
    }

    // MARK: - Sessions and apps

    /// Ends one session (`sid`), every other one (`others`) or all of them (`all`: as an
    /// administrator's "end all", it also revokes the user's grants and signs this page out).
    private func endSession(_ call: Call) async throws -> Response {
        let which = String((call.form["sid"] ?? "").prefix(64))
        let name = call.tenant.name.value
        let current = call.session.sid
        switch which {
        case "all":
            _ = try await call.acting.endOwnSessions(user: call.user, sid: nil)
        case "others":
            for session in try await store.sessions(tenant: name, userID: call.user.id, now: env.time.now()) where session.sid != current {
                _ = try await call.acting.endOwnSessions(user: call.user, sid: session.sid)
            }
        default:
            // One of the user's own sessions (by the user's record: another user's `sid` ends nothing).
            guard try await call.acting.endOwnSessions(user: call.user, sid: which) > 0 else { return done(call, "ended") }
        }
        try? await call.acting.notify(.sessionEnded, user: call.user, tenantName: call.tenant.displayName)
        record(call, failure: nil, detail: "user \(call.user.id) ended sessions: \(which == "all" || which == "others" ? which : "one")")
        if which == "all" || which == current {
            try await sessions.end(cookie: call.cookie)
            var response = redirect(homePath(name))
            response.setCookie(sessions.expired(sessions.sessionCookie, tenant: name))
            return response
        }
        return done(call, "ended")
    }

    /// Withdraws the consent to one app and revokes that app's grants for the user (its refresh
    /// tokens stop working; other apps keep theirs).
    private func withdraw(_ call: Call) async throws -> Response {
        guard let clientID = try? ClientID(String((call.form["client_id"] ?? "").prefix(256))) else {
            throw CatalogueError(Catalogue.invalidParameterValue, ["name": "client_id"])
        }
        if let revoked = try await call.acting.withdrawOwnConsent(user: call.user, client: clientID) {
            try? await call.acting.notify(.consentWithdrawn, user: call.user, tenantName: call.tenant.displayName)
            record(call, failure: nil, detail: "user \(call.user.id) withdrew consent to \(clientID); \(revoked) grants revoked")
        }
        return done(call, "withdrawn")
    }

    // MARK: - Signing out

    private func logout(_ call: Call) async throws -> Response {
        try await sessions.end(cookie: call.cookie)
        var response = redirect("\(env.configuration.basePath)/\(call.tenant.name.value)/oauth2/logout")
        response.setCookie(sessions.expired(sessions.sessionCookie, tenant: call.tenant.name.value))
        return response
    }
}
