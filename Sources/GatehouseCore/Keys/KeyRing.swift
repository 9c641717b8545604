import Foundation
import JWTKit

/// A tenant's signing keys: signs with the active key and publishes next, active and retired
/// keys in the JWKS (docs/architecture.md, "Keys"). Immutable once made (a key change makes a new ring), so
/// it needs no isolation of its own: signing goes straight to jwt-kit's key collection.
public final class KeyRing: Sendable {
    public let tenant: TenantName
    private let keys: JWTKeyCollection
    public let activeKid: String
    public let algorithm: SigningAlgorithm
    /// When the signing key was made (its age is a metric).
    public let activeCreatedAt: Date
    /// The JWKS document, encoded once.
    public let jwksJSON: String

    public init(tenant: TenantName, records: [SigningKeyRecord]) async throws {
        // With two active keys (a rotation in progress) the older one signs until it is retired.
        guard let active = records.sorted(by: { $0.createdAt < $1.createdAt }).first(where: { $0.status == .active }) else {
            throw KeyRingError.noActiveKey(tenant.value)
        }
        let collection = JWTKeyCollection(defaultJWTSerializer: DefaultJWTSerializer(jsonEncoder: TokenJSONEncoder()))
        for record in records {
            try await SigningKeyMaterial.add(record, to: collection)
        }
        self.tenant = tenant
        self.keys = collection
        self.activeKid = active.kid
        self.algorithm = active.algorithm
        self.activeCreatedAt = active.createdAt
        let jwks = try records.map { try SigningKeyMaterial.publicJWK($0) }
        let data = try JSONSerialization.data(withJSONObject: ["keys": jwks], options: [.sortedKeys, .withoutEscapingSlashes])
        self.jwksJSON = String(decoding: data, as: UTF8.self)
    }

    /// Signs a payload with the active key, with the given `typ` header (RFC 9068 §2.1: `at+jwt`).
    public func sign(_ payload: some JWTPayload, type: String) async throws -> String {
        try await keys.sign(
            payload, kid: JWKIdentifier(string: activeKid), header: ["typ": .string(type), "alg": .string(algorithm.rawValue)])
    }

    /// Verifies a JWT signed by one of this tenant's keys and decodes its payload (the payload's
    /// own `verify` checks claims such as `exp`).
    public func verify<Payload: JWTPayload>(_ token: String, as type: Payload.Type = Payload.self) async throws -> Payload {
        try await keys.verify(token, as: Payload.self)
    }
}

public enum KeyRingError: Error, CustomStringConvertible {
    case noActiveKey(String)
    public var description: String {
        switch self {
        case .noActiveKey(let tenant): "tenant \(tenant) has no active signing key"
        }
    }
}
