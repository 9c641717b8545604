import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseServer

struct APIs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apis",
        abstract: "Register APIs (resource servers): their identifiers, permissions and roles.",
        subcommands: [Create.self, List.self, Show.self, AddPermission.self, AddRole.self, Remove.self])

    /// An API as `--json` prints it.
    static func json(_ api: API) -> [String: Any] {
        let describe = { (entries: [APIPermission]) in
            entries.map { entry -> [String: Any] in ["name": entry.name, "descriptions": entry.descriptions] }
        }
        var object: [String: Any] = [
            "application_id": api.applicationID.value, "display_name": api.displayName, "identifiers": api.identifiers.map(\.value),
            "permissions": describe(api.permissions), "roles": describe(api.roles),
        ]
        if let lifetime = api.accessTokenLifetime { object["access_token_lifetime"] = lifetime }
        return object
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register an API, backed by a client whose ID is its application ID (a new one's secret is shown once).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        @Option(help: "Display name (shown on the consent page).") var name: String
        @Option(
            name: .customLong("identifier"),
            help: "An absolute URI that names the API in resource and aud, e.g. api://orders (repeatable, at least one).")
        var identifiers: [String] = []
        @Option(help: "Application ID: an existing confidential client's ID, or the ID of the client to create (default: a new GUID).")
        var id: String?
        @Option(name: .customLong("access-token-lifetime"), help: "Seconds (60-86400; default: the tenant's).") var lifetime: Int?
        var json: Bool { global.json }

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            let parsed = try identifiers.map { raw in
                do { return try ResourceIndicator(raw) } catch {
                    throw CLIError("'\(raw)' is not an absolute URI without fragment (RFC 8707)")
                }
            }
            let applicationID = try id.map(parseClientID)
            try await withAdministration(global) { admin, settings in
                let issuers = try await admin.store.tenant(named: tenantName).map { settings.serverConfiguration().issuers($0) } ?? []
                let (api, secret) = try await admin.createAPI(
                    tenant: tenantName, applicationID: applicationID, displayName: name, identifiers: parsed, accessTokenLifetime: lifetime,
                    issuers: issuers)
                let introspection = settings.serverConfiguration().issuer(tenantName.value) + "/oauth2/introspect"
                if json {
                    var object: [String: Any] = [
                        "application_id": api.applicationID.value, "identifiers": api.identifiers.map(\.value), "tenant": tenantName.value,
                    ]
                    if let secret {
                        object["client_secret"] = secret.value
                        object["secret_id"] = secret.record.secretID
                    }
                    try printJSON(object)
                } else {
                    print("Application ID: \(api.applicationID)")
                    print("Identifiers:    \(api.identifiers.map(\.value).joined(separator: " "))")
                    if let secret {
                        print("Client secret:  \(secret.value)")
                        print("                (shown once; the API's own credential, for introspection)")
                    }
                    print("Introspection:  \(introspection)")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the APIs of a tenant.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, _ in
                _ = try await admin.tenant(tenantName)
                let apis = try await admin.store.apis(tenant: tenantName)
                if global.json {
                    try printJSON(apis.map(APIs.json))
                    return
                }
                printTable(
                    ["APPLICATION ID", "NAME", "PERMISSIONS", "ROLES", "IDENTIFIERS"],
                    apis.map { api in
                        [
                            api.applicationID.value, api.displayName, api.permissions.map(\.name).joined(separator: " "),
                            api.roles.map(\.name).joined(separator: " "), api.identifiers.map(\.value).joined(separator: " "),
                        ]
                    }, empty: "No APIs in tenant '\(tenantName)'.")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an API, by application ID or identifier.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "Application ID or identifier.") var api: String
        var json: Bool { global.json }

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, _ in
                let found = try await admin.api(tenant: tenantName, api)
                if json {
                    try printJSON(APIs.json(found))
                    return
                }
                print("Application ID: \(found.applicationID)")
                print("Display name:   \(found.displayName)")
                print("Identifiers:    \(found.identifiers.map(\.value).joined(separator: " "))")
                print("Token lifetime: \(found.accessTokenLifetime.map { "\($0) s" } ?? "the tenant's")")
                print("")
                printTable(
                    ["KIND", "NAME", "DESCRIPTIONS"],
                    [("permission", found.permissions), ("role", found.roles)].flatMap { kind, entries in
                        entries.map { entry in
                            [
                                kind, entry.name,
                                entry.descriptions.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; "),
                            ]
                        }
                    }, empty: "No permissions or roles.")
            }
        }
    }

    /// What `add-permission` and `add-role` share.
    struct EntryOptions: ParsableArguments {
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "The API: application ID or identifier.") var api: String
        @Argument(help: "The name, e.g. Orders.Read (case-sensitive).") var name: String
        @Option(name: .customLong("description"), help: "What it allows, in English (shown on the consent page).") var english: String?
        @Option(name: .customLong("description-vi"), help: "The same in Vietnamese.") var vietnamese: String?

        var descriptions: [String: String] {
            var texts: [String: String] = [:]
            texts["en"] = english
            texts["vi"] = vietnamese
            return texts
        }

        /// Adds the permission (`role` false) or role, and prints the API's list of them.
        func add(role: Bool, _ global: GlobalOptions) async throws {
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, _ in
                let updated = try await admin.addPermission(
                    tenant: tenantName, api: self.api, name: name, descriptions: descriptions, role: role)
                let names = (role ? updated.roles : updated.permissions).map(\.name).joined(separator: " ")
                try report(global, APIs.json(updated), "API \(updated.applicationID) \(role ? "roles" : "permissions"): \(names)")
            }
        }
    }

    struct AddPermission: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Define a delegated permission (a scope) of an API.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var entry: EntryOptions

        func run() async throws { try await entry.add(role: false, global) }
    }

    struct AddRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Define an application role of an API.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var entry: EntryOptions

        func run() async throws { try await entry.add(role: true, global) }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an API and every client's access to it (its client stays: `clients remove`).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "Application ID or identifier.") var api: String

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, _ in
                let removed = try await admin.removeAPI(tenant: tenantName, api: api)
                try report(global, ["removed_api": removed.applicationID.value], "Removed API \(removed.applicationID)")
            }
        }
    }
}

extension Clients {
    /// What `grant` and `revoke` share.
    struct AccessOptions: ParsableArguments {
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "The client ID.") var client: String?
        @Option(name: .customLong("client"), help: .hidden) var legacyClient: String?
        var clientID: String {
            get throws {
                try positional(
                    client, legacy: legacyClient, "client ID", usage: "gatehouse clients grant --tenant \(tenant) CLIENT_ID --api API ...")
            }
        }
        @Option(help: "The API: application ID or identifier.") var api: String
        @Option(name: .customLong("permission"), help: "A delegated permission (repeatable).") var permissions: [String] = []
        @Option(name: .customLong("role"), help: "An application role (repeatable).") var roles: [String] = []
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Grant a client permissions or roles on an API.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var access: AccessOptions

        static func describe(_ access: APIAccess) -> String {
            let permissions = access.permissions.isEmpty ? "none" : access.permissions.joined(separator: " ")
            let roles = access.roles.isEmpty ? "none" : access.roles.joined(separator: " ")
            return "permissions \(permissions); roles \(roles)"
        }

        func run() async throws {
            guard !access.permissions.isEmpty || !access.roles.isEmpty else {
                throw CLIError("name at least one --permission or --role")
            }
            let tenantName = try parseTenant(access.tenant)
            let clientID = try parseClientID(try access.clientID)
            try await withAdministration(global) { admin, _ in
                let granted = try await admin.grant(
                    tenant: tenantName, clientID: clientID, api: access.api, permissions: access.permissions, roles: access.roles)
                try report(
                    global,
                    ["client_id": clientID.value, "api": granted.api.value, "permissions": granted.permissions, "roles": granted.roles],
                    "Client \(clientID) on API \(granted.api): \(Self.describe(granted))")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw a client's permissions or roles on an API (all of them when none is named).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var access: AccessOptions

        func run() async throws {
            let tenantName = try parseTenant(access.tenant)
            let clientID = try parseClientID(try access.clientID)
            try await withAdministration(global) { admin, _ in
                if let left = try await admin.revoke(
                    tenant: tenantName, clientID: clientID, api: access.api, permissions: access.permissions, roles: access.roles)
                {
                    try report(
                        global, ["client_id": clientID.value, "api": left.api.value, "permissions": left.permissions, "roles": left.roles],
                        "Client \(clientID) on API \(left.api): \(Grant.describe(left))")
                } else {
                    try report(
                        global, ["client_id": clientID.value, "api": access.api, "permissions": [String](), "roles": [String]()],
                        "Client \(clientID) has no access to API \(access.api)")
                }
            }
        }
    }
}
