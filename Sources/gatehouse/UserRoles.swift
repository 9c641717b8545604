import ArgumentParser
import Foundation
import GatehouseCore

extension Users {
    /// `users assign-role` and `users unassign-role`: a user holding an API's application role.
    struct RoleOptions: ParsableArguments {
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "Username or user ID.") var user: String
        @Option(help: "The API: its application ID or an identifier.") var api: String
        @Option(help: "An application role the API defines (repeatable).") var role: [String]
    }

    struct AssignRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "assign-role",
            abstract: "Give a user an application role of an API; the user's tokens for the API carry it in 'roles'.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var options: RoleOptions

        func run() async throws {
            let tenantName = try parseTenant(options.tenant)
            try await withAdministration(global) { admin, _ in
                var lines: [String] = []
                var api = options.api
                for role in options.role {
                    let assignment = try await admin.assignRole(tenant: tenantName, user: options.user, api: options.api, role: role)
                    api = assignment.api.value
                    lines.append("User \(options.user) holds \(role) on API \(assignment.api).")
                }
                try report(global, ["user": options.user, "api": api, "assigned": options.role], lines.joined(separator: "\n"))
            }
        }
    }

    struct UnassignRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "unassign-role", abstract: "Take an application role of an API from a user (new tokens no longer carry it).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var options: RoleOptions

        func run() async throws {
            let tenantName = try parseTenant(options.tenant)
            try await withAdministration(global) { admin, _ in
                var lines: [String] = []
                for role in options.role {
                    try await admin.unassignRole(tenant: tenantName, user: options.user, api: options.api, role: role)
                    lines.append("User \(options.user) no longer holds \(role).")
                }
                try report(global, ["user": options.user, "api": options.api, "unassigned": options.role], lines.joined(separator: "\n"))
            }
        }
    }
}
