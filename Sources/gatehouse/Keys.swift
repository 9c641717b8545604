import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseStore

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and rotate a tenant's signing keys.", subcommands: [List.self, Rotate.self, Remove.self, Rewrap.self])

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

    struct Rewrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-encrypt the stored keys and secrets under a new key-encryption key.",
            discussion:
                "Reads them with the current key-encryption key (GATEHOUSE_KEK, GATEHOUSE_KEK_FILE or the kek file beside the database) and seals them again under the key in --to-file, in one transaction; makes that file (0600) with a new key if it does not exist. Stop the servers first; afterwards start them with the new key (GATEHOUSE_KEK_FILE, or move the file over the old one)."
        )
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("to-file"), help: "File with the new key-encryption key (base64); made with a new key if missing.")
        var toFile: String

        func run() async throws {
            try await withStore(global) { store, settings in
                // The store opened with the current key (`Settings.openStore`).
                guard let store = store as? SQLStore, let current = store.kek else {
                    throw CLIError("nothing is stored at rest with --storage memory")
                }
                let new: KeyEncryptionKey
                if FileManager.default.fileExists(atPath: toFile) {
                    new = try settings.readKEK(toFile).key
                } else {
                    let (key, base64) = KeyEncryptionKey.generate()
                    guard try settings.writeNewKEK((toFile, base64), key: key) else { throw CLIError("\(toFile) appeared meanwhile") }
                    Settings.warnMadeKEK(key, path: toFile)
                    new = key
                }
                guard new.id != current.id else { throw CLIError("\(toFile) holds the key already in use (\(new.id))") }
                let count = try await store.rewrap(to: new)
                say(
                    "Re-encrypted \(count) stored values from \(current.id) to \(new.id). Start the servers with "
                        + "GATEHOUSE_KEK_FILE=\(toFile) (or move it over the old key file); the old key no longer opens them.")
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
