import Foundation
import GatehouseCore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// `unsupported_grant_type`, `unauthorized_client`, `invalid_scope` and RFC 8707 `invalid_target`.
@Suite struct GrantAndScopeTests {
    func svc(_ harness: Harness) -> [(String, String)] { [("client_id", "svc"), ("client_secret", harness.secret("svc"))] }

    @Test(arguments: [
        "implicit", "authorization_code_", "urn:ietf:params:oauth:grant-type:token-exchange", "CLIENT_CREDENTIALS", "client_credentials ",
    ])
    func unsupportedGrantType(grantType: String) async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(client, [("grant_type", grantType)] + svc(harness))
            expectError(response, status: 400, error: "unsupported_grant_type", code: 70003)
        }
    }

    @Test func grantNotAllowedForClient() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let confidential = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "no-grant"), ("client_secret", harness.secret("no-grant"))])
            expectError(confidential, status: 400, error: "unauthorized_client", code: 9900120)
            // RFC 6749 §4.4: client_credentials is for confidential clients only.
            let publicClient = try await harness.token(client, [("grant_type", "client_credentials"), ("client_id", "spa")])
            expectError(publicClient, status: 400, error: "unauthorized_client", code: 9900120)
        }
    }

    @Test func scopeNotAllowed() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(
                client, [("grant_type", "client_credentials"), ("scope", "api.read admin")] + svc(harness))
            expectError(response, status: 400, error: "invalid_scope", code: 9900121)
            #expect((json(response)["error_description"] as? String)?.contains("'admin'") == true)
        }
    }

    @Test(arguments: ["api.read  api.write", " api.read", "api.read\tapi.write", "api\"read", "api\\read", "lá"])
    func malformedScope(scope: String) async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(client, [("grant_type", "client_credentials"), ("scope", scope)] + svc(harness))
            expectError(response, status: 400, error: "invalid_scope", code: 70011)
        }
    }

    @Test func noScopeAndNoDefaults() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(
                client,
                [("grant_type", "client_credentials"), ("client_id", "no-defaults"), ("client_secret", harness.secret("no-defaults"))])
            expectError(response, status: 400, error: "invalid_scope", code: 9900122)
            let withScope = try await harness.token(
                client,
                [
                    ("grant_type", "client_credentials"), ("scope", "api.write"), ("client_id", "no-defaults"),
                    ("client_secret", harness.secret("no-defaults")),
                ])
            #expect(withScope.status == .ok)
        }
    }

    @Test func resourceNotAllowed() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(
                client, [("grant_type", "client_credentials"), ("resource", "https://evil.example.com")] + svc(harness))
            expectError(response, status: 400, error: "invalid_target", code: 500011)
        }
    }

    @Test(arguments: ["/relative/path", "https://api.example.com#frag", "not a uri", "https://"])
    func malformedResource(resource: String) async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let response = try await harness.token(client, [("grant_type", "client_credentials"), ("resource", resource)] + svc(harness))
            expectError(response, status: 400, error: "invalid_target", code: 9900123)
        }
    }
}
