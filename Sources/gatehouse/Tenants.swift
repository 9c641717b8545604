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
        @Option(
            name: .customLong("key-rotation-days"),
            help:
                "Rotate the signing keys automatically every N days (at least 1; the next key is published a day or more before it signs); 0 turns it off."
        )
        var keyRotationDays: Int?

        func run() async throws {
            let tenant = try parseTenant(name)
            guard signInLog != nil || keyRotationDays != nil else {
                throw ValidationError("nothing to set: give --sign-in-log aggregate|full or --key-rotation-days N")
            }
            var mode: SignInLogMode?
            if let raw = signInLog {
                guard let parsed = SignInLogMode(rawValue: raw) else { throw ValidationError("--sign-in-log must be aggregate or full") }
                mode = parsed
            }
            if let days = keyRotationDays, !(0...3650).contains(days) {
                throw ValidationError("--key-rotation-days must be between 0 (off) and 3650")
            }
            try await withAdministration(global) { admin, _ in
                if let mode {
                    _ = try await admin.updateTenant(tenant: tenant, signInLog: mode)
                    print(
                        "Tenant '\(tenant)': sign-in log \(mode.rawValue) (running servers apply it within their cache time, 5 s by default)."
                    )
                }
                if let days = keyRotationDays {
                    let interval = days == 0 ? nil : TimeInterval(days) * 86_400
                    _ = try await admin.updateTenant(tenant: tenant, keyRotation: .some(interval))
                    print(
                        days == 0
                            ? "Tenant '\(tenant)': automatic key rotation off."
                            : "Tenant '\(tenant)': signing keys rotate every \(days) days (on one running server, checked every minute).")
                }
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
            try await withAdministration(global) { admin, settings in
                try await admin.createTenant(
                    name: tenant, displayName: displayName, algorithm: algorithm, accessTokenLifetime: tokenLifetime)
                print("Created tenant '\(tenant)' (\(algorithm.rawValue)). Issuer: \(settings.serverConfiguration().issuer(tenant.value))")
                settings.warnIfBaseURLAssumed()
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
                                "key_rotation_days": Int(($0.keyRotationInterval ?? 0) / 86_400),
                            ] as [String: Any]
                        })
                } else {
                    for tenant in tenants {
                        let rotation = tenant.keyRotationInterval.map { "\(Int($0 / 86_400)) d" } ?? "off"
                        let columns = [
                            tenant.name.value, tenant.signingAlgorithm.rawValue, tenant.id.uuidString.lowercased(),
                            "sign-in log \(tenant.signInLog.rawValue)", "key rotation \(rotation)", tenant.displayName,
                        ]
                        print(columns.joined(separator: "\t"))
                    }
                }
            }
        }
    }
}
