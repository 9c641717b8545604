import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseStore

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and rotate a tenant's signing keys.", subcommands: [List.self, Rotate.self, Remove.self, Rewrap.self])

    /// A key as `--json` prints it (no private part).
    static func json(_ key: SigningKeyRecord) -> [String: Any] {
        var object: [String: Any] = [
            "kid": key.kid, "algorithm": key.algorithm.rawValue, "status": key.status.rawValue, "created_at": printedTime(key.createdAt),
        ]
        if let retired = key.retiredAt { object["retired_at"] = printedTime(retired) }
        return object
    }

    static func printKeys(_ keys: [SigningKeyRecord]) {
        printTable(
            ["KID", "ALGORITHM", "STATUS", "CREATED", "RETIRED"],
            keys.map { [$0.kid, $0.algorithm.rawValue, $0.status.rawValue, printedTime($0.createdAt), printedTime($0.retiredAt)] },
            empty: "No keys.")
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List signing keys (no private parts).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, _ in
                _ = try await admin.tenant(tenantName)
                let keys = try await admin.store.keys(tenant: tenantName)
                if global.json { try printJSON(keys.map(Keys.json)) } else { Keys.printKeys(keys) }
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
                try report(
                    global, ["rewrapped": count, "from": current.id, "to": new.id, "kek_file": toFile],
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
        @Option(help: "The tenant's name.") var tenant: String

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, _ in
                let rotation = try await admin.rotateKeys(tenant: tenantName)
                var object: [String: Any] = ["active": rotation.activated, "next": rotation.next]
                object["retired"] = rotation.retired
                try report(global, object, "Active:  \(rotation.activated)\nRetired: \(rotation.retired ?? "-")\nNext:    \(rotation.next)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a retired key from the JWKS, once the tokens it signed have expired.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "The key's kid (keys list).") var kid: String?
        @Option(name: .customLong("kid"), help: .hidden) var legacyKid: String?
        @Flag(help: "Remove it even though tokens it signed may still be valid (a key that leaked); they then fail verification.")
        var force = false

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            let kid = try positional(kid, legacy: legacyKid, "key", usage: "gatehouse keys remove --tenant \(tenant) KID")
            try await withAdministration(global) { admin, settings in
                let tenant = try await admin.tenant(tenantName)
                let lifetime = KeyRotationPolicy.longestTokenLifetime(tenant: tenant, policy: settings.serverConfiguration().signIn)
                try await admin.removeRetiredKey(tenant: tenantName, kid: kid, longestTokenLifetime: force ? nil : lifetime)
                try report(global, ["removed": kid], "Removed key \(kid).")
            }
        }
    }
}
