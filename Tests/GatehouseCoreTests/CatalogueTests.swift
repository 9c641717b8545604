import Foundation
import GatehouseCore
import Testing

@Suite struct CatalogueTests {
    @Test func numbersAreUniqueAndEntriesResolve() {
        #expect(Set(Catalogue.all.map(\.number)).count == Catalogue.all.count)
        #expect(Set(Catalogue.all.map(\.name)).count == Catalogue.all.count)
        for entry in Catalogue.all { #expect(Catalogue.entry(entry.number) == entry) }
    }

    @Test func rfcErrorsTravelWithTheirStatus() {
        for entry in Catalogue.all {
            switch entry.error {
            case .invalidClient: #expect(entry.status == 401, "\(entry.number)")
            case .serverError: #expect(entry.status == 500)
            case .notFound: #expect(entry.status == 404)
            // The server's own trouble is 503; the caller's throttle (failures from its address) 429.
            case .temporarilyUnavailable: #expect(entry.status == 503 || (entry.status == 429 && entry.placeholders == ["retryAfter"]))
            // RFC 6750 §3.1: invalid_token 401, insufficient_scope 403; a request without a token is 401.
            case .invalidToken: #expect(entry.status == 401)
            case .insufficientScope: #expect(entry.status == 403)
            case .invalidRequest where entry == Catalogue.bearerTokenMissing: #expect(entry.status == 401)
            // The admin API: a change that collides is 409; a principal without the tenant or role, 403.
            case .conflict: #expect(entry.status == 409)
            case .accessDenied where entry == Catalogue.adminTenantOutOfReach: #expect(entry.status == 403)
            default: #expect(entry.status == 400, "\(entry.number)")
            }
        }
    }

    @Test func entraNumbersMatchTheReference() {
        // Codes shared with the Microsoft identity platform keep its numbers and error values.
        #expect(Catalogue.invalidScope.number == 70011 && Catalogue.invalidScope.error == .invalidScope)
        #expect(Catalogue.unsupportedGrantType.number == 70003 && Catalogue.unsupportedGrantType.error == .unsupportedGrantType)
        #expect(Catalogue.invalidClientSecret.number == 7000215 && Catalogue.invalidClientSecret.status == 401)
        #expect(Catalogue.clientSecretExpired.number == 7000222)
        #expect(Catalogue.credentialRequiredForClientCredentials.number == 7000216)
        #expect(Catalogue.clientSecretOrAssertionRequired.number == 7000218)
        #expect(Catalogue.publicClientWithCredential.number == 700025)
        #expect(Catalogue.applicationNotFound.number == 700016 && Catalogue.applicationNotFound.entraError == .unauthorizedClient)
        #expect(Catalogue.tenantNotFound.number == 90002)
        #expect(Catalogue.missingParameter.number == 900144)
        #expect(Catalogue.tokenIssuanceError.number == 50000)
        #expect(Catalogue.assertionSignatureInvalid.number == 700027 && Catalogue.assertionTimeRange.number == 700024)
    }

    @Test func everyEntryHasTextsInEveryLanguage() {
        let texts = CatalogueTexts.bundled
        #expect(texts.supportedLanguages == ["en", "vi"])
        for language in texts.supportedLanguages {
            let file = texts.languages[language]!
            #expect(Set(file.entries.keys) == Set(Catalogue.all.map { String($0.number) }), "\(language): entries match the catalogue")
            for entry in Catalogue.all {
                let text = file.entries[String(entry.number)]
                #expect(
                    text != nil && !text!.message.isEmpty && !text!.cause.isEmpty && !text!.remediation.isEmpty,
                    "\(language) \(entry.number)")
                // The message uses exactly the placeholders the entry declares, so every one is filled.
                #expect(CatalogueTexts.placeholders(in: text?.message ?? "") == Set(entry.placeholders), "\(language) \(entry.number)")
            }
            for key in ["title", "error", "httpStatus", "message", "cause", "remediation", "traceHint"] {
                #expect(file.ui[key] != nil, "\(language) ui.\(key)")
            }
        }
    }

    @Test func messagesFillPlaceholdersAndSanitiseValues() {
        let texts = CatalogueTexts.bundled
        let error = CatalogueError(Catalogue.invalidScope, ["scope": "bad\u{0}\nvalue"])
        let message = texts.message(for: error, language: "en")
        #expect(message.hasSuffix("The scope badvalue isn't valid."))
        let long = texts.message(
            for: CatalogueError(Catalogue.invalidScope, ["scope": String(repeating: "x", count: 1000)]), language: "en")
        #expect(long.count < 400)
    }

    @Test func languageNegotiation() {
        let texts = CatalogueTexts.bundled
        #expect(texts.negotiate(["vi-VN"]) == "vi")
        #expect(texts.negotiate(["fr", "vi"]) == "vi")
        #expect(texts.negotiate(["de"]) == "en")
        #expect(texts.negotiate([]) == "en")
        #expect(parseAcceptLanguage("en;q=0.5, vi-VN;q=0.9, fr;q=0") == ["vi-VN", "en"])
        #expect(parseAcceptLanguage("*") == [])
    }
}
