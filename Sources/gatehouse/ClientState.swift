import ArgumentParser
import Foundation
import GatehouseCore

extension Clients {
    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a client: no token, code or sign-in page for it (7000112) until enabled; its secrets and grants stay.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ClientOptions

        func run() async throws { try await Self.set(enabled: false, target: target, global: global) }

        static func set(enabled: Bool, target: ClientOptions, global: GlobalOptions) async throws {
            let (tenantName, clientID) = try target.parsed()
            var change = Administration.ClientChange()
            change.enabled = enabled
            try await withAdministration(global) { admin, _ in
                let client = try await admin.updateClient(tenant: tenantName, id: clientID, change: change)
                try report(
                    global, try await Clients.json(client, store: admin.store),
                    "Client \(clientID) \(enabled ? "enabled" : "disabled") (running servers follow within their cache time).")
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled client.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ClientOptions

        func run() async throws { try await Disable.set(enabled: true, target: target, global: global) }
    }

    struct RemoveCertificate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-certificate",
            abstract: "Remove a certificate of a client, by its thumbprint (certificate rotation's last step).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ClientOptions
        @Option(help: "The SHA-1 thumbprint that add-certificate printed (hex), or the SHA-256 one.") var thumbprint: String

        func run() async throws {
            let (tenantName, clientID) = try target.parsed()
            try await withAdministration(global) { admin, _ in
                let client = try await admin.removeCertificate(tenant: tenantName, clientID: clientID, thumbprint: thumbprint)
                try report(
                    global, try await Clients.json(client, store: admin.store),
                    "Removed the certificate; \(client.certificates.count) left.")
            }
        }
    }
}
