import ArgumentParser
import Foundation
import GatehouseServer

struct DevCert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-cert",
        abstract: "Create a local certificate authority (kept) and a server certificate for localhost, 127.0.0.1 and ::1.")

    @Option(help: "Folder for ca.pem, ca-key.pem, server.pem, server-key.pem.")
    var out: String = "./gatehouse-data/dev-cert"

    @Option(name: .customLong("hostname"), help: "Extra DNS name for the server certificate (repeatable).")
    var hostnames: [String] = []

    @Flag(help: "Print JSON (for scripts) instead of text.") var json = false

    func run() async throws {
        let folder = URL(fileURLWithPath: out).standardizedFileURL
        let certificates = DevelopmentCertificates(directory: folder)
        let outcome = try await certificates.make(hostnames: ["localhost"] + hostnames)
        if json {
            try printJSON([
                "ca_certificate": certificates.caCertificatePath.path, "ca_created": outcome.createdAuthority,
                "ca_sha256": outcome.caSHA256,
                "server_certificate": certificates.serverCertificatePath.path, "server_key": certificates.serverKeyPath.path,
                "server_not_after": printedTime(outcome.serverNotAfter),
            ])
            return
        }
        say(
            """
            \(outcome.createdAuthority ? "Created" : "Reused") the development CA: \(certificates.caCertificatePath.path)
              SHA-256 \(outcome.caSHA256)
            Server certificate (localhost, 127.0.0.1, ::1\(hostnames.isEmpty ? "" : ", " + hostnames.joined(separator: ", "))), valid until \(outcome.serverNotAfter):
              \(certificates.serverCertificatePath.path)
              \(certificates.serverKeyPath.path)

            Serve HTTPS:
              gatehouse serve --port 8443 --base-url https://127.0.0.1:8443 \\
                --tls-cert \(certificates.serverCertificatePath.path) --tls-key \(certificates.serverKeyPath.path)

            Trust the CA in Python clients (requests, MSAL, azure-identity):
              export REQUESTS_CA_BUNDLE=\(certificates.caCertificatePath.path)
            curl:     curl --cacert \(certificates.caCertificatePath.path) ...
            Node.js:  export NODE_EXTRA_CA_CERTS=\(certificates.caCertificatePath.path)
            System store, Debian/Ubuntu:
              sudo cp \(certificates.caCertificatePath.path) /usr/local/share/ca-certificates/gatehouse-dev-ca.crt && sudo update-ca-certificates
            System store, macOS:
              sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain \(certificates.caCertificatePath.path)
            Keep ca-key.pem private: anyone with it can make certificates this machine trusts.
            """)
    }
}
