import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import NIOCore

/// The one place that turns a catalogue error into an HTTP response.
public struct ErrorRenderer: Sendable {
    public let configuration: ServerConfiguration
    public let texts: CatalogueTexts

    public init(configuration: ServerConfiguration, texts: CatalogueTexts = .bundled) {
        self.configuration = configuration
        self.texts = texts
    }

    /// The JSON error response for the request's render context (`GatehouseContext.rendering`,
    /// set where the request enters): its dialect arranges the body (`Dialect.errorBody`) and
    /// gives the `error` value, status and caching headers; `WWW-Authenticate` is added to a 401
    /// when the request carried an `Authorization` header (RFC 6749 §5.2), or as a Bearer
    /// challenge where the endpoint asks for one (RFC 6750 §3).
    public func response(for error: CatalogueError, context: GatehouseContext, now: Date = Date()) -> Response {
        let rendering = context.rendering
        let dialect = rendering.dialect
        let entry = error.entry
        context.notes.update { $0.code = entry.number }
        let message = publicMessage(for: error, language: rendering.language)
        let errorValue = dialect.errorValue(for: error)
        var status = dialect.status(for: entry)
        // At a resource a proof's failure is a 401 with a DPoP challenge (RFC 9449 §7.1, §9).
        if rendering.dpopChallenge, errorValue == .invalidDPoPProof || errorValue == .useDPoPNonce { status = 401 }
        let uri = configuration.errorURI(entry.number, traceID: context.traceID, language: rendering.language)
        let json = dialect.errorBody(
            ErrorParts(
                error: error, errorValue: errorValue, message: message, timestamp: Self.timestamp(now), traceID: context.traceID,
                correlationID: context.correlationID, errorURI: uri))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        headers.append(dialect.errorResponseHeaders)
        let safeRealm = TenantName.isValid(rendering.realm) ? rendering.realm : "gatehouse"
        if rendering.bearerChallenge || rendering.dpopChallenge {
            // RFC 6750 §3: no error code when the request carried no token at all. The error goes
            // with the scheme the request used; the other scheme is offered without one.
            var details = ""
            if entry != Catalogue.bearerTokenMissing {
                let description = message.filter { $0 != "\"" && $0 != "'" && $0 != "\\" }
                details = ", error=\"\(errorValue.rawValue)\", error_description=\"\(description)\""
                if entry == Catalogue.insufficientScope, let scope = error.parameters["scope"] { details += ", scope=\"\(scope)\"" }
            }
            let dpopFirst = rendering.dpopChallenge && (rendering.dpopChallengeFirst || !rendering.bearerChallenge)
            let algs = ", algs=\"\(DPoPVerifier.algorithms.joined(separator: " "))\""
            var challenges: [String] = []
            if rendering.bearerChallenge { challenges.append("Bearer realm=\"\(safeRealm)\"" + (dpopFirst ? "" : details)) }
            if rendering.dpopChallenge { challenges.append("DPoP realm=\"\(safeRealm)\"" + (dpopFirst ? details : "") + algs) }
            if dpopFirst { challenges.reverse() }
            for challenge in challenges { headers.append(HTTPField(name: .wwwAuthenticate, value: challenge)) }
        } else if status == 401 && rendering.usedAuthorizationHeader {
            headers[.wwwAuthenticate] = "Basic realm=\"\(safeRealm)\", charset=\"UTF-8\""
        }
        if let nonce = rendering.dpopNonce { headers[.dpopNonce] = nonce }
        if entry == Catalogue.endpointOnlyAcceptsPost { headers[.allow] = "POST" }
        if entry == Catalogue.storeUnavailable { headers[.retryAfter] = "5" }
        if let seconds = error.throttledRetryAfter { headers[.retryAfter] = seconds }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    /// Any failure of a request as a response: a catalogue error renders itself; anything else is
    /// the one fallback (`CatalogueError.caught`: 50000, the cause only in the log).
    public func response(catching error: any Error, context: GatehouseContext, step: String) -> Response {
        response(for: CatalogueError.caught(error, context: context, step: step), context: context)
    }

    /// The `error_description` text: the message in the RFC 6749 character set in `language`, or
    /// in English when that set would lose most of it (a language in a non-Latin script).
    public func publicMessage(for error: CatalogueError, language: String) -> String {
        Self.describable(texts.message(for: error, language: language))
            ?? Self.rfc6749Safe(texts.message(for: error, language: CatalogueTexts.defaultLanguage))
    }

    /// `yyyy-MM-dd HH:mm:ssZ` in UTC, as the Microsoft identity platform writes it.
    public static func timestamp(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970)
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = seconds - days * 86400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(secondOfDay / 3600)):\(two(secondOfDay % 3600 / 60)):\(two(secondOfDay % 60))Z"
    }

    /// The message in the RFC 6749 character set, or nil when that would lose most of it (a
    /// language in a non-Latin script): the caller then falls back to English. The troubleshooting
    /// page (`error_uri`, with `ui_locales`) keeps the full text in the chosen language.
    static func describable(_ text: String) -> String? {
        let safe = rfc6749Safe(text)
        let letters = { (value: String) in value.unicodeScalars.filter { CharacterSet.letters.contains($0) }.count }
        return letters(safe) * 2 >= letters(text) && !safe.trimmingCharacters(in: .whitespaces).isEmpty ? safe : nil
    }

    /// RFC 6749 §5.2: `error_description` uses only %x20-21 / %x23-5B / %x5D-7E. Diacritics are
    /// folded (Vietnamese stays readable), `"` becomes `'`, `\` becomes `/`, anything else is dropped.
    public static func rfc6749Safe(_ text: String) -> String {
        let folded = text.replacingOccurrences(of: "đ", with: "d").replacingOccurrences(of: "Đ", with: "D")
            .folding(options: [.diacriticInsensitive, .widthInsensitive], locale: Locale(identifier: "en_US_POSIX"))
        var output = ""
        output.reserveCapacity(folded.utf8.count)
        for scalar in folded.unicodeScalars {
            switch scalar.value {
            case 0x22: output.append("'")
            case 0x5C: output.append("/")
            case 0x20...0x7E: output.unicodeScalars.append(scalar)
            case 0x2026: output.append("...")
            default: continue
            }
        }
        return output
    }

}

extension HTTPFields {
    /// Appends header pairs given by name (a dialect's caching headers).
    mutating func append(_ pairs: [(name: String, value: String)]) {
        for (name, value) in pairs {
            if let field = HTTPField.Name(name) { self[field] = value }
        }
    }
}

extension CatalogueTexts {
    /// The language for a request: `ui_locales` (space-separated, OpenID Connect Core §3.1.2.1)
    /// from the form, then from the query, then `Accept-Language`; English if none is supported.
    func language(for request: Request, formUILocales: String? = nil) -> String {
        let uiLocales = [formUILocales, request.uri.queryParameters["ui_locales"].map(String.init)]
            .compactMap { $0 }.flatMap { $0.split(separator: " ").map(String.init) }
        return negotiate(uiLocales + (request.headers[.acceptLanguage].map(parseAcceptLanguage) ?? []))
    }
}
