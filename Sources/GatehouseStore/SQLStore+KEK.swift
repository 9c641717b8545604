import Foundation
import GatehouseCore
import SQLKit

/// Encryption at rest: signing private keys, settings (the secret-hashing key) and TOTP seeds are
/// stored sealed under the store's key-encryption key (`KeyEncryptionKey`), each bound to its row.
extension SQLStore {
    static func keyContext(_ tenant: String, _ kid: String) -> String { "signing_keys \(tenant) \(kid)" }
    static func settingContext(_ key: String) -> String { "settings \(key)" }
    static func totpContext(_ tenant: String, _ userID: String) -> String { "users \(tenant) \(userID) totp_secret" }

    /// A value as it is stored: sealed when the store has a KEK.
    func sealed(_ value: String, _ context: String) throws -> String {
        guard let kek else { return value }
        return try kek.seal(value, context: context)
    }

    /// A stored value in the clear: opened with the store's KEK when sealed (a store without the
    /// KEK it needs fails, naming it). A value in the clear is used only by a store without a
    /// KEK: with one, every value from before encryption at rest was sealed when the store opened
    /// (`prepareKeyEncryption`), so one in the clear was written around Gatehouse and is refused.
    func opened(_ stored: String, _ context: String) throws -> String {
        guard KeyEncryptionKey.isSealed(stored) else {
            if kek != nil { throw KEKError.unsealed(context) }
            return stored
        }
        guard let kek else { throw KEKError.wrongKEK(needed: KeyEncryptionKey.kekID(of: stored) ?? "?", configured: nil) }
        return try kek.open(stored, context: context)
    }

    /// The setting that says this database's secrets are encrypted at rest: written when the
    /// values from before encryption at rest are sealed, after which none is ever sealed again.
    static let sealedMarker = "encrypted_at_rest"

    /// One stored secret: where it is, what it is bound to, its stored text.
    struct StoredSecret {
        enum Place {
            case signingKey(tenant: String, kid: String)
            case setting(key: String)
            case totp(tenant: String, userID: String)
        }
        let place: Place
        let stored: String

        var context: String {
            switch place {
            case .signingKey(let tenant, let kid): SQLStore.keyContext(tenant, kid)
            case .setting(let key): SQLStore.settingContext(key)
            case .totp(let tenant, let userID): SQLStore.totpContext(tenant, userID)
            }
        }
    }

    func storedSecrets() async throws -> [StoredSecret] {
        var secrets: [StoredSecret] = []
        for row in try await db.raw("SELECT tenant, kid, private_key FROM signing_keys").all() {
            secrets.append(
                StoredSecret(
                    place: .signingKey(
                        tenant: try row.decode(column: "tenant", as: String.self), kid: try row.decode(column: "kid", as: String.self)),
                    stored: try row.decode(column: "private_key", as: String.self)))
        }
        for row in try await db.raw("SELECT setting_key, value FROM settings").all() {
            secrets.append(
                StoredSecret(
                    place: .setting(key: try row.decode(column: "setting_key", as: String.self)),
                    stored: try row.decode(column: "value", as: String.self)))
        }
        for row in try await db.raw("SELECT tenant, user_id, totp_secret FROM users WHERE totp_secret IS NOT NULL").all() {
            secrets.append(
                StoredSecret(
                    place: .totp(
                        tenant: try row.decode(column: "tenant", as: String.self),
                        userID: try row.decode(column: "user_id", as: String.self)
                    ),
                    stored: try row.decode(column: "totp_secret", as: String.self)))
        }
        return secrets
    }

    func write(_ stored: String, at place: StoredSecret.Place) async throws {
        switch place {
        case .signingKey(let tenant, let kid):
            try await db.raw("UPDATE signing_keys SET private_key = \(bind: stored) WHERE tenant = \(bind: tenant) AND kid = \(bind: kid)")
                .run()
        case .setting(let key):
            try await db.raw("UPDATE settings SET value = \(bind: stored) WHERE setting_key = \(bind: key)").run()
        case .totp(let tenant, let userID):
            try await db.raw("UPDATE users SET totp_secret = \(bind: stored) WHERE tenant = \(bind: tenant) AND user_id = \(bind: userID)")
                .run()
        }
    }

    /// Run when the store opens: every sealed value must be under this store's KEK (else the
    /// error names the KEK they need and nothing starts). The first time a store with a KEK opens
    /// the database, the values stored before encryption at rest are sealed, in one transaction
    /// that also records that the database is sealed (`sealedMarker`). From then on a value in the
    /// clear was written into the database around Gatehouse (a signing key that would sign and be
    /// published): it is not sealed but refused wherever it is read (`KEKError.unsealed`), and
    /// returned here so that the server says so when it starts.
    @discardableResult
    public func prepareKeyEncryption() async throws -> (sealed: Int, refused: [String]) {
        let secrets = try await storedSecrets()
        for secret in secrets {
            if let needed = KeyEncryptionKey.kekID(of: secret.stored), needed != kek?.id {
                throw KEKError.wrongKEK(needed: needed, configured: kek?.id)
            }
        }
        guard kek != nil else { return (0, []) }
        let plaintext = secrets.filter { !KeyEncryptionKey.isSealed($0.stored) }
        // Sealed once the marker is there, or any value is sealed: deleting the marker (or a
        // marker the KEK cannot open) does not make a planted value look like one from before
        // encryption at rest.
        let marker = try await db.raw("SELECT value FROM settings WHERE setting_key = \(bind: Self.sealedMarker)").first()
        if let marker {
            _ = try opened(try marker.decode(column: "value", as: String.self), Self.settingContext(Self.sealedMarker))
        }
        if marker != nil || plaintext.count < secrets.count { return (0, plaintext.map(\.context)) }
        try await transaction {
            for secret in plaintext { try await write(try sealed(secret.stored, secret.context), at: secret.place) }
            let marker = try sealed("yes", Self.settingContext(Self.sealedMarker))
            try await db.raw(
                "INSERT INTO settings (setting_key, value) VALUES (\(bind: Self.sealedMarker), \(bind: marker)) ON CONFLICT DO NOTHING"
            ).run()
        }
        return (plaintext.count, [])
    }

    /// Re-encrypts every sealed value under `newKEK` in one transaction (`gatehouse keys rewrap`);
    /// afterwards the database opens with `newKEK` only. Returns how many values were re-sealed.
    public func rewrap(to newKEK: KeyEncryptionKey) async throws -> Int {
        try await transaction {
            let secrets = try await storedSecrets()
            for secret in secrets {
                let clear = try opened(secret.stored, secret.context)
                try await write(try newKEK.seal(clear, context: secret.context), at: secret.place)
            }
            return secrets.count
        }
    }
}
