import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// `GET /error?code=N`: the troubleshooting page of a catalogue entry, HTML or JSON
/// (`Accept: application/json`), in the language of `ui_locales` or `Accept-Language`.
/// `GET /error` lists every code.
struct ErrorPageRoute: Sendable {
    let texts: CatalogueTexts
    let entryTemplate: MustacheTemplate
    let indexTemplate: MustacheTemplate

    init(texts: CatalogueTexts) throws {
        self.texts = texts
        self.entryTemplate = try MustacheTemplate(string: ErrorPageTemplates.entry)
        self.indexTemplate = try MustacheTemplate(string: ErrorPageTemplates.index)
    }

    func register(on router: some RouterMethods<GatehouseContext>) {
        router.get("/error") { request, _ in
            try self.page(request)
        }
    }

    /// The fields of an entry's page, shared by HTML, JSON and `gatehouse explain`.
    static func document(for entry: CatalogueEntry, texts: CatalogueTexts, language: String) -> [String: Any] {
        let text = texts.text(for: entry.number, language: language)
        return [
            "code": entry.number, "name": entry.name, "error": entry.error.rawValue, "status": entry.status,
            "message": text?.message ?? "", "cause": text?.cause ?? "", "remediation": text?.remediation ?? "",
            "language": language,
        ]
    }

    private func page(_ request: Request) throws -> Response {
        let wantsJSON = (request.headers[.accept] ?? "").contains("application/json")
        let language = texts.language(for: request)
        guard let raw = request.uri.queryParameters["code"].map(String.init) else {
            let entries = Catalogue.all.map {
                ["number": $0.number, "name": $0.name, "error": $0.error.rawValue, "status": $0.status, "language": language]
                    as [String: Any]
            }
            if wantsJSON { return try json(["codes": entries.map { $0.filter { $0.key != "language" } }]) }
            return html(indexTemplate.render(["entries": entries, "language": language]))
        }
        guard let number = Int(raw), let entry = Catalogue.entry(number) else {
            throw CatalogueError(Catalogue.unknownErrorCode, ["code": raw])
        }
        let document = Self.document(for: entry, texts: texts, language: language)
        if wantsJSON { return try json(document) }
        var view = document
        view["title"] = CatalogueTexts.fill(texts.ui("title", language: language), with: ["code": "\(entry.number)"])
        for (key, label) in [
            ("labelError", "error"), ("labelStatus", "httpStatus"), ("labelMessage", "message"), ("labelCause", "cause"),
            ("labelRemediation", "remediation"), ("traceHint", "traceHint"),
        ] {
            view[key] = texts.ui(label, language: language)
        }
        view["languages"] = texts.supportedLanguages.map {
            ["tag": $0, "label": texts.languages[$0]?.name ?? $0, "code": entry.number] as [String: Any]
        }
        return html(entryTemplate.render(view))
    }

    private func html(_ body: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
                .cacheControl: "public, max-age=3600",
            ], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private func json(_ object: [String: Any]) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
