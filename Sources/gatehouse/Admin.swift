import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseServer

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set up the admin API: the administrative tenant, a first administrator and an automation client.",
        subcommands: [Bootstrap.self])

    struct Bootstrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create the administrative tenant (gatehouse.admin_tenant, default 'gatehouse') with its admin API, a first administrator holding Admin.Write, and an automation client holding Admin.Write; prints how to get a token. Run again, it keeps what exists."
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "The first administrator's username (a user of the administrative tenant).") var username: String?
        @OptionGroup var passwordOptions: Users.PasswordOptions
        @Option(name: .customLong("client-id"), help: "The automation client's ID.") var clientID = "gatehouse-automation"
        var json: Bool { global.json }

        func run() async throws {
            let id = try parseClientID(clientID)
            let password = username == nil ? nil : try? passwordOptions.read()
            try await withAdministration(global) { admin, settings in
                guard let tenant = settings.adminTenant else {
                    throw CLIError("gatehouse.admin_tenant is empty: no tenant administers the others; set it to a tenant name")
                }
                let made = try await admin.bootstrap(
                    tenant: tenant, username: username, password: password, passwords: Users.hasher(settings), clientID: id)
                let configuration = settings.serverConfiguration()
                settings.warnIfBaseURLAssumed()
                let tokenEndpoint = configuration.tokenEndpoint(tenant.value)
                if json {
                    var object: [String: Any] = [
                        "tenant": tenant.value, "issuer": configuration.issuer(tenant.value), "token_endpoint": tokenEndpoint,
                        "admin_api": BuiltInAdminAPI.identifier, "admin_api_base_url": configuration.baseURL + "/admin/v1",
                        "client_id": made.client.id.value,
                    ]
                    if let user = made.user { object["user_id"] = user.id }
                    if let secret = made.secret { object["client_secret"] = secret.value }
                    try printJSON(object)
                    return
                }
                print("Administrative tenant: \(tenant)\(made.tenantCreated ? " (created)" : "")")
                if let user = made.user { print("Administrator:         \(user.username) (\(user.id)) holds Admin.Write") }
                print("Automation client:     \(made.client.id) holds Admin.Write")
                if let secret = made.secret {
                    print("Client secret:         \(secret.value)")
                    print("                       (shown once; only its hash is stored)")
                } else {
                    print(
                        "                       (it existed; add a secret with: gatehouse clients add-secret --tenant \(tenant) \(made.client.id))"
                    )
                }
                print(
                    """

                    Get a token and call the admin API:
                      token=$(curl -s -u '\(made.client.id):SECRET' -d grant_type=client_credentials \\
                        -d scope=\(BuiltInAdminAPI.identifier)/\(BuiltInAdminAPI.writeRole) \(tokenEndpoint) | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')
                      curl -H "Authorization: Bearer $token" \(configuration.baseURL)/admin/v1/tenants
                    """)
            }
        }
    }
}
