import Crypto
import Foundation
import SwiftASN1
import X509

/// A local certificate authority and a server certificate for `localhost`, `127.0.0.1` and
/// `::1`, made with swift-certificates for `gatehouse dev-cert`. The CA is kept and reused, so
/// that trusting it once is enough; the server certificate is made anew each time.
public struct DevelopmentCertificates: Sendable {
    public let directory: URL
    public var caCertificatePath: URL { directory.appendingPathComponent("ca.pem") }
    public var caKeyPath: URL { directory.appendingPathComponent("ca-key.pem") }
    public var serverCertificatePath: URL { directory.appendingPathComponent("server.pem") }
    public var serverKeyPath: URL { directory.appendingPathComponent("server-key.pem") }

    public init(directory: URL) {
        self.directory = directory
    }

    /// What `make` did.
    public struct Outcome: Sendable {
        public let createdAuthority: Bool
        public let caSHA256: String
        public let serverNotAfter: Date
    }

    /// Creates the CA when absent (valid 10 years) and a server certificate signed by it (valid
    /// 397 days, the longest browsers accept). Keys are P-256, written with mode 0600.
    public func make(hostnames: [String] = ["localhost"], addresses: [String] = ["127.0.0.1", "::1"], now: Date = Date()) async throws
        -> Outcome
    {
        // Owner only, like the database's folder: the CA key signs certificates this machine trusts.
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fileManager = FileManager.default
        var createdAuthority = false
        let caKey: Certificate.PrivateKey
        let ca: Certificate
        if fileManager.fileExists(atPath: caCertificatePath.path), fileManager.fileExists(atPath: caKeyPath.path) {
            ca = try Certificate(pemEncoded: String(contentsOf: caCertificatePath, encoding: .utf8))
            caKey = try Certificate.PrivateKey(pemEncoded: String(contentsOf: caKeyPath, encoding: .utf8))
        } else {
            caKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
            let name = try DistinguishedName {
                OrganizationName("Gatehouse development")
                CommonName("Gatehouse development CA \(Self.shortID())")
            }
            ca = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: caKey.publicKey,
                notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: caKey.publicKey)
                },
                issuerPrivateKey: caKey)
            try write(caKey.serializeAsPEM().pemString, to: caKeyPath, mode: 0o600)
            try write(ca.serializeAsPEM().pemString, to: caCertificatePath, mode: 0o644)
            createdAuthority = true
        }
        let serverKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
        var names: [GeneralName] = hostnames.map { .dnsName($0) }
        for address in addresses {
            if let bytes = Self.ipBytes(address) { names.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...]))) }
        }
        let notAfter = now.addingTimeInterval(397 * 86400)
        let caKeyIdentifier = try ca.extensions.subjectKeyIdentifier?.keyIdentifier
        let server = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: serverKey.publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: notAfter,
            issuer: ca.subject,
            subject: try DistinguishedName {
                OrganizationName("Gatehouse development")
                CommonName(hostnames.first ?? "localhost")
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: serverKey.publicKey)
                if let caKeyIdentifier { AuthorityKeyIdentifier(keyIdentifier: caKeyIdentifier) }
            },
            issuerPrivateKey: caKey)
        try write(serverKey.serializeAsPEM().pemString, to: serverKeyPath, mode: 0o600)
        try write(server.serializeAsPEM().pemString, to: serverCertificatePath, mode: 0o644)
        var serializer = DER.Serializer()
        try serializer.serialize(ca)
        let fingerprint = SHA256.hash(data: serializer.serializedBytes).map {
            $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16)
        }
        .joined(separator: ":").uppercased()
        return Outcome(createdAuthority: createdAuthority, caSHA256: fingerprint, serverNotAfter: notAfter)
    }

    private func write(_ text: String, to url: URL, mode: Int) throws {
        try Data((text + "\n").utf8).write(to: url, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
    }

    private static func shortID() -> String {
        String(UUID().uuidString.prefix(8)).lowercased()
    }

    /// The 4 or 16 bytes of an IPv4 or IPv6 literal.
    static func ipBytes(_ address: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
