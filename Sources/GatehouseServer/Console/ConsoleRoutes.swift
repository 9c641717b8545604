import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import Mustache
import NIOCore

/// The console (`/{tenant}/console`): server-rendered pages for the administrators the admin API
/// defines. The operator signs in through this server's own authorization code flow with PKCE,
/// as the tenant's built-in console client (`BuiltInConsole`); the code is redeemed in process by
/// the same grant as at the token endpoint. Each request then reads the operator's roles on the
/// tenant's admin API from the store (taking a role away ends access at once): `Admin.Read`
/// shows, `Admin.Write` also changes, through `Administration` (so every change is audited with
/// the operator as actor). The administrative tenant's operators reach every tenant
/// (`/{tenant}/console/tenants/{target}/…`); anyone else only their own.
struct ConsoleRoutes: Sendable {
    let configuration: ServerConfiguration
    let store: any GatehouseStore
    let tenants: TenantDirectory
    let clients: CachedClientDirectory
    let grants: GrantRegistry
    let administration: Administration
    let passwords: BcryptPasswordHasher
    let texts: CatalogueTexts
    let throttles: Throttles
    let sessions: ConsoleSessions
    let views: ConsoleViews
    let tokenPreview: TokenPreview
    let time: TimeSource

    /// The sections of the navigation, in order.
    static let sections = ["signins", "clients", "apis", "users", "keys", "audit", "outbox", "preview"]

    func register(on router: some RouterMethods<GatehouseContext>) {
        let console = router.group("/:tenant/console")
        console.get { request, context in try await self.guarded(request, context) { try await self.home(request, context) } }
        console.get("login") { request, context in try await self.guarded(request, context) { try await self.login(request, context) } }
        console.get("callback") { request, context in
            try await self.guarded(request, context) { try await self.callback(request, context) }
        }
        console.post("logout") { request, context in try await self.guarded(request, context) { try await self.logout(request, context) } }
        console.get("tenants") { request, context in
            try await self.page(request, context, target: false) { call in try await self.tenantList(call) }
        }
        let target = console.group("tenants/:target")
        target.get { request, context in
            try await self.page(request, context) { call in .redirect(call.base + "/signins") }
        }
        registerSignIns(on: target)
        registerClients(on: target)
        registerUsers(on: target)
        registerOthers(on: target)
    }

    // MARK: - Signing in

    /// `/{tenant}/console`: the tenant's own pages, or the sign-in.
    private func home(_ request: Request, _ context: GatehouseContext) async throws -> Response {
        let tenant = try await resolveTenant(context)
        return redirect("\(homePath(tenant.name.value))/tenants/\(tenant.name.value)/signins")
    }

    /// Starts the authorization code flow with PKCE as the console client. `reauth=1` asks for a
    /// fresh sign-in (`max_age=0`), before a sensitive action.
    private func login(_ request: Request, _ context: GatehouseContext) async throws -> Response {
        let tenant = try await resolveTenant(context)
        let name = tenant.name.value
        let requested = request.uri.queryParameters["return"].map(String.init) ?? ""
        // Only a page of this tenant's console: never an open redirect.
        let returnTo = Self.isConsolePath(requested, home: homePath(name)) ? requested : homePath(name)
        return try await sessions.beginSignIn(
            tenant: name, clientID: BuiltInConsole.clientID,
            redirectURI: BuiltInConsole.redirectURI(baseURL: configuration.baseURL, tenant: name), returnTo: returnTo,
            reauthentication: request.uri.queryParameters["reauth"] == "1", language: texts.language(for: request))
    }

    /// The console client's redirect URI: the state must be one this browser started, the code
    /// is redeemed as at the token endpoint (PKCE, redirect URI, single use), and the user must
    /// hold a role on the tenant's admin API.
    private func callback(_ request: Request, _ context: GatehouseContext) async throws -> Response {
        let tenant = try await resolveTenant(context)
        let name = tenant.name.value
        let language = texts.language(for: request)
        let returned = try await sessions.finishSignIn(
            request, tenant: tenant, clientID: BuiltInConsole.clientID,
            redirectURI: BuiltInConsole.redirectURI(baseURL: configuration.baseURL, tenant: name), clients: clients, grants: grants,
            users: store, missingClient: CatalogueError(Catalogue.adminObjectNotFound, ["reason": "tenant '\(name)' has no console client"])
        )
        let (login, user, authTime): (ConsoleLogin, User, Date)
        switch returned {
        case .unknown:
            return views.bare(
                title: texts.ui("console.title", language: language), language: language,
                error: CatalogueError(Catalogue.csrfCheckFailed), context: context, texts: texts,
                link: (homePath(name), texts.ui("console.signInAgain", language: language)), status: .badRequest)
        case .declined(let error):
            // The sign-in was declined or failed; the authorization endpoint logged why.
            return views.bare(
                title: texts.ui("console.title", language: language), language: language, error: nil, context: context, texts: texts,
                text: texts.ui("console.signInFailed", language: language) + " (\(String(error.prefix(60))))",
                link: (homePath(name), texts.ui("console.signInAgain", language: language)), status: .badRequest)
        case .signedIn(let signedIn, let signedInUser, let time, _):
            (login, user, authTime) = (signedIn, signedInUser, time)
        }
        let roles = try await self.roles(of: user.id, tenant: tenant.name)
        guard roles.canRead else {
            throw CatalogueError(Catalogue.adminRoleRequired, ["role": BuiltInAdminAPI.readRole, "tenant": name])
        }
        let (cookie, _) = try await sessions.start(tenant: name, userID: user.id, username: user.username.value, authTime: authTime)
        var response = redirect(login.returnTo)
        response.setCookie(sessions.cookie(ConsoleSessions.sessionCookie, value: cookie, maxAge: nil))
        response.setCookie(sessions.expired(ConsoleSessions.loginCookie))
        return response
    }

    private func logout(_ request: Request, _ context: GatehouseContext) async throws -> Response {
        let tenant = try await resolveTenant(context)
        let cookie = request.cookies[ConsoleSessions.sessionCookie]?.value
        let form = try await FormBody.read(request, limit: configuration.maxBodySize)
        // Only the session's own form ends it (a forged post from elsewhere signs no one out).
        guard let session = try await sessions.session(cookie: cookie), Self.sameToken(form["csrf"], session.csrf) else {
            throw CatalogueError(Catalogue.csrfCheckFailed)
        }
        try await sessions.end(cookie: cookie)
        var response = redirect("\(configuration.basePath)/\(tenant.name.value)/oauth2/logout")
        response.setCookie(sessions.expired(ConsoleSessions.sessionCookie))
        return response
    }

    // MARK: - Every page

    /// What a page of the console knows about its request.
    struct Call {
        let request: Request
        let context: GatehouseContext
        let language: String
        let session: ConsoleSession
        /// The tenant the operator signed in to.
        let tenant: Tenant
        /// The tenant the page is about.
        let target: Tenant
        let canWrite: Bool
        let administrative: Bool
        let form: FormParameters
        /// The query, decoded as a form (`+` is a space: the console's search and filter forms use GET).
        let query: FormParameters
        let home: String
        let administration: Administration

        var base: String { "\(home)/tenants/\(target.name.value)" }
        var recentlyAuthenticated: Bool {
            administration.time.now().timeIntervalSince(session.authTime) <= ConsoleSessions.recentAuthentication
        }
    }

    /// What a page handler answers.
    enum Outcome {
        case page(section: String, title: String, template: ConsoleViews.Page, view: [String: Any], status: HTTPResponse.Status = .ok)
        case redirect(String)
        case response(Response)
    }

    /// A console page: the operator signed in to this tenant's console, holding a role that
    /// reaches the target tenant; for a POST, the session's CSRF token, `Admin.Write` and, where
    /// asked, a recent sign-in.
    func page(
        _ request: Request, _ context: GatehouseContext, target hasTarget: Bool = true, recentSignIn: Bool = false,
        _ body: @escaping @Sendable (Call) async throws -> Outcome
    ) async throws -> Response {
        try await guarded(request, context) {
            let tenant = try await resolveTenant(context)
            let home = homePath(tenant.name.value)
            let language = texts.language(for: request)
            let write = request.method == .post
            guard let session = try await sessions.session(cookie: request.cookies[ConsoleSessions.sessionCookie]?.value),
                session.tenant == tenant.name.value
            else {
                // Not signed in (or to another tenant's console): sign in, then come back to a page
                // (a form's post is not replayed).
                return redirect("\(home)/login?return=" + Self.percentEncode(write ? home : request.uri.path))
            }
            let roles = try await self.roles(of: session.userID, tenant: tenant.name)
            guard roles.canRead, let user = try await store.user(tenant: tenant.name, id: session.userID), user.enabled,
                user.honours(sessionStartedAt: session.authTime)
            else {
                try await sessions.end(cookie: request.cookies[ConsoleSessions.sessionCookie]?.value)
                throw CatalogueError(Catalogue.adminRoleRequired, ["role": BuiltInAdminAPI.readRole, "tenant": tenant.name.value])
            }
            let administrative = try await isAdministrative(tenant.name)
            var target = tenant
            if hasTarget {
                let raw = context.parameters.get("target") ?? ""
                guard let name = try? TenantName(raw) else { throw Administration.AdministrationError.notFound("tenant", raw) }
                guard administrative || name == tenant.name else {
                    throw CatalogueError(Catalogue.adminTenantOutOfReach, ["tenant": name.value])
                }
                guard let found = try await store.tenant(named: name) else {
                    throw Administration.AdministrationError.notFound("tenant", raw)
                }
                target = found
            }
            var form = FormParameters()
            let query = try FormBody.query(request)
            if write {
                form = try await FormBody.read(request, limit: configuration.maxBodySize * 4, repeatable: ["grant"])
                guard Self.sameToken(form["csrf"], session.csrf) else { throw CatalogueError(Catalogue.csrfCheckFailed) }
                guard roles.canWrite else {
                    throw CatalogueError(Catalogue.adminRoleRequired, ["role": BuiltInAdminAPI.writeRole, "tenant": tenant.name.value])
                }
            }
            let actor = AdminActor(kind: .user, id: session.userID, tenant: tenant.name)
            let call = Call(
                request: request, context: context, language: language, session: session, tenant: tenant, target: target,
                canWrite: roles.canWrite, administrative: administrative, form: form, query: query, home: home,
                administration: administration.acting(
                    as: actor, traceID: context.traceID, source: throttles.source(request, context: context)))
            // No control character in what the console stores or searches (a NUL, which PostgreSQL
            // refuses, or a terminal escape), except the line breaks and tabs of a text area.
            for (parameters, name) in [form, query].flatMap({ parameters in parameters.names.map { (parameters, $0) } }) {
                for value in parameters.all(name)
                where value.unicodeScalars.contains(where: {
                    ($0.value < 0x20 && !"\n\r\t".unicodeScalars.contains($0)) || $0.value == 0x7F
                }) {
                    throw Administration.AdministrationError.invalid(nil, "characters", "the form holds a control character")
                }
            }
            if write && recentSignIn && !call.recentlyAuthenticated {
                // A change to who or what can sign in: prove it is still you (max_age=0), then do it again
                // from the page the form was on.
                let back = Self.percentEncode(Self.pageOf(request.uri.path, base: call.base))
                return redirect("\(home)/login?reauth=1&return=\(back)")
            }
            do {
                return render(try await body(call), call: call)
            } catch let error as Administration.AdministrationError {
                return renderFailure(error.catalogueError, call: call)
            } catch let error as CatalogueError where error.entry != Catalogue.storeUnavailable {
                return renderFailure(error, call: call)
            }
        }
    }

    /// Any failure before a page could be drawn: a page of its own, with the catalogue entry
    /// and the trace ID, never a 500 with a stack.
    func guarded(_ request: Request, _ context: GatehouseContext, _ body: () async throws -> Response) async throws -> Response {
        let language = texts.language(for: request)
        do {
            var response = try await body()
            views.secure(&response)
            return response
        } catch {
            let failure: CatalogueError
            switch error {
            case let error as Administration.AdministrationError: failure = error.catalogueError
            default: failure = .caught(error, context: context, step: "console")
            }
            context.notes.update { $0.code = failure.entry.number }
            return views.bare(
                title: texts.ui("console.title", language: language), language: language, error: failure, context: context, texts: texts,
                link: nil, status: .init(code: failure.entry.status == 401 ? 403 : failure.entry.status))
        }
    }

    func render(_ outcome: Outcome, call: Call) -> Response {
        switch outcome {
        case .redirect(let location): return redirect(location)
        case .response(let response): return response
        case .page(let section, let title, let template, let view, let status):
            return views.page(template, title: title, section: section, view: view, call: call, status: status)
        }
    }

    func renderFailure(_ error: CatalogueError, call: Call) -> Response {
        call.context.notes.update { $0.code = error.entry.number }
        let view: [String: Any] = [
            "error": views.alert(error, language: call.language, context: call.context),
            "link": ["href": call.request.uri.path, "label": texts.ui("console.back", language: call.language)],
        ]
        return views.page(
            .message, title: texts.ui("console.failed", language: call.language), section: "", view: view, call: call,
            status: .init(code: error.entry.status == 401 ? 403 : error.entry.status))
    }

    // MARK: - Helpers

    struct Roles {
        let canRead: Bool
        let canWrite: Bool
    }

    /// The user's roles on the tenant's admin API, read now.
    func roles(of userID: String, tenant: TenantName) async throws -> Roles {
        let api = try ClientID(BuiltInAdminAPI.applicationID)
        let held = Set(try await store.roleAssignments(tenant: tenant, userID: userID).filter { $0.api == api }.map(\.role))
        let write = held.contains(BuiltInAdminAPI.writeRole)
        return Roles(canRead: write || held.contains(BuiltInAdminAPI.readRole), canWrite: write)
    }

    /// Whether `tenant` is the administrative tenant (configured, and recorded by `admin bootstrap`).
    func isAdministrative(_ tenant: TenantName) async throws -> Bool {
        guard tenant == configuration.adminTenant else { return false }
        return try await store.setting(BuiltInAdminAPI.administrativeTenantSetting) == tenant.value
    }

    func resolveTenant(_ context: GatehouseContext) async throws -> Tenant {
        try await tenants.resolve(context.parameters.get("tenant") ?? "", for: context)
    }

    func homePath(_ tenant: String) -> String { "\(configuration.basePath)/\(tenant)/console" }

    /// A page of this console to return to: a plain path under its home (no `%`, `?`, `#`, `..`,
    /// `//` or backslash, which a browser could turn into another path).
    static func isConsolePath(_ path: String, home: String) -> Bool {
        (path == home || path.hasPrefix(home + "/")) && !path.contains("//") && !path.contains("..")
            && path.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && !"\\%?#".unicodeScalars.contains($0) }
    }

    /// The page a form was posted from, for the way back after a fresh sign-in: the section, and
    /// the object where the section has a page per object (`clients/ID`, `users/ID`).
    static func pageOf(_ path: String, base: String) -> String {
        guard path.hasPrefix(base + "/") else { return base }
        let parts = path.dropFirst(base.count + 1).split(separator: "/")
        guard let section = parts.first else { return base }
        if ["clients", "users"].contains(section), parts.count >= 2 { return "\(base)/\(section)/\(parts[1])" }
        return "\(base)/\(section)"
    }

    func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    static func sameToken(_ presented: String?, _ expected: String) -> Bool {
        guard let presented else { return false }
        return constantTimeEquals(Array(presented.utf8), Array(expected.utf8))
    }

    static func percentEncode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }
}

extension ConsoleRoutes {
    /// For the troubleshooting page: the console page of a record, when this browser holds a
    /// console session whose operator reaches the record's tenant (nil otherwise, or on any failure).
    func recordLink(_ request: Request, recordTenant: String, traceID: String) async -> String? {
        guard let cookie = request.cookies[ConsoleSessions.sessionCookie]?.value,
            let session = try? await sessions.session(cookie: cookie), let tenant = try? TenantName(session.tenant),
            let roles = try? await self.roles(of: session.userID, tenant: tenant), roles.canRead
        else { return nil }
        let administrative = (try? await isAdministrative(tenant)) ?? false
        guard administrative || recordTenant == session.tenant, TenantName.isValid(recordTenant) else { return nil }
        return "\(homePath(session.tenant))/tenants/\(recordTenant)/signins/\(Self.percentEncode(traceID))"
    }
}
