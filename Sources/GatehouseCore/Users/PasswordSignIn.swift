import Foundation

/// Computes TOTP codes (RFC 6238); implemented with hummingbird-auth's HummingbirdOTP in the server.
public protocol TOTPGenerator: Sendable {
    /// The code for the time step that contains `date`.
    func code(secret: String, at date: Date) -> String
}

/// Checks a username and password, with lockout, without revealing which accounts exist:
/// an unknown username costs the same password hash and counts failures the same way, and a
/// disabled account is reported only after its correct password.
public struct PasswordSignIn: Sendable {
    public let users: any UserStore
    public let passwords: any PasswordHasher
    /// A hash of a random password, verified when the user does not exist (equal timing).
    public let decoyHash: String
    public let policy: SignInPolicy
    public let time: TimeSource

    public init(users: any UserStore, passwords: any PasswordHasher, decoyHash: String, policy: SignInPolicy, time: TimeSource = .system) {
        self.users = users
        self.passwords = passwords
        self.decoyHash = decoyHash
        self.policy = policy
        self.time = time
    }

    /// The user, or 50126 / 50034 / 50057 / 50053.
    public func verify(tenant: TenantName, username raw: String, password: String) async throws -> User {
        let now = time.now()
        let normalized = raw.trimmingCharacters(in: .whitespaces).lowercased()
        let failureKey = "\(tenant.value) \(normalized)"
        let windowStart = now.addingTimeInterval(-policy.lockoutDuration)
        if try await users.signInFailures(key: failureKey, since: windowStart) >= policy.lockoutThreshold {
            throw CatalogueError(Catalogue.userLocked, detail: "locked: \(policy.lockoutThreshold) failures within \(Int(policy.lockoutDuration)) s")
        }
        let user: User? = if let username = try? Username(raw) { try await users.user(tenant: tenant, username: username) } else { nil }
        guard let user else {
            _ = await passwords.verify(password, hash: decoyHash)
            try await countFailure(key: failureKey, now: now, windowStart: windowStart, entry: Catalogue.userAccountNotFound)
            throw CatalogueError(Catalogue.userAccountNotFound, detail: "no such username")
        }
        guard await passwords.verify(password, hash: user.passwordHash) else {
            try await countFailure(key: failureKey, now: now, windowStart: windowStart, entry: Catalogue.invalidUserNameOrPassword)
            throw CatalogueError(Catalogue.invalidUserNameOrPassword, detail: "wrong password for user \(user.id)")
        }
        guard user.enabled else { throw CatalogueError(Catalogue.userDisabled, detail: "user \(user.id) is disabled") }
        try await users.clearSignInFailures(key: failureKey)
        return user
    }

    private func countFailure(key: String, now: Date, windowStart: Date, entry: CatalogueEntry) async throws {
        let count = try await users.recordSignInFailure(key: key, now: now, resetBefore: windowStart)
        if count >= policy.lockoutThreshold {
            throw CatalogueError(Catalogue.userLocked, detail: "locked after \(count) failures (last: \(entry.name))")
        }
    }

    /// Checks a TOTP code for the current step and one step either side (clock drift); each
    /// step's code is accepted once per user.
    public func verifyTOTP(_ code: String, user: User, box: SecretBox, generator: any TOTPGenerator, replay: any ReplayStore) async throws {
        let now = time.now()
        guard let sealed = user.sealedTOTPSecret, let secret = try? box.open(sealed) else {
            throw CatalogueError(Catalogue.invalidVerificationCode, detail: "no readable TOTP secret")
        }
        let trimmed = code.filter { !$0.isWhitespace }
        for offset in [0, -30, 30] as [TimeInterval] {
            let date = now.addingTimeInterval(offset)
            let expected = generator.code(secret: secret, at: date)
            if constantTimeEquals(Array(expected.utf8), Array(trimmed.utf8)) {
                let step = Int(date.timeIntervalSince1970) / 30
                guard try await replay.consumeOnce(key: "totp \(user.tenant.value) \(user.id) \(step)", expiresAt: now.addingTimeInterval(120), now: now) else {
                    throw CatalogueError(Catalogue.invalidVerificationCode, detail: "TOTP code replayed")
                }
                return
            }
        }
        throw CatalogueError(Catalogue.invalidVerificationCode, detail: "TOTP code mismatch")
    }

    /// What the sign-in page shows: an unknown username looks like a wrong password (50126).
    public static func shownEntry(for entry: CatalogueEntry) -> CatalogueEntry {
        entry == Catalogue.userAccountNotFound ? Catalogue.invalidUserNameOrPassword : entry
    }
}
