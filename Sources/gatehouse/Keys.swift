import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseServer

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and rotate a tenant's signing keys.", subcommands: [List.self, Rotate.self, Remove.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List signing keys (no private parts).")
        @OptionGroup var global: GlobalOptions
        @Option var tenant: String

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            try await withStore(global) { store, _ in
                let formatter = ISO8601DateFormatter()
                for key in try await store.keys(tenant: tenantName) {
                    let retired = key.retiredAt.map { "\tretired \(formatter.string(from: $0))" } ?? ""
                    print(
                        "\(key.kid)\t\(key.algorithm.rawValue)\t\(key.status.rawValue)\t\(formatter.string(from: key.createdAt))\(retired)")
                }
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Promote the next key to active, retire the active key, publish a new next key.",
            discussion:
                "For emergencies: `tenants set --key-rotation-days` rotates on its own. Running servers pick the change up within a second. Rotate by hand only after the next key has been published for longer than clients cache the JWKS (a day for the Entra-style keys document)."
        )
        @OptionGroup var global: GlobalOptions
        @Option var tenant: String

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, _ in
                let rotation = try await admin.rotateKeys(tenant: tenantName)
                print("Active: \(rotation.activated)\nRetired: \(rotation.retired ?? "-")\nNext: \(rotation.next)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a retired key from the JWKS, once the tokens it signed have expired.")
        @OptionGroup var global: GlobalOptions
        @Option var tenant: String
        @Option var kid: String

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, _ in
                try await admin.removeRetiredKey(tenant: tenantName, kid: kid)
                print("Removed key \(kid).")
            }
        }
    }
}
