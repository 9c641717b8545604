import Foundation
import GatehouseCore

extension GrantType {
    /// The name `--grant` takes and the CLI prints.
    var shortName: String {
        switch self {
        case .deviceCode: "device_code"
        case .jwtBearer: "on_behalf_of"
        default: rawValue
        }
    }
}

extension Clients {
    /// A client as `clients show --json` (and every other clients command's `--json`) prints it:
    /// its registration, its access to APIs, its certificates, and its secrets (hint, expiry and
    /// last use only).
    static func json(_ client: Client, store: any GatehouseStore) async throws -> [String: Any] {
        let tenant = client.tenant
        let secrets = try await store.secrets(tenant: tenant, clientID: client.id)
        let backs = try await store.api(tenant: tenant, applicationID: client.id)
        var apis: [[String: Any]] = []
        for grant in try await store.access(tenant: tenant, clientID: client.id) {
            let identifiers = try await store.api(tenant: tenant, applicationID: grant.api)?.identifiers.map(\.value) ?? []
            apis.append(["api": grant.api.value, "identifiers": identifiers, "permissions": grant.permissions, "roles": grant.roles])
        }
        return [
            "client_id": client.id.value, "tenant": tenant.value, "name": client.name, "type": client.type.rawValue,
            "enabled": client.enabled, "first_party": client.firstParty,
            "source": try await store.clientRegistration(tenant: tenant, clientID: client.id) != nil ? "self-registered" : "administrator",
            "token_endpoint_auth_methods": client.authMethods.map(\.rawValue).sorted(),
            "grant_types": client.grantTypes.map(\.rawValue).sorted(),
            "allowed_scopes": client.allowedScopes.tokens, "default_scopes": client.defaultScopes.tokens,
            "redirect_uris": client.redirectURIs, "post_logout_redirect_uris": client.postLogoutRedirectURIs,
            "has_jwks": client.jwks != nil,
            "backchannel_logout_uri": client.backchannelLogoutURI as Any,
            "backchannel_logout_session_required": client.backchannelLogoutSessionRequired,
            "require_pushed_authorization_requests": client.requirePushedAuthorizationRequests,
            "require_signed_request_object": client.requireSignedRequestObject,
            "dpop_bound_access_tokens": client.requireDPoP,
            "certificates": client.certificates.compactMap { try? ClientCertificate(pem: $0) }.map { certificate -> [String: Any] in
                [
                    "subject": certificate.subject, "sha1_thumbprint": certificate.thumbprintHex,
                    "not_after": printedTime(certificate.notValidAfter),
                ]
            },
            "apis": apis,
            "api_of_its_own": backs.map { $0.identifiers.map(\.value) } ?? [],
            "secrets": secrets.map { secret -> [String: Any] in
                var object: [String: Any] = [
                    "secret_id": secret.secretID, "hint": secret.hint + "…", "created_at": printedTime(secret.createdAt),
                ]
                if let expiry = secret.expiresAt { object["expires_at"] = printedTime(expiry) }
                if let used = secret.lastUsedAt { object["last_used_at"] = printedTime(used) }
                return object
            },
        ]
    }

    /// `clients show` without `--json`: the registration as labelled lines, then tables of its
    /// secrets, certificates and API access.
    static func describe(_ client: Client, _ object: [String: Any]) {
        let rows: [(String, String)] = [
            ("Client ID", client.id.value), ("Tenant", client.tenant.value), ("Name", client.name), ("Type", client.type.rawValue),
            ("Enabled", client.enabled ? "yes" : "no (7000112 until enabled)"), ("First-party", client.firstParty ? "yes" : "no"),
            ("Registered by", (object["source"] as? String) == "self-registered" ? "itself (RFC 7591)" : "an administrator"),
            ("Grant types", client.grantTypes.map(\.shortName).sorted().joined(separator: " ")),
            ("Auth methods", client.authMethods.map(\.rawValue).sorted().joined(separator: " ")),
            ("Scopes", client.allowedScopes.description.isEmpty ? "-" : client.allowedScopes.description),
            ("Default scopes", client.defaultScopes.description.isEmpty ? "-" : client.defaultScopes.description),
            ("Redirect URIs", client.redirectURIs.isEmpty ? "-" : client.redirectURIs.joined(separator: " ")),
            ("Post-logout URIs", client.postLogoutRedirectURIs.isEmpty ? "-" : client.postLogoutRedirectURIs.joined(separator: " ")),
            ("JWKS", client.jwks == nil ? "none" : "registered"),
            ("Logout URI", client.backchannelLogoutURI ?? "-"),
            ("Requests", client.requestRequirements(pushed: "pushed (PAR) only", signed: "signed only", any: "any")),
            ("DPoP", client.requireDPoP ? "required" : "when the client sends a proof"),
        ]
        for (label, value) in rows { print(label.padding(toLength: 18, withPad: " ", startingAt: 0) + value) }
        let secrets = object["secrets"] as? [[String: Any]] ?? []
        print("")
        printTable(
            ["SECRET ID", "HINT", "CREATED", "EXPIRES", "LAST USED"],
            secrets.map { secret in
                ["secret_id", "hint", "created_at", "expires_at", "last_used_at"].map { secret[$0] as? String ?? "-" }
            }, empty: "No secrets.")
        let certificates = object["certificates"] as? [[String: Any]] ?? []
        if !certificates.isEmpty {
            print("")
            printTable(
                ["SHA-1 THUMBPRINT", "NOT AFTER", "SUBJECT"],
                certificates.map { certificate in ["sha1_thumbprint", "not_after", "subject"].map { certificate[$0] as? String ?? "-" } },
                empty: "")
        }
        let apis = object["apis"] as? [[String: Any]] ?? []
        if !apis.isEmpty {
            print("")
            printTable(
                ["API", "IDENTIFIERS", "PERMISSIONS", "ROLES"],
                apis.map { api in
                    [
                        api["api"] as? String ?? "-", (api["identifiers"] as? [String] ?? []).joined(separator: " "),
                        (api["permissions"] as? [String] ?? []).joined(separator: " "),
                        (api["roles"] as? [String] ?? []).joined(separator: " "),
                    ]
                }, empty: "")
        }
    }
}
