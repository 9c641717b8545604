import Foundation
import GatehouseCore
import Hummingbird

/// The sign-in of a page of this server's own (the console, the account page) through the
/// authorization code flow with PKCE as the tenant's built-in client: the redirect to the
/// authorization endpoint, and the callback that redeems the code in process with the same grant as
/// the token endpoint (PKCE, redirect URI, single use). The pages differ only in what they do with
/// the signed-in user.
extension ConsoleSessions {
    /// The console's cookies cover the whole server; the account page's only its own path.
    func cookieTenant(_ tenant: String) -> String? { area == "console" ? nil : tenant }

    /// The redirect to the authorization endpoint, with the browser binding cookie. `reauthentication`
    /// asks for a fresh sign-in (`max_age=0`, `prompt=login`).
    func beginSignIn(
        tenant: String, clientID: String, redirectURI: String, returnTo: String, reauthentication: Bool, language: String
    ) async throws -> Response {
        let verifier = try CodeVerifier(random.token(byteCount: 48))
        let (state, binding) = try await beginLogin(
            tenant: tenant, verifier: verifier.value, returnTo: returnTo, reauthentication: reauthentication)
        var query = [
            ("response_type", "code"), ("client_id", clientID), ("redirect_uri", redirectURI), ("scope", "openid profile"),
            ("state", state), ("code_challenge", verifier.s256Challenge), ("code_challenge_method", "S256"),
        ]
        if reauthentication { query += [("max_age", "0"), ("prompt", "login")] }
        if language != CatalogueTexts.defaultLanguage { query.append(("ui_locales", language)) }
        var response = Response(
            status: .seeOther,
            headers: [
                .location: "\(configuration.basePath)/\(tenant)/oauth2/authorize?" + ConsoleRoutes.encode(query), .cacheControl: "no-store",
            ])
        response.setCookie(
            cookie(loginCookie, value: binding, maxAge: Int(Self.loginLifetime), sameSite: .lax, tenant: cookieTenant(tenant)))
        return response
    }

    /// What came back to the callback.
    enum SignInReturn {
        /// No sign-in of this browser under that state (a forged or replayed callback).
        case unknown
        /// The authorization endpoint answered an error (it logged why).
        case declined(error: String)
        case signedIn(login: ConsoleLogin, user: User, authTime: Date, sid: String?)
    }

    /// Takes the sign-in under way named by `state` (once, for this browser) and redeems the code.
    /// Without an `auth_time` the sign-in counts as old; a re-authentication that came back with an
    /// older sign-in is refused.
    func finishSignIn(
        _ request: Request, tenant: Tenant, clientID: String, redirectURI: String, clients: CachedClientDirectory,
        grants: GrantRegistry, users: any UserStore, missingClient: CatalogueError
    ) async throws -> SignInReturn {
        let query = request.uri.queryParameters
        guard let state = query["state"].map(String.init),
            let login = try await takeLogin(state: state, binding: request.cookies[loginCookie]?.value),
            login.tenant == tenant.name.value
        else { return .unknown }
        if let error = query["error"].map(String.init) { return .declined(error: error) }
        guard let record = try await clients.lookup(tenant: tenant.name, id: try ClientID(clientID)) else { throw missingClient }
        let form = FormParameters([
            "code": [query["code"].map(String.init) ?? ""], "redirect_uri": [redirectURI], "code_verifier": [login.verifier],
        ])
        let outcome = try await grants.handler(for: GrantType.authorizationCode.rawValue).exchange(
            TokenRequest(
                tenant: tenant, issuer: configuration.issuer(tenant, dialect: Dialects.native),
                client: AuthenticatedClient(record: record, method: .none), form: form))
        guard let userID = outcome.userID, let user = try await users.user(tenant: tenant.name, id: userID) else {
            throw CatalogueError(Catalogue.invalidGrant, ["name": "code"], detail: "\(area) code without a user")
        }
        let claims = Self.claims(of: outcome.response.idToken)
        let authTime = (claims["auth_time"] as? Int).map { Date(timeIntervalSince1970: Double($0)) } ?? .distantPast
        if login.reauthentication && authTime < login.startedAt.addingTimeInterval(-1) {
            throw CatalogueError(Catalogue.invalidGrant, ["name": "code"], detail: "\(area) re-authentication returned an older sign-in")
        }
        return .signedIn(login: login, user: user, authTime: authTime, sid: claims["sid"] as? String)
    }

    /// The claims of an ID token this process has just minted (not a token from outside).
    static func claims(of idToken: String?) -> [String: Any] {
        guard let idToken, let payload = idToken.split(separator: ".").dropFirst().first,
            let data = Base64URL.decode(payload), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return object
    }
}
