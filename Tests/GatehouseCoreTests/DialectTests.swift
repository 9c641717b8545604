import Foundation
import Testing

@testable import GatehouseCore

/// Each dialect owns its paths, issuer, token claims and error shape.
@Suite struct DialectTests {
    static func tenant() throws -> Tenant {
        Tenant(
            name: try TenantName("contoso"), id: UUID(uuidString: "11111111-2222-3333-4444-555555555555") ?? UUID(),
            displayName: "Contoso", createdAt: Date(timeIntervalSince1970: 0))
    }

    static func parts(_ dialect: any Dialect, _ error: CatalogueError) -> ErrorParts {
        ErrorParts(
            error: error, errorValue: dialect.errorValue(for: error), message: "m", timestamp: "2026-01-01 00:00:00Z", traceID: "t",
            correlationID: "c", errorURI: "https://id/error?code=\(error.entry.number)")
    }

    static func keys(_ json: String) -> [String] {
        // Member names in the order written: every `"name":` at depth one.
        var keys: [String] = []
        var depth = 0
        var index = json.startIndex
        while index < json.endIndex {
            let character = json[index]
            if character == "{" || character == "[" { depth += 1 }
            if character == "}" || character == "]" { depth -= 1 }
            if character == "\"" {
                var end = json.index(after: index)
                while json[end] != "\"" { end = json[end] == "\\" ? json.index(end, offsetBy: 2) : json.index(after: end) }
                let after = json.index(after: end)
                if depth == 1, after < json.endIndex, json[after] == ":" { keys.append(String(json[json.index(after: index)..<end])) }
                index = after
                continue
            }
            index = json.index(after: index)
        }
        return keys
    }

    @Test func pathsAndIssuers() throws {
        let tenant = try Self.tenant()
        #expect(Dialects.native.endpointPath("token") == "oauth2/token")
        #expect(Dialects.entra.endpointPath("token") == "oauth2/v2.0/token")
        #expect(Dialects.native.issuer(baseURL: "https://id", tenant: tenant) == "https://id/contoso")
        #expect(Dialects.entra.issuer(baseURL: "https://id", tenant: tenant) == "https://id/11111111-2222-3333-4444-555555555555/v2.0")
        #expect(!Dialects.native.isMultiTenantAlias("common") && Dialects.entra.isMultiTenantAlias("common"))
        #expect(Dialects.native.offersVerificationURIComplete && !Dialects.entra.offersVerificationURIComplete)
    }

    @Test func errorShapes() throws {
        let error = CatalogueError(Catalogue.applicationNotFound, ["clientId": "x", "tenant": "contoso"])
        let native = Dialects.native.errorBody(Self.parts(Dialects.native, error))
        let entra = Dialects.entra.errorBody(Self.parts(Dialects.entra, error))
        #expect(
            Self.keys(native) == ["error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"])
        #expect(native.hasPrefix("{\"error\":\"invalid_client\",\"error_description\":\"m\""))
        #expect(Dialects.native.status(for: error.entry) == 401)
        // Entra: its own error value and status for 700016, the AADSTS description with trace lines.
        #expect(entra.hasPrefix("{\"error\":\"unauthorized_client\",\"error_description\":\"AADSTS700016: m\\r\\nTrace ID: t\\r\\n"))
        #expect(Dialects.entra.status(for: error.entry) == 400)
        // suberror: after error_codes natively, after error_uri in Entra.
        let consent = CatalogueError(Catalogue.consentRequired, ["clientId": "x"])
        #expect(Self.keys(Dialects.native.errorBody(Self.parts(Dialects.native, consent)))[3] == "suberror")
        #expect(Self.keys(Dialects.entra.errorBody(Self.parts(Dialects.entra, consent))).last == "suberror")
        #expect(Dialects.entra.errorResponseHeaders.contains { $0.name == "Expires" && $0.value == "-1" })
        #expect(!Dialects.native.errorResponseHeaders.contains { $0.name == "Expires" })
    }

    @Test func accessTokenClaimsRoundTrip() throws {
        let tenant = try Self.tenant()
        let scope = Scope(tokens: ["api://orders/Orders.Read", "openid"])
        let app = TokenSubject(objectID: "daemon", clientMethod: .clientSecretBasic, roles: ["Orders.Read"])
        let (appScope, appClaims) = Dialects.entra.accessTokenClaims(
            app, tenant: tenant, clientID: "daemon", scope: scope, jti: "j", iat: 100, random: .system)
        #expect(appScope == nil)
        #expect(appClaims["roles"] == .strings(["Orders.Read"]) && appClaims["scp"] == nil && appClaims.string("idtyp") == "app")
        #expect(appClaims.string("azpacr") == "1" && appClaims["nbf"] == .int(100) && appClaims.string("uti") == "j")
        let user = TokenSubject(objectID: "u1", clientMethod: .none, name: "Alice", preferredUsername: "alice")
        let (_, userClaims) = Dialects.entra.accessTokenClaims(
            user, tenant: tenant, clientID: "spa", scope: scope, jti: "j", iat: 100, random: .system)
        #expect(userClaims.string("scp") == "Orders.Read" && userClaims["roles"] == nil && userClaims.string("azpacr") == "0")
        let (nativeScope, nativeClaims) = Dialects.native.accessTokenClaims(
            user, tenant: tenant, clientID: "spa", scope: scope, jti: "j", iat: 100, random: .system)
        #expect(nativeScope == "api://orders/Orders.Read openid" && nativeClaims.isEmpty)
        // The added claims survive encoding and decoding; scopes are read from `scp` when `scope` is absent.
        let claims = AccessTokenClaims(
            iss: "i", sub: "u1", aud: ["a"], exp: 200, iat: 100, jti: "j", clientID: "spa", scope: nil, additional: userClaims)
        let decoded = try JSONDecoder().decode(AccessTokenClaims.self, from: JSONEncoder().encode(claims))
        #expect(decoded.additional.string("tid") == tenant.guid && decoded.additional["nbf"] == .int(100))
        #expect(decoded.scopes.tokens == ["Orders.Read"])
    }
}
