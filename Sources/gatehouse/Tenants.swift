import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseServer

struct Tenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create and list tenants.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant with its signing keys.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Tenant name: 1-63 characters of a-z, 0-9, '-' and '.'.") var name: String
        @Option(name: .customLong("display-name")) var displayName: String?
        @Option(help: "Access token signing algorithm: ES256 (default), RS256 or EdDSA.") var algorithm: String = "ES256"
        @Option(name: .customLong("token-lifetime"), help: "Access token lifetime in seconds (60-86400).") var tokenLifetime: Int = 3600

        func run() async throws {
            let tenant = try parseTenant(name)
            guard let algorithm = SigningAlgorithm(rawValue: algorithm) else {
                throw ValidationError("algorithm must be ES256, RS256 or EdDSA")
            }
            guard (60...86400).contains(tokenLifetime) else {
                throw ValidationError("--token-lifetime must be between 60 and 86400 seconds")
            }
            try await withAdministration(global) { admin, settings in
                do {
                    try await admin.createTenant(
                        name: tenant, displayName: displayName, algorithm: algorithm, accessTokenLifetime: tokenLifetime)
                } catch StoreError.conflict { throw CLIError("tenant '\(tenant)' already exists") }
                print("Created tenant '\(tenant)' (\(algorithm.rawValue)). Issuer: \(settings.serverConfiguration().issuer(tenant.value))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var global: GlobalOptions
        @Flag var json = false

        func run() async throws {
            try await withStore(global) { store, _ in
                let tenants = try await store.tenants()
                if json {
                    try printJSON(
                        tenants.map {
                            [
                                "name": $0.name.value, "id": $0.id.uuidString.lowercased(), "display_name": $0.displayName,
                                "algorithm": $0.signingAlgorithm.rawValue, "access_token_lifetime": $0.accessTokenLifetime,
                            ] as [String: Any]
                        })
                } else {
                    for tenant in tenants {
                        print(
                            "\(tenant.name)\t\(tenant.signingAlgorithm.rawValue)\t\(tenant.id.uuidString.lowercased())\t\(tenant.displayName)"
                        )
                    }
                }
            }
        }
    }
}
