import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import NIOCore

/// The one place that turns a catalogue error into an HTTP response (CONVENTIONS.md habit 1).
public struct ErrorRenderer: Sendable {
    public let configuration: ServerConfiguration
    public let texts: CatalogueTexts

    public init(configuration: ServerConfiguration, texts: CatalogueTexts = .bundled) {
        self.configuration = configuration
        self.texts = texts
    }

    /// The JSON error response: keys in the order `error`, `error_description`, `error_codes`,
    /// `timestamp`, `trace_id`, `correlation_id`, `error_uri`. `WWW-Authenticate` is added to a
    /// 401 when the request carried an `Authorization` header (RFC 6749 §5.2).
    ///
    /// The Entra dialect (docs/entra.md) differs in four places: Entra's `error` value and status
    /// where they differ from the RFC, `AADSTS<n>: <message>` plus the trace, correlation and
    /// timestamp lines in `error_description`, `suberror` after `error_uri` (natively after
    /// `error_codes`), and `Cache-Control: no-store, no-cache` with `Expires: -1`.
    public func response(
        for error: CatalogueError, context: GatehouseContext, language: String, usedAuthorizationHeader: Bool, realm: String,
        bearerChallenge: Bool = false, dialect: Dialect = .native, now: Date = Date()
    ) -> Response {
        let entra = dialect == .entra
        let entry = error.entry
        let message = publicMessage(for: error, language: language)
        let timestamp = Self.timestamp(now)
        let errorValue = entra ? error.errorOverride ?? entry.entraError ?? entry.error : error.error
        let status = entra ? entry.entraStatus ?? entry.status : entry.status
        let description =
            entra
            ? "AADSTS\(entry.number): \(message)\r\nTrace ID: \(context.traceID)\r\nCorrelation ID: \(context.correlationID)\r\nTimestamp: \(timestamp)"
            : message
        var uri = configuration.errorURI(entry.number)
        if language != CatalogueTexts.defaultLanguage { uri += "&ui_locales=\(language)" }
        let suberror = entry.suberror.map { ",\"suberror\":" + Self.jsonString($0) } ?? ""
        var json = "{"
        json += "\"error\":" + Self.jsonString(errorValue.rawValue)
        json += ",\"error_description\":" + Self.jsonString(description)
        json += ",\"error_codes\":[\(entry.number)]"
        if !entra { json += suberror }
        json += ",\"timestamp\":" + Self.jsonString(timestamp)
        json += ",\"trace_id\":" + Self.jsonString(context.traceID)
        json += ",\"correlation_id\":" + Self.jsonString(context.correlationID)
        json += ",\"error_uri\":" + Self.jsonString(uri)
        if entra { json += suberror }
        if let claims = entry.claims { json += ",\"claims\":" + Self.jsonString(claims) }
        json += "}"
        var headers: HTTPFields = [
            .contentType: "application/json; charset=utf-8",
            .cacheControl: entra ? "no-store, no-cache" : "no-store",
            .pragma: "no-cache",
        ]
        if entra { headers[.expires] = "-1" }
        let safeRealm = TenantName.isValid(realm) ? realm : "gatehouse"
        if bearerChallenge {
            // RFC 6750 §3: no error code when the request carried no token at all.
            var challenge = "Bearer realm=\"\(safeRealm)\""
            if entry != Catalogue.bearerTokenMissing {
                challenge += ", error=\"\(errorValue.rawValue)\", error_description=\"\(message.replacingOccurrences(of: "'", with: ""))\""
                if entry == Catalogue.insufficientScope, let scope = error.parameters["scope"] { challenge += ", scope=\"\(scope)\"" }
            }
            headers[.wwwAuthenticate] = challenge
        } else if status == 401 && usedAuthorizationHeader {
            headers[.wwwAuthenticate] = "Basic realm=\"\(safeRealm)\", charset=\"UTF-8\""
        }
        if entry == Catalogue.endpointOnlyAcceptsPost { headers[.allow] = "POST" }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
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

    /// A JSON string literal.
    public static func jsonString(_ value: String) -> String {
        var output = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    output += String(format: "\\u%04x", scalar.value)
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        return output + "\""
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
