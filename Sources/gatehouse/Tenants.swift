import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseServer

struct Tenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and configure tenants.", subcommands: [Create.self, List.self, Configure.self])

    struct Configure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Change a tenant's settings.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Tenant name.") var name: String
        @Option(
            name: .customLong("sign-in-log"),
            help:
                "aggregate (default: repeated machine successes counted per minute, failures and interactive steps kept whole) or full (every request kept whole)."
        )
        var signInLog: String?

        func run() async throws {
            let tenant = try parseTenant(name)
            guard let raw = signInLog else { throw ValidationError("nothing to set: give --sign-in-log aggregate|full") }
            guard let mode = SignInLogMode(rawValue: raw) else { throw ValidationError("--sign-in-log must be aggregate or full") }
            try await withStore(global) { store, _ in
                guard try await store.setSignInLogMode(mode, tenant: tenant) else { throw CLIError("no tenant '\(tenant)'") }
                print(
                    "Tenant '\(tenant)': sign-in log \(mode.rawValue) (running servers apply it within their cache time, 5 s by default).")
            }
        }
    }

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
                                "sign_in_log": $0.signInLog.rawValue,
                            ] as [String: Any]
                        })
                } else {
                    for tenant in tenants {
                        print(
                            "\(tenant.name)\t\(tenant.signingAlgorithm.rawValue)\t\(tenant.id.uuidString.lowercased())\tsign-in log \(tenant.signInLog.rawValue)\t\(tenant.displayName)"
                        )
                    }
                }
            }
        }
    }
}
