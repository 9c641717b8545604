import Foundation
import GatehouseCore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite struct PagesAndDiscoveryTests {
    @Test func openIDAndRFC8414MetadataAgree() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let oidc = try await client.execute(uri: "/contoso/.well-known/openid-configuration", method: .get)
            let oauth = try await client.execute(uri: "/.well-known/oauth-authorization-server/contoso", method: .get)
            #expect(oidc.status == .ok && oauth.status == .ok)
            #expect(String(buffer: oidc.body) == String(buffer: oauth.body))
            let document = json(oidc)
            #expect(document["issuer"] as? String == "https://login.test/contoso")
            #expect(document["token_endpoint"] as? String == "https://login.test/contoso/oauth2/token")
            #expect(document["jwks_uri"] as? String == "https://login.test/contoso/discovery/keys")
            #expect(
                document["grant_types_supported"] as? [String] == [
                    "authorization_code", "client_credentials", "password", "refresh_token",
                    "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer",
                ])
            #expect(
                Set(document["token_endpoint_auth_methods_supported"] as? [String] ?? []) == [
                    "client_secret_basic", "client_secret_post", "private_key_jwt", "none",
                ])
            #expect(document["ui_locales_supported"] as? [String] == ["en", "vi"])
        }
    }

    @Test func discoveryOfUnknownTenantIsInvalidTenant() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await client.execute(uri: "/fabrikam/.well-known/openid-configuration", method: .get)
            #expect(response.status == .badRequest)
            #expect(json(response)["error"] as? String == "invalid_tenant")
            #expect(json(response)["error_codes"] as? [Int] == [90002])
            let jwks = try await client.execute(uri: "/fabrikam/discovery/keys", method: .get)
            #expect(json(jwks)["error_codes"] as? [Int] == [90002])
        }
    }

    @Test func jwksPublishesActiveAndNextKeysWithoutPrivateParts() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await client.execute(uri: "/contoso/discovery/keys", method: .get)
            let keys = try #require(json(response)["keys"] as? [[String: Any]])
            #expect(keys.count == 2)
            for key in keys {
                #expect(key["kty"] as? String == "EC")
                #expect(key["d"] == nil)
                #expect(key["use"] as? String == "sig")
            }
        }
    }

    @Test func troubleshootingPageInEachLanguage() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let english = try await client.execute(uri: "/error?code=70011", method: .get)
            #expect(english.status == .ok)
            #expect(english.headers[.contentType] == "text/html; charset=utf-8")
            let html = String(buffer: english.body)
            #expect(html.contains("InvalidScope") && html.contains("How to fix it") && html.contains("<html lang=\"en\">"))
            let vietnamese = try await client.execute(
                uri: "/error?code=70011", method: .get, headers: [.acceptLanguage: "vi-VN,vi;q=0.9,en;q=0.5"])
            #expect(String(buffer: vietnamese.body).contains("Cách khắc phục"))
            let query = try await client.execute(uri: "/error?code=70011&ui_locales=vi", method: .get)
            #expect(String(buffer: query.body).contains("<html lang=\"vi\">"))
            let asJSON = try await client.execute(uri: "/error?code=7000215", method: .get, headers: [.accept: "application/json"])
            let document = json(asJSON)
            #expect(
                document["code"] as? Int == 7000215 && document["error"] as? String == "invalid_client" && document["status"] as? Int == 401
            )
            #expect((document["remediation"] as? String)?.isEmpty == false)
            let index = try await client.execute(uri: "/error", method: .get, headers: [.accept: "application/json"])
            #expect((json(index)["codes"] as? [[String: Any]])?.count == Catalogue.all.count)
        }
    }

    @Test func unknownCodeOnTheTroubleshootingPage() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            for code in ["123", "abc", ""] {
                let response = try await client.execute(uri: "/error?code=\(code)", method: .get)
                #expect(response.status == .notFound)
                #expect(json(response)["error_codes"] as? [Int] == [9900130])
            }
        }
    }

    @Test func errorsSpeakTheRequestedLanguage() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let viaHeader = try await harness.token(
                client, [("grant_type", "implicit"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))],
                headers: [.acceptLanguage: "vi"])
            expectError(viaHeader, status: 400, error: "unsupported_grant_type", code: 70003)
            // Vietnamese with diacritics folded into the RFC 6749 error_description character set.
            #expect((json(viaHeader)["error_description"] as? String)?.hasPrefix("Ung dung da yeu cau") == true)
            #expect((json(viaHeader)["error_uri"] as? String)?.hasSuffix("ui_locales=vi") == true)
            let viaForm = try await harness.token(
                client,
                [("grant_type", "implicit"), ("ui_locales", "vi en"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))])
            #expect((json(viaForm)["error_description"] as? String)?.hasPrefix("Ung dung") == true)
            let fallback = try await harness.token(
                client, [("grant_type", "implicit"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))],
                headers: [.acceptLanguage: "fr-FR"])
            #expect((json(fallback)["error_description"] as? String)?.hasPrefix("The app requested") == true)
        }
    }

    @Test func unknownEndpointIsACatalogueError() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            for (uri, method) in [
                ("/does/not/exist", HTTPRequest.Method.get), ("/contoso/discovery/keys", .post), ("/contoso/oauth2/unknown", .post),
            ] {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.status == .notFound, "\(method) \(uri)")
                #expect(json(response)["error_codes"] as? [Int] == [9900131], "\(method) \(uri)")
            }
        }
    }

    @Test func everyResponseCarriesATraceID() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            for uri in ["/health", "/does/not/exist", "/contoso/discovery/keys", "/error?code=50000"] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.headers[.init("X-Trace-Id")!]?.count == 36, "\(uri)")
            }
        }
    }
}
