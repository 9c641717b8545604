import Foundation
import GatehouseCore
import Logging
import SQLKit

/// Signing keys (their private keys sealed at rest: `SQLStore+KEK.swift`).
extension SQLStore {
    /// Where a refused secret is reported (`KEKError.unsealed`).
    static let refusalLog = Logger(label: "gatehouse.store")

    public func addKey(_ key: SigningKeyRecord) async throws {
        try await countingChange {
            let rows = try await db.raw(
                """
                INSERT INTO signing_keys (tenant, kid, algorithm, private_key, status, created_at)
                VALUES (\(bind: key.tenant.value), \(bind: key.kid), \(bind: key.algorithm.rawValue),
                        \(bind: try sealed(key.privateKey, Self.keyContext(key.tenant.value, key.kid))),
                        \(bind: key.status.rawValue), \(bind: key.createdAt))
                ON CONFLICT DO NOTHING RETURNING kid
                """
            ).all()
            if rows.isEmpty { throw StoreError.conflict("key \(key.kid)") }
        }
    }

    /// A tenant's keys. A key stored unencrypted in a database whose secrets are encrypted at rest
    /// is left out (never signs, never published) and reported at every load (`KEKError.unsealed`).
    public func keys(tenant: TenantName) async throws -> [SigningKeyRecord] {
        try await db.raw("SELECT * FROM signing_keys WHERE tenant = \(bind: tenant.value) ORDER BY created_at, kid").all().compactMap {
            row in
            let kid = try row.decode(column: "kid", as: String.self)
            let privateKey: String
            do {
                privateKey = try opened(try row.decode(column: "private_key", as: String.self), Self.keyContext(tenant.value, kid))
            } catch let refused as KEKError {
                guard case .unsealed = refused else { throw refused }
                Self.refusalLog.error("\(refused)")
                return nil
            }
            return SigningKeyRecord(
                tenant: tenant,
                kid: kid,
                algorithm: try Self.parse(
                    row, "algorithm", table: "signing_keys", key: "\(tenant)/\(kid)", SigningAlgorithm.init(rawValue:)),
                privateKey: privateKey,
                status: try Self.parse(row, "status", table: "signing_keys", key: "\(tenant)/\(kid)", KeyStatus.init(rawValue:)),
                createdAt: try row.decode(column: "created_at", as: Date.self),
                retiredAt: try row.decode(column: "retired_at", as: Date?.self))
        }
    }

    public func setKeyStatus(tenant: TenantName, kid: String, status: KeyStatus) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                """
                UPDATE signing_keys SET status = \(bind: status.rawValue) WHERE tenant = \(bind: tenant.value) AND kid = \(bind: kid) RETURNING kid
                """
            ).all()).isEmpty
        }
    }

    public func rotateKeys(tenant: TenantName, promote kid: String, newNext: SigningKeyRecord) async throws -> Bool {
        try await countingChange {
            try await transaction {
                let promoted = try await db.raw(
                    """
                    UPDATE signing_keys SET status = 'active' WHERE tenant = \(bind: tenant.value) AND kid = \(bind: kid) AND status = 'next'
                    RETURNING kid
                    """
                ).all()
                guard !promoted.isEmpty else { return false }
                try await db.raw(
                    """
                    UPDATE signing_keys SET status = 'retired', retired_at = \(bind: newNext.createdAt)
                    WHERE tenant = \(bind: tenant.value) AND status = 'active' AND kid <> \(bind: kid)
                    """
                ).run()
                try await addKey(newNext)
                return true
            }
        }
    }

    public func removeKey(tenant: TenantName, kid: String) async throws -> Bool {
        try await countingChange {
            !(try await db.raw("DELETE FROM signing_keys WHERE tenant = \(bind: tenant.value) AND kid = \(bind: kid) RETURNING kid").all())
                .isEmpty
        }
    }
}
