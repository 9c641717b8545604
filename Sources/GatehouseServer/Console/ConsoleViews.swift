import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// Draws the console's pages: a page's own template inside the layout, in the request's
/// language (the `console.*` texts of the locale files), with the console's security headers.
struct ConsoleViews: Sendable {
    enum Page: CaseIterable {
        case signIns, record, clients, client, secretShown, users, user, keys, apis, audit, outbox, preview, tenants, message

        var source: String {
            switch self {
            case .signIns: ConsoleTemplates.signIns
            case .record: ConsoleTemplates.record
            case .clients: ConsoleTemplates.clients
            case .client: ConsoleTemplates.client
            case .secretShown: ConsoleTemplates.secretShown
            case .users: ConsoleTemplates.users
            case .user: ConsoleTemplates.user
            case .keys: ConsoleTemplates.keys
            case .apis: ConsoleTemplates.apis
            case .audit: ConsoleTemplates.audit
            case .outbox: ConsoleTemplates.outbox
            case .preview: ConsoleTemplates.preview
            case .tenants: ConsoleTemplates.tenants
            case .message: ConsoleTemplates.message
            }
        }
    }

    let texts: CatalogueTexts
    let configuration: ServerConfiguration
    private let layout: MustacheTemplate
    private let bareTemplate: MustacheTemplate
    private let templates: [Page: MustacheTemplate]

    /// The names of the console's texts that templates use as `{{t.name}}`: every `console.*`
    /// text of the default language without a further dot.
    private let textNames: [String]

    init(texts: CatalogueTexts, configuration: ServerConfiguration) throws {
        self.texts = texts
        self.configuration = configuration
        layout = try MustacheTemplate(string: ConsoleTemplates.layout)
        bareTemplate = try MustacheTemplate(string: ConsoleTemplates.bare)
        var templates: [Page: MustacheTemplate] = [:]
        for page in Page.allCases { templates[page] = try MustacheTemplate(string: page.source) }
        self.templates = templates
        textNames = (texts.languages[CatalogueTexts.defaultLanguage]?.ui.keys.map { $0 } ?? [])
            .filter { $0.hasPrefix("console.") && !$0.dropFirst("console.".count).contains(".") }
            .map { String($0.dropFirst("console.".count)) }
    }

    func text(_ key: String, _ language: String, _ values: [String: String] = [:]) -> String {
        CatalogueTexts.fill(texts.ui("console." + key, language: language), with: values)
    }

    func strings(_ language: String) -> [String: String] {
        Dictionary(uniqueKeysWithValues: textNames.map { ($0, text($0, language)) })
    }

    /// A page of the signed-in console.
    func page(
        _ page: Page, title: String, section: String, view: [String: Any], call: ConsoleRoutes.Call, status: HTTPResponse.Status = .ok
    ) -> Response {
        let language = call.language
        var common: [String: Any] = [
            "t": strings(language), "language": language, "csrf": call.session.csrf, "base": call.base, "home": call.home,
            "canWrite": call.canWrite,
        ]
        for (key, value) in view { common[key] = value }
        let body = templates[page]?.render(common) ?? ""
        let sections = ConsoleRoutes.sections.map { name -> [String: Any] in
            ["href": "\(call.base)/\(name)", "label": text("section.\(name)", language), "current": name == section]
        }
        let role = call.canWrite ? BuiltInAdminAPI.writeRole : BuiltInAdminAPI.readRole
        let html = layout.render(
            [
                "t": strings(language), "language": language, "title": title, "body": body, "sections": sections,
                "target": call.target.name.value, "administrative": call.administrative, "home": call.home, "csrf": call.session.csrf,
                "signedInAs": text("signedInAs", language, ["user": call.session.username, "tenant": call.tenant.name.value]),
                "role": call.canWrite ? role : "\(role) (\(text("readOnly", language)))",
                "notice": orFalse(notice(call.request.uri.queryParameters["done"].map(String.init), language)),
            ] as [String: Any])
        return response(html, status: status)
    }

    /// The confirmation a redirect after a change asks for (`?done=saved`); only the console's own.
    func notice(_ done: String?, _ language: String) -> String? {
        guard let done, done.utf8.count <= 32, done.allSatisfy({ $0.isLetter }) else { return nil }
        let key = "console.done.\(done)"
        let text = texts.ui(key, language: language)
        return text == key ? nil : text
    }

    /// A page outside the signed-in console: a refusal before there is an operator.
    func bare(
        title: String, language: String, error: CatalogueError?, context: GatehouseContext, texts: CatalogueTexts, text: String? = nil,
        link: (String, String)?, status: HTTPResponse.Status
    ) -> Response {
        var view: [String: Any] = ["language": language, "title": title]
        if let error { view["error"] = alert(error, language: language, context: context) }
        if let text { view["text"] = text }
        if let link { view["link"] = ["href": link.0, "label": link.1] }
        return response(bareTemplate.render(view), status: status)
    }

    /// A failure's message, code (linked to its troubleshooting page) and trace ID.
    func alert(_ error: CatalogueError, language: String, context: GatehouseContext) -> [String: Any] {
        [
            "message": texts.message(for: error, language: language), "code": error.entry.number,
            "uri": configuration.errorURI(error.entry.number, traceID: context.traceID, language: language),
            "traceID": context.traceID, "label": texts.ui("errorCode", language: language),
        ]
    }

    func response(_ html: String, status: HTTPResponse.Status) -> Response {
        var response = Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
        secure(&response)
        return response
    }

    /// No script at all, no framing, no referrer, never cached.
    func secure(_ response: inout Response) {
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.cacheControl] = "no-store"
    }

    /// A time as the console shows it (UTC, to the second).
    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        return ErrorRenderer.timestamp(date)
    }
}

/// A value for a template: nil becomes `false` (a section left out), never the text "nil".
func orFalse(_ value: Any?) -> Any { value ?? false }
