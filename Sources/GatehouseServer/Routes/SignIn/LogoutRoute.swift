import Foundation
import GatehouseCore
import Hummingbird

/// OpenID Connect RP-Initiated Logout 1.0 (`end_session_endpoint`), GET and POST. With a valid
/// `id_token_hint` for the signed-in user the session ends at once; without one the user is
/// asked to confirm (a CSRF-checked form). `post_logout_redirect_uri` must exactly match one the
/// client registered, else the error is shown here and nobody is redirected.
struct LogoutRoute: Sendable {
    let env: SignInEnvironment

    /// Registers the endpoint in a dialect's group (`/{tenant}/oauth2/logout`, `/{tenant}/oauth2/v2.0/logout`).
    func register(on router: some RouterMethods<GatehouseContext>, dialect: any Dialect) {
        let path = RouterPath(stringLiteral: "/:tenant/" + dialect.endpointPath("logout"))
        router.get(path) { request, context in try await self.handle(request, context: context) }
        router.post(path) { request, context in try await self.handle(request, context: context) }
    }

    private func handle(_ request: Request, context: GatehouseContext) async throws -> Response {
        let segment = context.parameters.get("tenant") ?? ""
        var language = env.pages.texts.language(for: request)
        do {
            let tenant = try await env.tenants.resolve(segment, for: context)
            let form =
                request.method == .post
                ? try await FormBody.read(request, limit: env.configuration.maxBodySize) : try FormBody.query(request)
            language = env.pages.texts.language(for: request, formUILocales: form["ui_locales"])
            let issuers = env.configuration.issuers(tenant)
            var hint: IDTokenClaims? = nil
            if let raw = form["id_token_hint"] {
                // Only an ID token this tenant issued to one of its clients: not an access token
                // (typ at+jwt), whatever its claims look like.
                guard IDTokenClaims.headerType(of: raw) == "JWT" else {
                    throw CatalogueError(
                        Catalogue.invalidIDTokenHint, detail: "not an ID token (typ \(IDTokenClaims.headerType(of: raw) ?? "-"))")
                }
                guard let claims = try? await env.keyRings.keyRing(for: tenant.name).verify(raw, as: IDTokenClaims.self),
                    issuers.contains(claims.iss),
                    let audience = try? ClientID(claims.aud), try await env.client(tenant.name, audience) != nil
                else {
                    throw CatalogueError(Catalogue.invalidIDTokenHint, detail: "signature, issuer or audience check failed")
                }
                hint = claims
            }
            var clientID = hint?.aud
            if let raw = form["client_id"] {
                guard clientID == nil || clientID == raw else {
                    throw CatalogueError(Catalogue.clientIdMismatch, detail: "client_id differs from the hint's aud")
                }
                clientID = raw
            }
            var redirect: String? = nil
            if let raw = form["post_logout_redirect_uri"] {
                guard let clientID, let client = try await env.client(tenant.name, try ClientID(clientID)),
                    client.postLogoutRedirectURIs.contains(raw),
                    (try? RedirectURI(raw)) != nil
                else {
                    throw CatalogueError(Catalogue.postLogoutRedirectURINotRegistered, ["uri": String(raw.prefix(200))])
                }
                redirect = raw
            }
            let current = try await env.session(request, tenant: tenant.name.value)
            let confirmed =
                request.method == .post
                && current.map { current in
                    constantTimeEquals(Array((form["csrf"] ?? "").utf8), Array(logoutToken(cookie: current.cookie).utf8))
                } == true
            let hintMatches = hint != nil && (current == nil || current?.session.userID == hint?.sub)
            if let current, !hintMatches && !confirmed {
                return confirmPage(form: form, token: logoutToken(cookie: current.cookie), tenant: tenant.name.value, language: language)
            }
            if current == nil && hint == nil && !(request.method == .post && confirmedWithoutSession(form)) {
                // No session cookie came (a cross-site POST does not carry the SameSite=Lax cookie)
                // and nothing proves the relying party sent the user: ask, and change nothing.
                let nonce = env.random.token(byteCount: 16)
                return confirmPage(
                    form: form, token: anonymousToken(nonce: nonce), nonce: nonce, tenant: tenant.name.value, language: language)
            }
            var response: Response
            if let redirect, let uri = try? RedirectURI(redirect) {
                response = env.reply.redirect(form["state"].map { uri.appendingQuery([("state", $0)]) } ?? uri.value)
            } else {
                response = env.pages.html(
                    env.pages.message.render([
                        "language": language, "title": env.pages.ui("signedOutHeading", language),
                        "heading": env.pages.ui("signedOutHeading", language),
                    ]))
            }
            if let current {
                try await env.state.endSession(cookie: current.cookie)
                // The relying parties that took part in the session hear of it (back-channel logout).
                try await BackchannelLogout.queue(
                    tenant: tenant.name.value, userID: current.session.userID, sid: current.session.sid, reason: .relyingParty,
                    in: env.logouts, now: env.time.now(), random: env.random)
                context.notes.update { $0.userID = current.session.userID }
                env.record(
                    request, context: context, tenant: tenant.name.value, clientID: clientID, step: "logout", scopes: nil, failure: nil,
                    detail: "session of user \(current.session.userID) ended")
            }
            // Clear the cookie only when one was sent: a request without it changes nothing.
            if request.cookies[SignInEnvironment.sessionCookie] != nil {
                response.setCookie(env.cookie(SignInEnvironment.sessionCookie, value: "", tenant: tenant.name.value, maxAge: 0))
            }
            return response
        } catch let error as CatalogueError {
            env.record(request, context: context, tenant: segment, clientID: nil, step: "logout", scopes: nil, failure: error)
            return env.pages.errorPage(error, language: language, context: context, titleKey: "signOutTitle")
        }
    }

    /// The confirmation form's token: a keyed hash of the session cookie, so only this browser can post it.
    private func logoutToken(cookie: String) -> String {
        env.hasher.hash("logout " + cookie)
    }

    /// The confirmation form's token when the browser sent no session: a keyed hash of a nonce
    /// in the same form, so that only a form this server rendered counts as confirmed.
    private func anonymousToken(nonce: String) -> String {
        env.hasher.hash("logout-without-session " + nonce)
    }

    private func confirmedWithoutSession(_ form: FormParameters) -> Bool {
        guard let nonce = form["nonce"], !nonce.isEmpty else { return false }
        return constantTimeEquals(Array((form["csrf"] ?? "").utf8), Array(anonymousToken(nonce: nonce).utf8))
    }

    private func confirmPage(form: FormParameters, token: String, nonce: String? = nil, tenant: String, language: String) -> Response {
        var fields = ["post_logout_redirect_uri", "state", "client_id", "ui_locales"].compactMap { name in
            form[name].map { ["name": name, "value": $0] }
        }
        if let nonce { fields.append(["name": "nonce", "value": nonce]) }
        let body = env.pages.message.render([
            "language": language, "title": env.pages.ui("logoutHeading", language), "heading": env.pages.ui("logoutHeading", language),
            "confirm": true, "action": env.configuration.endpoint(tenant, "oauth2/logout"), "csrf": token,
            "fields": fields, "labelSubmit": env.pages.ui("logoutButton", language),
        ])
        return env.pages.html(body, formTarget: form["post_logout_redirect_uri"])
    }
}
