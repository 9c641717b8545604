import Foundation

/// Password reset and address verification by mail. Each link's token is 256 random bits, kept
/// only as a keyed hash (`StateStore`, single use by `takeState`), and its mail is queued in the
/// outbox in the same transaction as the state that makes it usable.
extension Administration {
    public static let passwordResetKind = "password.reset"
    public static let emailVerificationKind = "email.verify"
    /// The username of the stand-in a decoy reset mail is composed for.
    static let standIn = Username(validated: "nobody")
    /// How long a reset link works.
    public static let passwordResetLifetime: TimeInterval = 15 * 60
    /// How long a verification link works.
    public static let emailVerificationLifetime: TimeInterval = 24 * 3600

    /// What a reset request did, for the operator's note in the sign-in log; the requester is
    /// told the same thing whatever it is.
    public enum ResetRequestOutcome: String, Sendable {
        case mailed = "reset link mailed"
        case unknownAccount = "no such account: nothing mailed"
        case noEmail = "account has no email address: nothing mailed"
        case unverifiedEmail = "account's email address is not verified: nothing mailed"
        case disabled = "account is disabled: nothing mailed"
        case limited = "too many reset requests for this account: nothing mailed"
    }

    /// A reset request for the account `name` (a username or, with email sign-in, an address).
    /// Both paths do the same work, a token's state row and an outbox row (a mail, or a decoy
    /// deleted unsent), so that the answer's timing does not tell whether the account exists.
    /// `accountAllowed` false (the per-account limit) sends nothing, in the same way.
    public func requestPasswordReset(tenant: Tenant, name: String, language: String, accountAllowed: Bool) async throws
        -> ResetRequestOutcome
    {
        let user = try await store.user(tenant: tenant.name, signInName: String(name.prefix(256)))
        let outcome: ResetRequestOutcome
        switch user {
        case nil: outcome = .unknownAccount
        case let user? where !user.enabled: outcome = .disabled
        case let user? where user.email.flatMap(User.signInEmail) == nil: outcome = .noEmail
        case let user? where !user.emailVerified: outcome = .unverifiedEmail
        case _ where !accountAllowed: outcome = .limited
        default: outcome = .mailed
        }
        let now = time.now()
        let token = random.token(byteCount: 32)
        let id = random.uuid().uuidString.lowercased()
        // The same mail is composed and sealed on both paths: to the account, or to a stand-in
        // that the sender deletes unsent.
        let mailer = self.mailer ?? AccountMailer(baseURL: "", texts: .bundled, box: SecretBox(serverKey: hasher.keyData))
        let mailed = outcome == .mailed && self.mailer != nil ? user : nil
        let recipient =
            mailed
            ?? User(
                tenant: tenant.name, id: "-", username: (try? Username(name)) ?? Self.standIn, email: "nobody@invalid", displayName: name,
                passwordHash: "", createdAt: now, updatedAt: now)
        let composed = try mailer.compose(
            .passwordReset, to: recipient.email ?? "nobody@invalid", user: recipient, tenantName: tenant.displayName,
            link: mailer.link(.passwordReset, tenant: tenant.name, token: token), language: mailed?.language ?? language
        ).queued(id: id, tenant: tenant.name.value, box: mailer.box, now: now)
        let row = mailed == nil ? composed.unsent : composed
        // Rounded up: a password set in the same instant as the request does not void its link.
        let value = "\(mailed?.id ?? "-")|\(Int64((now.timeIntervalSince1970 * 1000).rounded(.up)))"
        let store = self.store
        let key = hasher.hash(token)
        try await store.atomically {
            try await store.putState(
                kind: Self.passwordResetKind, key: key, value: value, expiresAt: now.addingTimeInterval(Self.passwordResetLifetime))
            try await store.enqueue(row)
        }
        return outcome
    }

    /// The user a reset token is for, while it is unused, unexpired and not superseded (the
    /// password changed since it was issued); nothing is consumed (the page with the form).
    public func passwordResetUser(tenant: TenantName, token: String) async throws -> User? {
        guard token.utf8.count <= 128,
            let value = try await store.state(kind: Self.passwordResetKind, key: hasher.hash(token), now: time.now())
        else { return nil }
        return try await resetUser(value, tenant: tenant)
    }

    private func resetUser(_ value: String, tenant: TenantName) async throws -> User? {
        let parts = value.split(separator: "|").map(String.init)
        guard parts.count == 2, parts[0] != "-", let millis = Int64(parts[1]),
            let user = try await store.user(tenant: tenant, id: parts[0]), user.enabled
        else { return nil }
        let issued = Date(timeIntervalSince1970: Double(millis) / 1000)
        // A password set after the link was mailed (another link, an operator) voids it.
        if let valid = user.sessionsValidAfter, valid > issued { return nil }
        return user
    }

    /// Sets the new password of the reset token's user: the password policy first (a refused
    /// password leaves the link usable), then the token is taken (one use, whoever is first), the
    /// password set, every session ended, every grant revoked, the lock cleared, and a notice
    /// mailed to the account's address, in one transaction. Nil if the token is not usable.
    public func completePasswordReset(
        tenant: Tenant, token: String, password: String, passwords: any PasswordHasher, language: String
    ) async throws -> User? {
        try Self.checkPassword(password)
        guard token.utf8.count <= 128 else { return nil }
        let store = self.store
        let now = time.now()
        let key = hasher.hash(token)
        let notice: OutboxMessage?
        guard let peek = try await store.state(kind: Self.passwordResetKind, key: key, now: now),
            var user = try await resetUser(peek, tenant: tenant.name)
        else { return nil }
        // Hashed only for a usable link: a made-up token costs no bcrypt.
        let hash = try await passwords.hash(password)
        if let mailer, let address = user.email {
            notice = try mailer.compose(
                .passwordChanged, to: address, user: user, tenantName: tenant.displayName,
                link: mailer.link(.passwordChanged, tenant: tenant.name, token: ""), language: user.language ?? language
            ).queued(id: random.uuid().uuidString.lowercased(), tenant: tenant.name.value, box: mailer.box, now: now)
        } else {
            notice = nil
        }
        user.passwordHash = hash
        user.updatedAt = now
        user.sessionsValidAfter = now
        let changed = user
        let lockKey = PasswordSignIn.lockKey(tenant: tenant.name, user: user, device: nil)
        let done = try await store.atomically { () -> Bool in
            // Taken inside the change: of two uses at once, one takes it and the other finds nothing.
            guard try await store.takeState(kind: Self.passwordResetKind, key: key, now: now) == peek else { return false }
            _ = try await store.updateUser(changed)
            try await store.revokeGrants(tenant: changed.tenant, userID: changed.id, now: now)
            try await store.clearSignInFailures(key: lockKey)
            if let notice { try await store.enqueue(notice) }
            return true
        }
        guard done else { return nil }
        try await acting(as: AdminActor(kind: .user, id: user.id, tenant: tenant.name), traceID: traceID, source: source)
            .audit("user.password.reset_by_mail", tenant: tenant.name, target: user.id, after: AuditView.user(user))
        return user
    }

    /// Queues a verification link for the user's current address (the caller's transaction, if
    /// any, includes it). Nothing without an address or a mailer.
    func queueVerification(_ user: User, tenantName: String) async throws {
        guard let mailer, let address = user.email, User.signInEmail(address) != nil else { return }
        let now = time.now()
        let token = random.token(byteCount: 32)
        let row = try mailer.compose(
            .verifyEmail, to: address, user: user, tenantName: tenantName,
            link: mailer.link(.verifyEmail, tenant: user.tenant, token: token),
            language: user.language ?? CatalogueTexts.defaultLanguage
        ).queued(id: random.uuid().uuidString.lowercased(), tenant: user.tenant.value, box: mailer.box, now: now)
        try await store.putState(
            kind: Self.emailVerificationKind, key: hasher.hash(token), value: "\(user.id)|\(address)",
            expiresAt: now.addingTimeInterval(Self.emailVerificationLifetime))
        try await store.enqueue(row)
    }

    /// The user and address a verification token is for, while usable (nothing consumed).
    public func emailVerificationTarget(tenant: TenantName, token: String) async throws -> User? {
        guard token.utf8.count <= 128,
            let value = try await store.state(kind: Self.emailVerificationKind, key: hasher.hash(token), now: time.now())
        else { return nil }
        return try await verificationUser(value, tenant: tenant)
    }

    private func verificationUser(_ value: String, tenant: TenantName) async throws -> User? {
        guard let bar = value.firstIndex(of: "|") else { return nil }
        let (id, address) = (String(value[..<bar]), String(value[value.index(after: bar)...]))
        // A link for an address the user no longer has verifies nothing.
        guard let user = try await store.user(tenant: tenant, id: id), user.email == address else { return nil }
        return user
    }

    /// A language mails can be written in, or the refusal naming those there are.
    static func checkLanguage(_ language: String) throws -> String {
        let supported = CatalogueTexts.bundled.supportedLanguages
        guard supported.contains(language) else {
            throw AdministrationError.invalid(
                "language", "unknown", "mails are written in \(supported.joined(separator: ", ")), not '\(language)'")
        }
        return language
    }

    /// Marks the token's address verified (one use); nil if the token is not usable.
    public func verifyEmail(tenant: TenantName, token: String) async throws -> User? {
        guard token.utf8.count <= 128,
            let value = try await store.takeState(kind: Self.emailVerificationKind, key: hasher.hash(token), now: time.now()),
            var user = try await verificationUser(value, tenant: tenant)
        else { return nil }
        let before = user
        user.emailVerified = true
        user.updatedAt = time.now()
        _ = try await store.updateUser(user)
        try await acting(as: AdminActor(kind: .user, id: user.id, tenant: tenant), traceID: traceID, source: source)
            .audit("user.email.verify", tenant: tenant, target: user.id, before: AuditView.user(before), after: AuditView.user(user))
        return user
    }

    /// Changes a user's address, display name or verified flag (each when given). A new address
    /// is unverified unless `emailVerified` says otherwise, and is mailed a verification link in
    /// the same transaction; an empty address removes it.
    public func updateUser(
        tenant: TenantName, user usernameOrID: String, email: String?? = nil, displayName: String? = nil, emailVerified: Bool? = nil,
        language: String? = nil
    ) async throws -> User {
        var user = try await findUser(tenant: tenant, usernameOrID)
        let before = user
        if let language { user.language = try Self.checkLanguage(language) }
        if let displayName {
            let trimmed = displayName.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, trimmed.count <= 256 else {
                throw AdministrationError.invalid("display_name", "length", "a display name is 1 to 256 characters")
            }
            user.displayName = trimmed
        }
        var addressChanged = false
        if let email {
            let address = email.flatMap { $0.isEmpty ? nil : $0.trimmingCharacters(in: .whitespaces) }
            if let address, User.signInEmail(address) == nil {
                throw AdministrationError.invalid("email", "format", "'\(address)' is not an email address (local-part@domain)")
            }
            if address?.lowercased() != user.email?.lowercased() || address != user.email {
                addressChanged = address?.lowercased() != user.email?.lowercased()
                user.email = address
                if addressChanged { user.emailVerified = false }
            }
        }
        if let emailVerified {
            guard user.email != nil || !emailVerified else {
                throw AdministrationError.invalid("email_verified", "no_email", "user '\(user.username)' has no email address to verify")
            }
            user.emailVerified = emailVerified
        }
        user.updatedAt = time.now()
        let changed = user
        let store = self.store
        let tenantName = try await store.tenant(named: tenant)?.displayName ?? tenant.value
        let mail = addressChanged && !changed.emailVerified
        do {
            try await store.atomically {
                guard try await store.updateUser(changed) else { throw AdministrationError.notFound("user", usernameOrID, tenant: tenant) }
                if mail { try await self.queueVerification(changed, tenantName: tenantName) }
            }
        } catch StoreError.conflict(StoreError.emailTaken) {
            throw Self.emailTaken(changed.email ?? "", tenant: tenant)
        }
        try await audit("user.update", tenant: tenant, target: user.id, before: AuditView.user(before), after: AuditView.user(user))
        return user
    }
}
