import Crypto
import Foundation

/// Computes TOTP codes (RFC 6238); implemented with hummingbird-auth's HummingbirdOTP in the server.
public protocol TOTPGenerator: Sendable {
    /// The code for the time step that contains `date`.
    func code(secret: String, at date: Date) -> String
}

/// A browser that has signed in as a user before, known by the device cookie it was given then
/// (verified by the server; see `SignInEnvironment.familiarDevice`).
public struct FamiliarDevice: Sendable, Equatable {
    public let userID: String
    public let id: String
    /// When the cookie was given (at a sign-in).
    public let issuedAt: Date

    public init(userID: String, id: String, issuedAt: Date) {
        self.userID = userID
        self.id = id
        self.issuedAt = issuedAt
    }

    /// Whether this browser is familiar to `user`: it signed in as the user, after the user's
    /// password was last set (or the account's sessions were otherwise ended: `User.sessionsValidAfter`).
    /// A cookie stolen before a password change is no longer familiar after it.
    public func belongs(to user: User) -> Bool {
        userID == user.id && user.honours(sessionStartedAt: issuedAt)
    }
}

/// Checks a username and password, and a second factor, with lockout, without revealing which
/// accounts exist: an unknown username costs the same password hash and counts attempts the same
/// way, and a disabled account is reported only after its correct password.
///
/// Every check is counted *before* it runs, by one atomic statement that also returns the count
/// (`UserStore.countSignInAttempt`), so that a parallel burst gets at most
/// `policy.lockoutThreshold` checks in a window, whatever the timing. A success clears the
/// count; for a user with a second factor only the second factor's success does.
///
/// Smart lockout: the count is kept per *user* (by ID), and a browser that has signed in as the
/// user before (`FamiliarDevice`) counts under a key of its own, so failures from elsewhere lock
/// out strangers, not the user's own browser; that browser is still limited by the same
/// threshold for its own failures. An unknown username counts under a keyed hash of its name
/// (and answers the same 50126, then 50053, as a real one), which is never the key of a user
/// made later: a username cannot be locked before it exists. No key holds what was typed as a
/// username (sometimes a password), and every key has a bounded length.
public struct PasswordSignIn: Sendable {
    public let users: any UserStore
    public let passwords: any PasswordHasher
    /// A hash of a random password, verified when the user does not exist (equal timing).
    public let decoyHash: String
    public let policy: SignInPolicy
    public let time: TimeSource
    /// Keys the hash an unknown username's attempts are counted under.
    let hasher: SecretHasher
    /// Registered passkeys, a second factor like TOTP: with one, a right password leaves the
    /// count until the second factor is right.
    public let passkeys: (any PasskeyStore)?

    public init(
        users: any UserStore, passwords: any PasswordHasher, decoyHash: String, policy: SignInPolicy, time: TimeSource = .system,
        hasher: SecretHasher = SecretHasher(key: Data(RandomSource.system.bytes(32))), passkeys: (any PasskeyStore)? = nil
    ) {
        self.passkeys = passkeys
        self.hasher = hasher
        self.users = users
        self.passwords = passwords
        self.decoyHash = decoyHash
        self.policy = policy
        self.time = time
    }

    /// Tenant and a hash of the normalised username: how the (in-memory) throttles name a sign-in
    /// target, at a bounded length whatever was typed.
    public static func attemptKey(tenant: TenantName, username raw: String) -> String {
        let normalised = raw.trimmingCharacters(in: .whitespaces).lowercased()
        return "\(tenant.value) \(hexString(SHA256.hash(data: Data(normalised.utf8)).prefix(16)))"
    }

    /// The key attempts are counted under: the user's own (by ID), or its familiar device's.
    public static func lockKey(tenant: TenantName, user: User, device: FamiliarDevice?) -> String {
        if let device, device.belongs(to: user) { return "user \(tenant.value) \(user.id) device \(device.id)" }
        return "user \(tenant.value) \(user.id)"
    }

    /// The key attempts at a username that does not exist are counted under: a keyed hash of the
    /// normalised name, so the database never holds what was typed.
    public func unknownUsernameKey(tenant: TenantName, username raw: String) -> String {
        let normalised = raw.trimmingCharacters(in: .whitespaces).lowercased()
        return "unknown \(tenant.value) \(hasher.derive("unknown username", normalised))"
    }

    /// The user, or 50126 / 50034 / 50057 / 50053. `device` is the browser's familiar device, if any.
    public func verify(tenant: TenantName, username raw: String, password: String, device: FamiliarDevice? = nil) async throws -> User {
        // A username, or where the tenant allows it the user's email address.
        let user = try await users.user(tenant: tenant, signInName: raw)
        let key = user.map { Self.lockKey(tenant: tenant, user: $0, device: device) } ?? unknownUsernameKey(tenant: tenant, username: raw)
        let attempt = try await claimAttempt(key: key)
        guard let user else {
            _ = await passwords.verify(password, hash: decoyHash)
            try refuse(attempt, entry: Catalogue.userAccountNotFound, detail: "no such username or sign-in address")
        }
        guard await passwords.verify(password, hash: user.passwordHash) else {
            try refuse(attempt, entry: Catalogue.invalidUserNameOrPassword, detail: "wrong password for user \(user.id)")
        }
        // A right password is not a failure, even for a disabled user (50057 says it was right):
        // without a second factor it clears the count, as a sign-in does; with one the count
        // stays until the code is right.
        if try await !hasSecondFactor(user) { try await users.clearSignInFailures(key: key) }
        guard user.enabled else { throw CatalogueError(Catalogue.userDisabled, detail: "user \(user.id) is disabled") }
        // Reported only after the right password, like a disabled account.
        guard !user.awaitsVerification else {
            throw CatalogueError(Catalogue.emailNotVerified, detail: "self-registered user \(user.id) has not verified the address")
        }
        return user
    }

    /// TOTP or a registered passkey.
    public func hasSecondFactor(_ user: User) async throws -> Bool {
        if user.requiresSecondFactor { return true }
        return try await passkeys?.passkeyCount(tenant: user.tenant, userID: user.id) ?? 0 > 0
    }

    /// A second factor other than TOTP (a passkey) was right: the account's count starts again,
    /// as after a right TOTP code.
    public func secondFactorSucceeded(user: User, device: FamiliarDevice?) async throws {
        try await users.clearSignInFailures(key: Self.lockKey(tenant: user.tenant, user: user, device: device))
    }

    /// Checks a TOTP code for the current step and one step either side (clock drift); each
    /// step's code is accepted once per user. Counted like a password against the account's
    /// lock (50053) and, when `interaction` names the sign-in page, against that page's own
    /// allowance: past `policy.secondFactorAttemptsPerInteraction` wrong codes it answers 9900146
    /// and the caller ends the page.
    @discardableResult
    public func verifyTOTP(
        _ code: String, user: User, interaction: String?, box: SecretBox, generator: any TOTPGenerator,
        replay: any ReplayStore, device: FamiliarDevice? = nil
    ) async throws -> SecondFactorUsed {
        let key = Self.lockKey(tenant: user.tenant, user: user, device: device)
        let attempt = try await claimAttempt(key: key)
        let pageKey = interaction.map { "second-factor " + $0 }
        var pageAttempt = 0
        if let pageKey {
            let now = time.now()
            pageAttempt = try await users.countSignInAttempt(
                key: pageKey, limit: policy.secondFactorAttemptsPerInteraction, now: now,
                resetBefore: now.addingTimeInterval(-policy.interactionLifetime))
            if pageAttempt > policy.secondFactorAttemptsPerInteraction {
                throw CatalogueError(
                    Catalogue.tooManyVerificationCodes, detail: "more than \(policy.secondFactorAttemptsPerInteraction) codes on one page")
            }
        }
        let used: SecondFactorUsed
        do {
            used = try await checkTOTP(code, user: user, box: box, generator: generator, replay: replay)
        } catch let error as CatalogueError {
            if attempt >= policy.lockoutThreshold {
                throw CatalogueError(Catalogue.userLocked, detail: "locked after \(attempt) attempts (last: wrong second factor)")
            }
            if pageAttempt >= policy.secondFactorAttemptsPerInteraction {
                throw CatalogueError(
                    Catalogue.tooManyVerificationCodes, detail: "\(pageAttempt) wrong codes on one page; \(error.detail ?? "")")
            }
            throw error
        }
        try await users.clearSignInFailures(key: key)
        if let pageKey { try await users.clearSignInFailures(key: pageKey) }
        return used
    }

    /// What proved the second factor.
    public enum SecondFactorUsed: Sendable, Equatable {
        case authenticatorCode
        /// A recovery code, now used up; `left` are still unused.
        case recoveryCode(left: Int)
    }

    private func checkTOTP(
        _ code: String, user: User, box: SecretBox, generator: any TOTPGenerator, replay: any ReplayStore
    ) async throws -> SecondFactorUsed {
        let now = time.now()
        guard let sealed = user.sealedTOTPSecret, let secret = try? box.open(sealed) else {
            throw CatalogueError(Catalogue.invalidVerificationCode, detail: "no readable TOTP secret")
        }
        // Ten base32 characters: a recovery code, used up by the one request that deletes it.
        if let recovery = RecoveryCodes.normalize(code) {
            let hash = RecoveryCodes.hash(recovery, user: user, hasher: hasher)
            guard try await users.useRecoveryCode(tenant: user.tenant, userID: user.id, hash: hash) else {
                throw CatalogueError(Catalogue.invalidVerificationCode, detail: "recovery code unknown or used")
            }
            return .recoveryCode(left: try await users.recoveryCodesLeft(tenant: user.tenant, userID: user.id))
        }
        let trimmed = code.filter { !$0.isWhitespace }
        for offset in [0, -30, 30] as [TimeInterval] {
            let date = now.addingTimeInterval(offset)
            let expected = generator.code(secret: secret, at: date)
            if constantTimeEquals(Array(expected.utf8), Array(trimmed.utf8)) {
                let step = Int(date.timeIntervalSince1970) / 30
                guard
                    try await replay.consumeOnce(
                        key: "totp \(user.tenant.value) \(user.id) \(step)", expiresAt: now.addingTimeInterval(120), now: now)
                else {
                    throw CatalogueError(Catalogue.invalidVerificationCode, detail: "TOTP code replayed")
                }
                return .authenticatorCode
            }
        }
        throw CatalogueError(Catalogue.invalidVerificationCode, detail: "TOTP code mismatch")
    }

    /// Counts this attempt before any check; past the threshold the check does not run at all.
    private func claimAttempt(key: String) async throws -> Int {
        let now = time.now()
        let count = try await users.countSignInAttempt(
            key: key, limit: policy.lockoutThreshold, now: now,
            resetBefore: now.addingTimeInterval(-policy.lockoutDuration))
        if count > policy.lockoutThreshold {
            throw CatalogueError(
                Catalogue.userLocked, detail: "locked: attempt \(count) within \(Int(policy.lockoutDuration)) s, not checked")
        }
        return count
    }

    /// A failed check: the attempt that reached the threshold reports the lock.
    private func refuse(_ attempt: Int, entry: CatalogueEntry, detail: String) throws -> Never {
        if attempt >= policy.lockoutThreshold {
            throw CatalogueError(Catalogue.userLocked, detail: "locked after \(attempt) attempts (last: \(entry.name))")
        }
        throw CatalogueError(entry, detail: detail)
    }

    /// What the sign-in page shows: an unknown username looks like a wrong password (50126).
    public static func shownEntry(for entry: CatalogueEntry) -> CatalogueEntry {
        entry == Catalogue.userAccountNotFound ? Catalogue.invalidUserNameOrPassword : entry
    }
}
