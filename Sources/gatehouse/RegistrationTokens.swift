import ArgumentParser
import Foundation
import GatehouseCore

/// `gatehouse tenants registration-tokens`: initial access tokens for dynamic client
/// registration (RFC 7591 §3) under a tenant's `token` policy.
struct RegistrationTokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registration-tokens",
        abstract: "Initial access tokens with which clients register themselves (--client-registration token).",
        subcommands: [Create.self, List.self, Remove.self])

    static func json(_ token: InitialAccessToken) -> [String: Any] {
        [
            "token_id": token.id, "label": token.label, "created_at": printedTime(token.createdAt),
            "expires_at": printedTime(token.expiresAt), "uses_left": token.usesLeft,
        ]
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make an initial access token; its value is printed once.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Tenant name.") var name: String
        @Option(help: "Who the token is for (shown in the list).") var label = ""
        @Option(help: "Registrations it may make (1-1000).") var uses = 1
        @Option(name: .customLong("lifetime-hours"), help: "Hours until it expires (1-2160).") var lifetimeHours = 168

        func run() async throws {
            let tenant = try parseTenant(name)
            try await withAdministration(global) { admin, settings in
                let created = try await admin.createInitialAccessToken(
                    tenant: tenant, label: label, lifetime: TimeInterval(lifetimeHours) * 3_600, uses: uses)
                if global.json {
                    var object = RegistrationTokens.json(created.token)
                    object["value"] = created.value
                    try printJSON(object)
                    return
                }
                let configuration = settings.serverConfiguration()
                print(
                    """
                    Initial access token \(created.token.id) for tenant '\(tenant)': \(uses) registration(s) until \(printedTime(created.token.expiresAt)).
                    Value (shown once; send it as 'Authorization: Bearer VALUE' to \(configuration.endpoint(tenant.value, "oauth2/register"))):
                    \(created.value)
                    """)
                let current = try await admin.tenant(tenant).clientRegistration.policy
                if current != .initialAccessToken {
                    print(
                        "Note: the tenant's client registration is '\(current.rawValue)'; tokens are asked for only under "
                            + "'gatehouse tenants set \(tenant) --client-registration token'.")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's initial access tokens (never their values).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Tenant name.") var name: String

        func run() async throws {
            let tenant = try parseTenant(name)
            try await withAdministration(global) { admin, _ in
                let tokens = try await admin.initialAccessTokens(tenant: tenant)
                if global.json {
                    try printJSON(tokens.map(RegistrationTokens.json))
                    return
                }
                printTable(
                    ["ID", "LABEL", "USES LEFT", "EXPIRES"],
                    tokens.map { [$0.id, $0.label.isEmpty ? "-" : $0.label, String($0.usesLeft), printedTime($0.expiresAt)] },
                    empty: "No initial access tokens in tenant '\(tenant)'.")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an initial access token (it registers nothing more).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Tenant name.") var name: String
        @Argument(help: "The token's ID (from the list).") var id: String

        func run() async throws {
            let tenant = try parseTenant(name)
            try await withAdministration(global) { admin, _ in
                try await admin.removeInitialAccessToken(tenant: tenant, id: id)
                if global.json {
                    try printJSON(["removed": id])
                    return
                }
                print("Initial access token \(id) removed from tenant '\(tenant)'.")
            }
        }
    }
}
