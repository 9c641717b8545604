import Foundation
import GatehouseCore
import Hummingbird

/// Sends an authorization response or error to the client's (validated) redirect URI in its
/// response mode, with RFC 9207 `iss`.
struct AuthorizationReply: Sendable {
    let pages: SignInPages
    let random: RandomSource

    func success(code: String, target: AuthorizationReplyTarget, issuer: String, language: String) -> Response {
        var fields = [("code", code)]
        if let state = target.state { fields.append(("state", state)) }
        fields.append(("iss", issuer))
        return send(fields, to: target, language: language)
    }

    /// RFC 6749 §4.1.2.1 with the catalogue's code, trace and correlation IDs and troubleshooting link.
    func failure(_ error: CatalogueError, target: AuthorizationReplyTarget, issuer: String, language: String, context: GatehouseContext)
        -> Response
    {
        let uri = pages.configuration.errorURI(error.entry.number, traceID: context.traceID, language: language)
        var fields = [
            ("error", error.error.rawValue),
            ("error_description", ErrorRenderer.rfc6749Safe(pages.texts.message(for: error, language: language))),
            ("error_codes", "\(error.entry.number)"),
            ("error_uri", uri),
            ("trace_id", context.traceID),
            ("correlation_id", context.correlationID),
        ]
        if let state = target.state { fields.append(("state", state)) }
        fields.append(("iss", issuer))
        return send(fields, to: target, language: language)
    }

    private func send(_ fields: [(String, String)], to target: AuthorizationReplyTarget, language: String) -> Response {
        let uri = target.redirectURI
        switch target.responseMode {
        case .query:
            return redirect(uri.appendingQuery(fields))
        case .fragment:
            return redirect(uri.appendingFragment(fields))
        case .formPost:
            let nonce = random.token(byteCount: 16)
            let body = pages.formPost.render([
                "language": language, "title": pages.ui("formPostHeading", language), "heading": pages.ui("formPostHeading", language),
                "action": uri.value, "fields": fields.map { ["name": $0.0, "value": $0.1] }, "nonce": nonce,
                "labelSubmit": pages.ui("continueButton", language),
            ])
            return pages.html(body, formTarget: uri.value, scriptNonce: nonce)
        }
    }

    func redirect(_ location: String) -> Response {
        Response(
            status: .seeOther,
            headers: [.location: location, .cacheControl: "no-store", .pragma: "no-cache", .referrerPolicy: "no-referrer"])
    }
}
