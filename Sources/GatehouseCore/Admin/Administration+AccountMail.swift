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
    /// `admitAccount` is asked once per request with the account's key (its user ID, or the
    /// typed name when there is no such user); false (the per-account limit) sends nothing, in the
    /// same way.
    public func requestPasswordReset(
        tenant: Tenant, name: String, language: String, admitAccount: @Sendable (String) -> Bool = { _ in true }
    ) async throws -> ResetRequestOutcome {
        let typed = String(name.prefix(256))
        let user = try await store.user(tenant: tenant.name, signInName: typed)
        let admitted = admitAccount(user?.id ?? typed.lowercased())
        let outcome: ResetRequestOutcome
        switch user {
        case nil: outcome = .unknownAccount
        case let user? where !user.enabled: outcome = .disabled
        case let user? where user.email.flatMap(User.signInEmail) == nil: outcome = .noEmail
        case let user? where !user.emailVerified: outcome = .unverifiedEmail
        case _ where !admitted: outcome = .limited
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
                tenant: tenant.name, id: "-", username: (try? Username(typed)) ?? Self.standIn, email: "nobody@invalid",
                displayName: typed, passwordHash: "", createdAt: now, updatedAt: now)
        let address = recipient.email ?? "nobody@invalid"
        let composed = try mailer.compose(
            .passwordReset, to: address, user: recipient, tenantName: tenant.displayName,
            link: mailer.link(.passwordReset, tenant: tenant.name, token: token), language: mailed?.language ?? language,
            brand: tenant.branding
        ).queued(id: id, tenant: tenant.name.value, box: mailer.box, now: now)
        let row = mailed == nil ? composed.unsent : composed
        // The link is for this user at this address, issued now (rounded up: a password set in
        // the same instant as the request does not void its link).
        let value = ResetLink(userID: mailed?.id ?? "-", issuedAt: now, address: address).value
        let store = self.store
        let key = hasher.hash(token)
        try await store.atomically {
            try await store.putState(
                kind: Self.passwordResetKind, key: key, value: value, expiresAt: now.addingTimeInterval(Self.passwordResetLifetime))
            try await store.enqueue(row)
        }
        return outcome
    }

    /// What a reset token's state holds: whose link, mailed when, to which address.
    struct ResetLink {
        let userID: String
        let issuedMillis: Int64
        let address: String

        init(userID: String, issuedAt: Date, address: String) {
            self.userID = userID
            self.issuedMillis = Int64((issuedAt.timeIntervalSince1970 * 1000).rounded(.up))
            self.address = address
        }

        init?(_ value: String) {
            let parts = value.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, parts[0] != "-", let millis = Int64(parts[1]) else { return nil }
            (userID, issuedMillis, address) = (parts[0], millis, parts[2])
        }

        var value: String { "\(userID)|\(issuedMillis)|\(address)" }
        var issuedAt: Date { Date(timeIntervalSince1970: Double(issuedMillis) / 1000) }
    }

    /// The user a reset token is for, while it is unused, unexpired and not superseded (the
    /// password changed since it was issued, the address changed or is no longer verified, the
    /// user was disabled); nothing is consumed (the page with the form).
    public func passwordResetUser(tenant: TenantName, token: String) async throws -> User? {
        guard token.utf8.count <= 128,
            let value = try await store.state(kind: Self.passwordResetKind, key: hasher.hash(token), now: time.now()),
            let link = ResetLink(value)
        else { return nil }
        return try await resetUser(link, tenant: tenant)
    }

    private func resetUser(_ link: ResetLink, tenant: TenantName) async throws -> User? {
        guard let user = try await store.user(tenant: tenant, id: link.userID), user.enabled, user.email == link.address,
            user.emailVerified
        else { return nil }
        // A password set after the link was mailed (another link, an operator) voids it.
        if let valid = user.sessionsValidAfter, valid > link.issuedAt { return nil }
        return user
    }

    /// Sets the new password of the reset token's user: the password policy first (a refused
    /// password leaves the link usable), then the token is taken (one use, whoever is first) and,
    /// in the same transaction, the password set by one conditional update that writes nothing
    /// else of the user (`UserStore.resetPassword`: still enabled, same verified address, no
    /// credential change since the link was mailed), every session ended, every grant revoked,
    /// the lock cleared, and a notice mailed to the account's address. Nil if the token is not usable.
    public func completePasswordReset(
        tenant: Tenant, token: String, password: String, passwords: any PasswordHasher, language: String
    ) async throws -> User? {
        try Self.checkPassword(password)
        guard token.utf8.count <= 128 else { return nil }
        let store = self.store
        let now = time.now()
        let key = hasher.hash(token)
        guard let peek = try await store.state(kind: Self.passwordResetKind, key: key, now: now), let link = ResetLink(peek),
            let user = try await resetUser(link, tenant: tenant.name)
        else { return nil }
        // Hashed only for a usable link: a made-up token costs no bcrypt.
        let hash = try await passwords.hash(password)
        var notice: OutboxMessage?
        if let mailer {
            notice = try mailer.compose(
                .passwordChanged, to: link.address, user: user, tenantName: tenant.displayName,
                link: mailer.link(.passwordChanged, tenant: tenant.name, token: ""), language: user.language ?? language,
                brand: tenant.branding
            ).queued(id: random.uuid().uuidString.lowercased(), tenant: tenant.name.value, box: mailer.box, now: now)
        }
        let queued = notice
        let lockKey = PasswordSignIn.lockKey(tenant: tenant.name, user: user, device: nil)
        let (tenantName, userID) = (tenant.name, user.id)
        let done = try await store.atomically { () -> Bool in
            // Taken inside the change: of two uses at once, one takes it and the other finds nothing.
            guard try await store.takeState(kind: Self.passwordResetKind, key: key, now: now) == peek,
                try await store.resetPassword(
                    tenant: tenantName, id: userID, passwordHash: hash, address: link.address, issuedAt: link.issuedAt, now: now)
            else { return false }
            try await store.revokeGrants(tenant: tenantName, userID: userID, now: now)
            try await BackchannelLogout.queue(
                tenant: tenantName.value, userID: userID, sid: nil, reason: .credentials, in: store, now: now, random: random)
            try await store.clearSignInFailures(key: lockKey)
            if let queued { try await store.enqueue(queued) }
            return true
        }
        guard done, let changed = try await store.user(tenant: tenantName, id: userID) else { return nil }
        try await acting(as: AdminActor(kind: .user, id: userID, tenant: tenantName), traceID: traceID, source: source)
            .audit("user.password.reset_by_mail", tenant: tenantName, target: userID, after: AuditView.user(changed))
        return changed
    }

    /// Queues a verification link for the user's current address (the caller's transaction, if
    /// any, includes it). Nothing without an address or a mailer.
    func queueVerification(_ user: User, tenantName: String, brand: TenantBranding = TenantBranding()) async throws {
        guard let mailer, let address = user.email, User.signInEmail(address) != nil else { return }
        let now = time.now()
        let token = random.token(byteCount: 32)
        let row = try mailer.compose(
            .verifyEmail, to: address, user: user, tenantName: tenantName,
            link: mailer.link(.verifyEmail, tenant: user.tenant, token: token),
            language: user.language ?? CatalogueTexts.defaultLanguage, brand: brand
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
            let before = try await verificationUser(value, tenant: tenant), let address = before.email,
            try await store.markEmailVerified(tenant: tenant, id: before.id, address: address, now: time.now()),
            let user = try await store.user(tenant: tenant, id: before.id)
        else { return nil }
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
