import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// Renders the sign-in pages with their security headers (CSP, frame-ancestors, nosniff, no-store).
struct SignInPages: Sendable {
    let texts: CatalogueTexts
    let configuration: ServerConfiguration
    let login: MustacheTemplate
    let totp: MustacheTemplate
    let consent: MustacheTemplate
    let message: MustacheTemplate
    let formPost: MustacheTemplate
    let deviceCode: MustacheTemplate
    let forgot: MustacheTemplate
    let resetPassword: MustacheTemplate
    let account: MustacheTemplate
    let enrol: MustacheTemplate
    let passkeys: MustacheTemplate
    let addPasskey: MustacheTemplate
    let codes: MustacheTemplate
    let register: MustacheTemplate

    init(texts: CatalogueTexts, configuration: ServerConfiguration) throws {
        self.texts = texts
        self.configuration = configuration
        login = try MustacheTemplate(string: SignInTemplates.login)
        totp = try MustacheTemplate(string: SignInTemplates.totp)
        consent = try MustacheTemplate(string: SignInTemplates.consent)
        message = try MustacheTemplate(string: SignInTemplates.message)
        formPost = try MustacheTemplate(string: SignInTemplates.formPost)
        deviceCode = try MustacheTemplate(string: SignInTemplates.deviceCode)
        forgot = try MustacheTemplate(string: SignInTemplates.forgot)
        resetPassword = try MustacheTemplate(string: SignInTemplates.resetPassword)
        account = try MustacheTemplate(string: AccountTemplates.account)
        enrol = try MustacheTemplate(string: AccountTemplates.enrol)
        passkeys = try MustacheTemplate(string: AccountTemplates.passkeys)
        addPasskey = try MustacheTemplate(string: AccountTemplates.addPasskey)
        codes = try MustacheTemplate(string: AccountTemplates.codes)
        register = try MustacheTemplate(string: AccountTemplates.register)
    }

    func ui(_ key: String, _ language: String, _ values: [String: String] = [:]) -> String {
        CatalogueTexts.fill(texts.ui(key, language: language), with: values)
    }

    /// The tenant's branding for a page (`brand` in the templates): its name, logo, colour and
    /// support contact; false without a tenant.
    func brand(_ tenant: Tenant?, language: String) -> Any {
        guard let tenant else { return false }
        var brand: [String: Any] = ["name": tenant.displayName]
        if let color = tenant.branding.primaryColor {
            brand["color"] = color
            brand["textColor"] = tenant.branding.textOnPrimary
        }
        if let digest = tenant.branding.logoDigest {
            brand["logo"] = configuration.endpoint(tenant.name.value, "branding/logo/\(digest)")
        }
        if let contact = tenant.branding.supportContact, let link = tenant.branding.supportLink {
            brand["support"] = contact
            brand["supportLink"] = link
            brand["supportLabel"] = ui("supportContact", language)
        }
        return brand
    }

    /// A new password typed twice, against the policy everywhere else: the refusal in the page's
    /// language, or nil.
    func passwordRefusal(_ password: String, confirm: String, language: String) -> CatalogueError? {
        guard password == confirm else { return CatalogueError(Catalogue.newPasswordsDiffer) }
        do { try Administration.checkPassword(password) } catch {
            let reason =
                password.count < Administration.minimumPasswordLength
                ? ui("passwordTooShort", language, ["minimum": String(Administration.minimumPasswordLength)])
                : ui("passwordTooLong", language)
            return CatalogueError(Catalogue.newPasswordRejected, ["reason": reason])
        }
        return nil
    }

    /// The alert block for a failure: the message, the code (linked to its page) and the trace ID.
    func alert(_ error: CatalogueError?, language: String, context: GatehouseContext) -> Any {
        guard let error else { return false }
        let shown = PasswordSignIn.shownEntry(for: error.entry)
        let shownError = shown == error.entry ? error : CatalogueError(shown)
        let uri = configuration.errorURI(shown.number, traceID: context.traceID, language: language)
        return [
            "message": texts.message(for: shownError, language: language), "code": shown.number, "uri": uri,
            "traceID": context.traceID, "labelCode": ui("errorCode", language),
        ]
    }

    /// `form-action` must allow the client's origin: browsers apply it to the redirect after a form post.
    static func origin(of uri: String) -> String? {
        guard let components = URLComponents(string: uri), let scheme = components.scheme, let host = components.host else { return nil }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(hostPart)\(components.port.map { ":\($0)" } ?? "")"
    }

    func html(_ body: String, status: HTTPResponse.Status = .ok, formTarget: String? = nil, scriptNonce: String? = nil) -> Response {
        var formAction = "'self'"
        if let target = formTarget.flatMap(Self.origin(of:)) { formAction += " \(target)" }
        let script = scriptNonce.map { "; script-src 'nonce-\($0)'" } ?? ""
        return Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8",
                .contentSecurityPolicy:
                    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action \(formAction); frame-ancestors 'none'; base-uri 'none'\(script)",
                .xContentTypeOptions: "nosniff",
                .xFrameOptions: "DENY",
                .referrerPolicy: "no-referrer",
                .cacheControl: "no-store",
                .pragma: "no-cache",
            ], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// A page with a heading and one sentence (device sign-in done or declined).
    func notice(_ heading: String, _ text: String, language: String, tenant: Tenant? = nil) -> Response {
        html(
            message.render([
                "language": language, "title": heading, "heading": heading, "text": text, "brand": brand(tenant, language: language),
            ]))
    }

    /// A page that shows a failure which must not go back to the client (50011, 700016, ...),
    /// titled after the step it belongs to (`titleKey`: sign-in, sign-out or a device's sign-in).
    func errorPage(
        _ error: CatalogueError, language: String, context: GatehouseContext, titleKey: String = "signInTitle", tenant: Tenant? = nil
    ) -> Response {
        let body = message.render([
            "language": language, "title": ui(titleKey, language), "heading": ui(titleKey, language),
            "brand": brand(tenant, language: language),
            "error": alert(error, language: language, context: context) as Any,
        ])
        var response = html(body, status: .init(code: error.entry.status == 401 ? 400 : error.entry.status))
        if let seconds = error.throttledRetryAfter { response.headers[.retryAfter] = seconds }
        return response
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let crossOriginResourcePolicy = Self("Cross-Origin-Resource-Policy")!
}
