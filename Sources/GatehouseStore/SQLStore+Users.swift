import Foundation
import GatehouseCore
import SQLKit

/// Users (TOTP seeds sealed at rest) and their sign-in attempt counts.
extension SQLStore {
    public func createUser(_ user: User) async throws {
        try await countingChange {
            let rows = try await db.raw(
                """
                INSERT INTO users (tenant, user_id, username, email, display_name, password_hash, enabled, totp_secret, created_at, updated_at,
                                   sign_in_email, email_verified, language, self_registered)
                VALUES (\(bind: user.tenant.value), \(bind: user.id), \(bind: user.username.value), \(bind: user.email), \(bind: user.displayName),
                        \(bind: user.passwordHash), \(bind: user.enabled), \(bind: try sealedTOTP(user)),
                        \(bind: user.createdAt), \(bind: user.updatedAt), \(signInEmail(user)), \(bind: user.emailVerified),
                        \(bind: user.language), \(bind: user.selfRegistered))
                ON CONFLICT DO NOTHING RETURNING user_id
                """
            ).all()
            if rows.isEmpty {
                let taken = try await self.user(tenant: user.tenant, username: user.username) != nil
                throw StoreError.conflict(taken ? "user \(user.username)" : StoreError.emailTaken)
            }
        }
    }

    public func user(tenant: TenantName, username: Username) async throws -> User? {
        try await db.raw("SELECT * FROM users WHERE tenant = \(bind: tenant.value) AND username = \(bind: username.value)").first().map(
            user(from:))
    }

    public func user(tenant: TenantName, signInEmail: String) async throws -> User? {
        try await db.raw("SELECT * FROM users WHERE tenant = \(bind: tenant.value) AND sign_in_email = \(bind: signInEmail)").first().map(
            user(from:))
    }

    /// The `sign_in_email` a user's row holds: its address while the tenant has email sign-in on.
    func signInEmail(_ user: User) -> SQLQueryString {
        "(SELECT CASE WHEN email_sign_in THEN CAST(\(bind: user.signInEmail) AS TEXT) END FROM tenants WHERE name = \(bind: user.tenant.value))"
    }

    public func setEmailSignIn(_ on: Bool, tenant: TenantName) async throws -> EmailSignInChange {
        try await countingChange {
            try await transaction {
                guard try await db.raw("SELECT name FROM tenants WHERE name = \(bind: tenant.value)").first() != nil else {
                    return .noSuchTenant
                }
                guard on else {
                    try await db.raw("UPDATE users SET sign_in_email = NULL WHERE tenant = \(bind: tenant.value)").run()
                    try await db.raw("UPDATE tenants SET email_sign_in = \(bind: false) WHERE name = \(bind: tenant.value)").run()
                    return .done
                }
                let rows = try await db.raw(
                    "SELECT user_id, email FROM users WHERE tenant = \(bind: tenant.value) AND email IS NOT NULL"
                ).all()
                let addresses = SignInAddresses(
                    try rows.map { (try $0.decode(column: "user_id", as: String.self), try $0.decode(column: "email", as: String?.self)) })
                guard addresses.shared.isEmpty else { return .duplicates(addresses.shared) }
                try await db.raw("UPDATE tenants SET email_sign_in = \(bind: true) WHERE name = \(bind: tenant.value)").run()
                try await Self.record(addresses, tenant: tenant.value, on: db)
                return .done
            }
        }
    }

    /// Writes each address as its (one) owner's sign-in address: turning email sign-in on, and
    /// migration 16.
    static func record(_ addresses: SignInAddresses, tenant: String, on db: any SQLDatabase) async throws {
        for (address, users) in addresses.owners {
            guard let owner = users.first else { continue }
            try await db.raw(
                "UPDATE users SET sign_in_email = \(bind: address) WHERE tenant = \(bind: tenant) AND user_id = \(bind: owner)"
            ).run()
        }
    }

    public func user(tenant: TenantName, id: String) async throws -> User? {
        try await db.raw("SELECT * FROM users WHERE tenant = \(bind: tenant.value) AND user_id = \(bind: id)").first().map(user(from:))
    }

    public func users(tenant: TenantName) async throws -> [User] {
        try await db.raw("SELECT * FROM users WHERE tenant = \(bind: tenant.value) ORDER BY username").all().map(user(from:))
    }

    public func updateUser(_ user: User) async throws -> Bool { try await update(user, ifCredentialsOf: nil) }

    public func updateUser(_ user: User, ifCredentialsOf previous: User) async throws -> Bool {
        try await update(user, ifCredentialsOf: previous)
    }

    private func update(_ user: User, ifCredentialsOf previous: User?) async throws -> Bool {
        let condition: SQLQueryString =
            previous.map {
                "AND enabled AND password_hash = \(bind: $0.passwordHash) AND (totp_secret IS NULL) = \(bind: $0.sealedTOTPSecret == nil)"
            } ?? ""
        let changed = try await countingChange {
            !(try await db.raw(
                """
                UPDATE users SET username = \(bind: user.username.value), email = \(bind: user.email), display_name = \(bind: user.displayName),
                    password_hash = \(bind: user.passwordHash), enabled = \(bind: user.enabled), totp_secret = \(bind: try sealedTOTP(user)),
                    updated_at = \(bind: user.updatedAt), email_verified = \(bind: user.emailVerified),
                    language = \(bind: user.language),
                    sessions_valid_after = \(bind: user.sessionsValidAfter), sign_in_email = \(signInEmail(user))
                WHERE tenant = \(bind: user.tenant.value) AND user_id = \(bind: user.id) \(condition)
                    AND NOT EXISTS (SELECT 1 FROM users other WHERE other.tenant = \(bind: user.tenant.value)
                        AND other.sign_in_email = \(bind: user.signInEmail) AND other.user_id <> \(bind: user.id))
                RETURNING user_id
                """
            ).all()).isEmpty
        }
        // Nothing changed: no such user, changed meanwhile, or its address is another user's.
        if !changed, let stored = try await self.user(tenant: user.tenant, id: user.id),
            previous.map({ Self.sameCredentials(stored, $0) }) ?? true
        {
            throw StoreError.conflict(StoreError.emailTaken)
        }
        return changed
    }

    /// Whether `stored` is still enabled with `previous`'s password and second factor (present or not).
    static func sameCredentials(_ stored: User, _ previous: User) -> Bool {
        stored.enabled && stored.passwordHash == previous.passwordHash
            && (stored.sealedTOTPSecret == nil) == (previous.sealedTOTPSecret == nil)
    }

    /// The TOTP seed (already sealed by the server's `SecretBox`) as stored: sealed again under the KEK.
    func sealedTOTP(_ user: User) throws -> String? {
        try user.sealedTOTPSecret.map { try sealed($0, Self.totpContext(user.tenant.value, user.id)) }
    }

    func user(from row: any SQLRow) throws -> User {
        let tenant = try row.decode(column: "tenant", as: String.self)
        let id = try row.decode(column: "user_id", as: String.self)
        return User(
            tenant: try TenantName(tenant),
            id: id,
            username: try Username(try row.decode(column: "username", as: String.self)),
            email: try row.decode(column: "email", as: String?.self),
            displayName: try row.decode(column: "display_name", as: String.self),
            passwordHash: try row.decode(column: "password_hash", as: String.self),
            enabled: try row.decode(column: "enabled", as: Bool.self),
            sealedTOTPSecret: try row.decode(column: "totp_secret", as: String?.self).map { try opened($0, Self.totpContext(tenant, id)) },
            createdAt: try row.decode(column: "created_at", as: Date.self),
            updatedAt: try row.decode(column: "updated_at", as: Date.self),
            sessionsValidAfter: try row.decode(column: "sessions_valid_after", as: Date?.self),
            emailVerified: try row.decode(column: "email_verified", as: Bool.self),
            language: try row.decode(column: "language", as: String?.self),
            selfRegistered: try row.decode(column: "self_registered", as: Bool.self))
    }

    public func resetPassword(
        tenant: TenantName, id: String, passwordHash: String, address: String, issuedAt: Date, now: Date
    ) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                """
                UPDATE users SET password_hash = \(bind: passwordHash), updated_at = \(bind: now), sessions_valid_after = \(bind: now)
                WHERE tenant = \(bind: tenant.value) AND user_id = \(bind: id) AND enabled AND email = \(bind: address) AND email_verified
                    AND (sessions_valid_after IS NULL OR sessions_valid_after <= \(bind: issuedAt))
                RETURNING user_id
                """
            ).all()).isEmpty
        }
    }

    public func markEmailVerified(tenant: TenantName, id: String, address: String, now: Date) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                """
                UPDATE users SET email_verified = \(bind: true), updated_at = \(bind: now)
                WHERE tenant = \(bind: tenant.value) AND user_id = \(bind: id) AND email = \(bind: address)
                RETURNING user_id
                """
            ).all()).isEmpty
        }
    }

    public func replaceRecoveryCodes(tenant: TenantName, userID: String, hashes: [String], now: Date) async throws {
        try await transaction {
            try await self.db.raw("DELETE FROM recovery_codes WHERE tenant = \(bind: tenant.value) AND user_id = \(bind: userID)").run()
            for hash in hashes {
                try await self.db.raw(
                    """
                    INSERT INTO recovery_codes (tenant, user_id, code_hash, created_at)
                    VALUES (\(bind: tenant.value), \(bind: userID), \(bind: hash), \(bind: now))
                    """
                ).run()
            }
        }
    }

    public func useRecoveryCode(tenant: TenantName, userID: String, hash: String) async throws -> Bool {
        // One DELETE: of parallel uses, exactly one gets the row back.
        !(try await db.raw(
            """
            DELETE FROM recovery_codes WHERE tenant = \(bind: tenant.value) AND user_id = \(bind: userID) AND code_hash = \(bind: hash)
            RETURNING code_hash
            """
        ).all()).isEmpty
    }

    public func recoveryCodesLeft(tenant: TenantName, userID: String) async throws -> Int {
        let row = try await db.raw(
            "SELECT COUNT(*) AS n FROM recovery_codes WHERE tenant = \(bind: tenant.value) AND user_id = \(bind: userID)"
        ).first()
        return try row?.decode(column: "n", as: Int.self) ?? 0
    }

    public func setUserLanguage(tenant: TenantName, id: String, language: String) async throws {
        try await db.raw(
            "UPDATE users SET language = \(bind: language) WHERE tenant = \(bind: tenant.value) AND user_id = \(bind: id)"
        ).run()
    }

    public func countSignInAttempt(key: String, limit: Int, now: Date, resetBefore: Date) async throws -> Int {
        // One statement: the SET expressions read the row as it was before this attempt.
        let reset = resetBefore
        let row = try await db.raw(
            """
            INSERT INTO sign_in_failures (failure_key, failures, last_failure_at) VALUES (\(bind: key), 1, \(bind: now))
            ON CONFLICT (failure_key) DO UPDATE SET
                failures = CASE WHEN sign_in_failures.last_failure_at < \(bind: reset) THEN 1 ELSE sign_in_failures.failures + 1 END,
                last_failure_at = CASE WHEN sign_in_failures.last_failure_at < \(bind: reset) OR sign_in_failures.failures < \(bind: limit)
                    THEN excluded.last_failure_at ELSE sign_in_failures.last_failure_at END
            RETURNING failures
            """
        ).first()
        return try row?.decode(column: "failures", as: Int.self) ?? 1
    }

    public func signInFailures(key: String, since: Date) async throws -> Int {
        let row = try await db.raw(
            """
            SELECT failures FROM sign_in_failures WHERE failure_key = \(bind: key) AND last_failure_at >= \(bind: since)
            """
        ).first()
        return try row?.decode(column: "failures", as: Int.self) ?? 0
    }

    public func clearSignInFailures(key: String) async throws {
        try await db.raw("DELETE FROM sign_in_failures WHERE failure_key = \(bind: key)").run()
    }

    public func purgeSignInFailures(before: Date, limit: Int) async throws -> Int {
        try await db.raw(
            """
            DELETE FROM sign_in_failures WHERE failure_key IN (
                SELECT failure_key FROM sign_in_failures WHERE last_failure_at < \(bind: before) LIMIT \(bind: max(0, limit)))
            RETURNING failure_key
            """
        ).all().count
    }
}
