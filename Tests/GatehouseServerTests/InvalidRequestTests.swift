import Foundation
import GatehouseCore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// `invalid_request` (RFC 6749 §5.2), one test per trigger the RFC names.
@Suite struct InvalidRequestTests {
    @Test func wrongMethodIsRefused() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            for method in [HTTPRequest.Method.get, .put, .delete] {
                let response = try await client.execute(uri: Harness.tokenPath + "?grant_type=client_credentials", method: method)
                expectError(response, status: 400, error: "invalid_request", code: 900561)
                #expect(response.headers[.allow] == "POST")
            }
        }
    }

    @Test(arguments: [
        "application/json", "multipart/form-data; boundary=x", "text/plain", "application/x-www-form-urlencoded; charset=iso-8859-1",
    ])
    func wrongContentTypeIsRefused(contentType: String) async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await client.execute(
                uri: Harness.tokenPath, method: .post, headers: [.contentType: contentType],
                body: ByteBuffer(string: "grant_type=client_credentials"))
            expectError(response, status: 400, error: "invalid_request", code: 9900103)
        }
    }

    @Test func missingContentTypeIsRefused() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await client.execute(
                uri: Harness.tokenPath, method: .post, body: ByteBuffer(string: "grant_type=client_credentials"))
            expectError(response, status: 400, error: "invalid_request", code: 9900103)
        }
    }

    @Test func contentTypeWithUTF8CharsetIsAccepted() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await client.execute(
                uri: Harness.tokenPath, method: .post, headers: [.contentType: "Application/X-WWW-Form-Urlencoded; charset=UTF-8"],
                body: ByteBuffer(
                    string: formEncode([
                        ("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", harness.secret("svc")),
                    ])))
            #expect(response.status == .ok)
        }
    }

    @Test(arguments: [
        "grant_type=client_credentials&scope=%zz", "grant_type=client_credentials&scope=%", "grant_type=client_credentials&scope=%ff%fe",
        "=x&grant_type=client_credentials", "grant_type=client_credentials&a%2=b",
    ])
    func malformedBodyIsRefused(body: String) async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await client.execute(
                uri: Harness.tokenPath, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: body))
            expectError(response, status: 400, error: "invalid_request", code: 9900102)
        }
    }

    @Test func repeatedParameterIsRefused() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(
                client,
                [
                    ("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", harness.secret("svc")),
                    ("scope", "api.read"), ("scope", "api.write"),
                ])
            expectError(response, status: 400, error: "invalid_request", code: 9900101)
            #expect((json(response)["error_description"] as? String)?.contains("'scope'") == true)
            let twice = try await harness.token(client, [("grant_type", "client_credentials"), ("grant_type", "client_credentials")])
            expectError(twice, status: 400, error: "invalid_request", code: 9900101)
        }
    }

    @Test func emptyValueCountsAsOmitted() async throws {
        // RFC 6749 §3.1: parameters sent without a value are treated as omitted.
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(
                client, [("grant_type", ""), ("client_id", "svc"), ("client_secret", harness.secret("svc"))])
            expectError(response, status: 400, error: "invalid_request", code: 900144)
            let emptyScope = try await harness.token(
                client,
                [("grant_type", "client_credentials"), ("scope", ""), ("client_id", "svc"), ("client_secret", harness.secret("svc"))])
            #expect(emptyScope.status == .ok)
            #expect(json(emptyScope)["scope"] as? String == "api.read")
        }
    }

    @Test func missingGrantTypeIsRefused() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(client, [("client_id", "svc"), ("client_secret", harness.secret("svc"))])
            expectError(response, status: 400, error: "invalid_request", code: 900144)
            #expect((json(response)["error_description"] as? String)?.contains("'grant_type'") == true)
        }
    }

    @Test func oversizedBodyIsRefused() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(
                client, [("grant_type", "client_credentials"), ("padding", String(repeating: "a", count: 5000))])
            expectError(response, status: 400, error: "invalid_request", code: 9900104)
        }
    }

    @Test func twoAuthenticationMethodsAreRefused() async throws {
        let harness = try await Harness.make()
        let assertion = try await harness.assertion()
        try await harness.withClient { client in
            let basicAndPost = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_secret", harness.secret("svc"))],
                headers: [.authorization: basic("svc", harness.secret("svc"))])
            expectError(basicAndPost, status: 400, error: "invalid_request", code: 9900105)
            let postAndAssertion = try await harness.token(
                client,
                [
                    ("grant_type", "client_credentials"), ("client_id", "jwt-client"), ("client_secret", "x"),
                    ("client_assertion_type", PresentedClientCredentials.jwtBearerAssertionType), ("client_assertion", assertion),
                ])
            expectError(postAndAssertion, status: 400, error: "invalid_request", code: 9900105)
            let basicAndAssertion = try await harness.token(
                client,
                [
                    ("grant_type", "client_credentials"),
                    ("client_assertion_type", PresentedClientCredentials.jwtBearerAssertionType), ("client_assertion", assertion),
                ], headers: [.authorization: basic("svc", harness.secret("svc"))])
            expectError(basicAndAssertion, status: 400, error: "invalid_request", code: 9900105)
        }
    }

    @Test func secretWithoutClientIDIsRefused() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(client, [("grant_type", "client_credentials"), ("client_secret", "x")])
            expectError(response, status: 400, error: "invalid_request", code: 900144)
        }
    }

    @Test func assertionWithoutTypeIsRefused() async throws {
        let harness = try await Harness.make()
        let assertion = try await harness.assertion()
        try await harness.withClient { client in
            let response = try await harness.token(client, [("grant_type", "client_credentials"), ("client_assertion", assertion)])
            expectError(response, status: 400, error: "invalid_request", code: 900144)
        }
    }

    @Test func conflictingClientIDIsRefused() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "other")],
                headers: [.authorization: basic("svc", harness.secret("svc"))])
            expectError(response, status: 400, error: "invalid_request", code: 9900106)
        }
    }

    @Test func malformedClientIDIsRefused() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "bad\u{1}id"), ("client_secret", "x")])
            expectError(response, status: 400, error: "invalid_request", code: 90100)
        }
    }

    @Test func unknownTenantIsACatalogueError() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let unknown = try await harness.token(client, [("grant_type", "client_credentials")], path: "/fabrikam/oauth2/token")
            expectError(unknown, status: 400, error: "invalid_request", code: 90002)
            #expect((json(unknown)["error_description"] as? String)?.contains("'fabrikam'") == true)
            let malformed = try await harness.token(client, [("grant_type", "client_credentials")], path: "/Bad_Tenant/oauth2/token")
            expectError(malformed, status: 400, error: "invalid_request", code: 900023)
        }
    }
}
