import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// `GET /error?code=N`: the troubleshooting page of a catalogue entry, HTML or JSON
/// (`Accept: application/json`), in the language of `ui_locales` or `Accept-Language`.
/// `GET /error` lists every code. With `trace_id` (as every `error_uri` carries it), the page
/// also shows "your request": the public part of the server's record of that request
/// (`RequestRecordLookup`), and, to a signed-in console operator who reaches its tenant, a link
/// to the full record.
struct ErrorPageRoute: Sendable {
    let texts: CatalogueTexts
    let entryTemplate: MustacheTemplate
    let indexTemplate: MustacheTemplate
    let lookup: RequestRecordLookup?
    let throttles: Throttles?
    /// The console page of a record for the operator signed in to this browser's console, if
    /// that operator reaches the record's tenant.
    let consoleLink: (@Sendable (Request, String, String) async -> String?)?

    init(
        texts: CatalogueTexts, lookup: RequestRecordLookup? = nil, throttles: Throttles? = nil,
        consoleLink: (@Sendable (Request, String, String) async -> String?)? = nil
    ) throws {
        self.texts = texts
        self.lookup = lookup
        self.throttles = throttles
        self.consoleLink = consoleLink
        self.entryTemplate = try MustacheTemplate(string: ErrorPageTemplates.entry)
        self.indexTemplate = try MustacheTemplate(string: ErrorPageTemplates.index)
    }

    func register(on router: some RouterMethods<GatehouseContext>) {
        router.get("/error") { request, context in
            try await self.page(request, context: context)
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

    private func page(_ request: Request, context: GatehouseContext) async throws -> Response {
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
        var document = Self.document(for: entry, texts: texts, language: language)
        let traceID = request.uri.queryParameters["trace_id"].map { String($0.prefix(64)) }
        var yourRequest: [String: Any]? = nil
        if let traceID, let lookup {
            yourRequest = await self.yourRequest(traceID, lookup: lookup, request: request, context: context, language: language)
            document["request"] = yourRequest?["json"] ?? NSNull()
        }
        if wantsJSON { return try json(document, cacheable: traceID == nil) }
        var view = document
        view["request"] = orFalse(yourRequest)
        view["traceQuery"] = traceID.map { "&trace_id=\(ConsoleRoutes.percentEncode($0))" } ?? ""
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
        return html(entryTemplate.render(view), cacheable: traceID == nil)
    }

    /// The "your request" section: what the record says in public, or why there is nothing.
    private func yourRequest(
        _ traceID: String, lookup: RequestRecordLookup, request: Request, context: GatehouseContext, language: String
    ) async -> [String: Any] {
        func ui(_ key: String, _ values: [String: String] = [:]) -> String {
            CatalogueTexts.fill(texts.ui(key, language: language), with: values)
        }
        let source = throttles?.source(request, context: context) ?? context.remoteAddress ?? "unknown"
        var section: [String: Any] = ["heading": ui("yourRequest")]
        var fields: [(String, String)] = []
        var json: [String: Any] = ["trace_id": traceID]
        var tenant: String? = nil
        switch await lookup.lookup(traceID, source: source) {
        case .found(let event):
            tenant = event.tenant
            fields = [
                (ui("requestCode"), event.errorCode.map { "\($0) \(event.error ?? "")" } ?? ui("requestSucceeded")),
                (ui("requestTime"), ErrorRenderer.timestamp(event.time)), (ui("requestTrace"), event.traceID),
                (ui("requestCorrelation"), event.correlationID), (ui("requestClient"), event.clientID ?? "-"),
                (ui("requestTenant"), event.tenant),
            ]
            json = [
                "found": true, "code": event.errorCode ?? NSNull(), "time": ErrorRenderer.timestamp(event.time), "trace_id": event.traceID,
                "correlation_id": event.correlationID, "client_id": event.clientID ?? NSNull(), "tenant": event.tenant,
            ]
        case .notLookedUp:
            section["note"] = ui("requestNotLookedUp")
            json["found"] = false
        case .throttled(let seconds):
            section["note"] = ui("requestThrottled", ["seconds": "\(seconds)"])
            json["found"] = NSNull()
        case .notFound:
            section["note"] = ui("requestNotFound")
            json["found"] = false
        case .unavailable:
            section["note"] = ui("requestUnavailable")
            json["found"] = NSNull()
        }
        section["fields"] = fields.map { ["label": $0.0, "value": $0.1] }
        section["hasFields"] = !fields.isEmpty
        section["json"] = json
        if let tenant, let consoleLink, let link = await consoleLink(request, tenant, traceID) {
            section["console"] = ["href": link, "label": ui("openInConsole")]
        }
        return section
    }

    private func html(_ body: String, cacheable: Bool = true) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
                .cacheControl: cacheable ? "public, max-age=3600" : "no-store",
                .referrerPolicy: "no-referrer",
            ], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private func json(_ object: [String: Any], cacheable: Bool = true) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: cacheable ? "public, max-age=3600" : "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
