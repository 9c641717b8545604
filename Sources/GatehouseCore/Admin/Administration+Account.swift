import Foundation

/// What a signed-in user changes about their own account on the account page (`/{tenant}/account`).
/// Each change is audited with the user as actor (`acting(as:)` with an `AdminActor` of kind
/// `.user`) and, when the user has an address and mail is configured, a notice is queued in the
/// outbox in the same transaction as the change.
extension Administration {
    /// The notice a change mails: `mail.notice.{rawValue}` is its sentence.
    public enum AccountChange: String, Sendable {
        case passwordChanged = "password"
        case secondFactorAdded = "second_factor_added"
        case secondFactorRemoved = "second_factor_removed"
        case recoveryCodesRenewed = "recovery_codes"
        case recoveryCodeUsed = "recovery_code_used"
        case sessionEnded = "session_ended"
        case consentWithdrawn = "consent_withdrawn"
        case passkeyAdded = "passkey_added"
        case passkeyRemoved = "passkey_removed"
    }

    /// How many wrong first codes one enrolment allows in a window of `enrolmentWindow`.
    public static let enrolmentAttempts = 5
    public static let enrolmentWindow: TimeInterval = 15 * 60

    /// A new TOTP secret: 20 characters from the base32 alphabet, the key being their UTF-8 bytes
    /// (HummingbirdOTP's convention; the `otpauth://` URI carries their base32 encoding).
    public func newTOTPSecret() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        return String(random.bytes(20).map { alphabet[Int($0 & 0x1f)] })
    }

    /// The notice row for `change`, if the user has an address and mail is configured.
    func notice(_ change: AccountChange, user: User, tenantName: String, now: Date, brand: TenantBranding = TenantBranding()) throws
        -> OutboxMessage?
    {
        guard let mailer, let address = user.email, User.signInEmail(address) != nil else { return nil }
        return try mailer.compose(
            .accountChanged, to: address, user: user, tenantName: tenantName,
            link: mailer.link(.accountChanged, tenant: user.tenant, token: ""),
            language: user.language ?? CatalogueTexts.defaultLanguage, change: change.rawValue, brand: brand
        ).queued(id: random.uuid().uuidString.lowercased(), tenant: user.tenant.value, box: mailer.box, now: now)
    }

    /// Queues the notice of a change that is already stored (nothing else to make atomic with it).
    public func notify(_ change: AccountChange, user: User, tenantName: String) async throws {
        if let row = try notice(change, user: user, tenantName: tenantName, now: time.now()) { try await store.enqueue(row) }
    }

    /// The refusal of a change to a user who changed meanwhile (an administrator disabled them,
    /// another change landed first): nothing was written.
    static func changedMeanwhile(_ user: User) -> CatalogueError {
        CatalogueError(
            Catalogue.adminConflict, ["reason": "the account changed meanwhile; reload the page and try again"],
            detail: "user \(user.id) changed since it was read")
    }

    /// Writes a credential change that ends every browser session of the user and revokes their
    /// grants, only while the user is enabled with `read`'s password and second factor; with its notice.
    /// The caller starts a new session for the browser that made the change.
    private func saveCredentialChange(_ changed: User, read: User, notice row: OutboxMessage?) async throws {
        let store = self.store
        try await store.atomically {
            guard try await store.updateUser(changed, ifCredentialsOf: read) else { throw Self.changedMeanwhile(changed) }
            _ = try await store.revokeGrants(tenant: changed.tenant, userID: changed.id, now: changed.updatedAt)
            _ = try await store.endSessions(tenant: changed.tenant.value, userID: changed.id, sid: nil)
            try await BackchannelLogout.queue(
                tenant: changed.tenant.value, userID: changed.id, sid: nil, reason: .credentials, in: store, now: changed.updatedAt,
                random: random)
            if let row { try await store.enqueue(row) }
        }
    }

    /// The user's own password change. The current password is checked by `signIn` (counted
    /// against the account's lock like any sign-in); the new one meets the same policy as
    /// everywhere. As an administrator's reset does, it ends every session (`sessionsValidAfter`:
    /// familiar-device cookies and reset links mailed before stop counting too) and revokes the
    /// user's grants; the route signs the browser that made the change in again.
    public func changeOwnPassword(tenant: Tenant, user: User, current: String, new: String, signIn: PasswordSignIn) async throws -> User {
        try Self.checkPassword(new)
        let checked = try await signIn.verify(tenant: tenant.name, username: user.username.value, password: current)
        guard checked.id == user.id else { throw CatalogueError(Catalogue.invalidUserNameOrPassword, detail: "password of another user") }
        var changed = checked
        changed.passwordHash = try await signIn.passwords.hash(new)
        let now = time.now()
        changed.updatedAt = now
        changed.sessionsValidAfter = now
        try await saveCredentialChange(
            changed, read: checked,
            notice: try notice(.passwordChanged, user: changed, tenantName: tenant.displayName, now: now, brand: tenant.branding))
        // The right password was given: the account's failure count starts again.
        try await store.clearSignInFailures(key: PasswordSignIn.lockKey(tenant: tenant.name, user: changed, device: nil))
        try await audit("user.password.change", tenant: tenant.name, target: user.id, after: AuditView.user(changed))
        return changed
    }

    /// Confirms a TOTP enrolment with the first code from the app: the secret is stored (sealed)
    /// and ten recovery codes are made, which are returned to be shown once. At most
    /// `enrolmentAttempts` codes per user in `enrolmentWindow` (counted before the check, so a
    /// burst gets no more). A user who has a second factor already is refused (remove it first).
    public func confirmTOTPEnrolment(
        tenant: Tenant, user: User, secret: String, code: String, generator: any TOTPGenerator, box: SecretBox
    ) async throws -> [String] {
        guard user.sealedTOTPSecret == nil else {
            throw CatalogueError(Catalogue.secondFactorAlreadyEnrolled, detail: "user \(user.id) has a second factor")
        }
        let now = time.now()
        let attempt = try await store.countSignInAttempt(
            key: "totp-enrolment \(user.tenant.value) \(user.id)", limit: Self.enrolmentAttempts, now: now,
            resetBefore: now.addingTimeInterval(-Self.enrolmentWindow))
        guard attempt <= Self.enrolmentAttempts else {
            throw CatalogueError(Catalogue.tooManyVerificationCodes, detail: "more than \(Self.enrolmentAttempts) enrolment codes")
        }
        let typed = Array(code.filter { !$0.isWhitespace }.utf8)
        let matches = [0, -30, 30].map { generator.code(secret: secret, at: now.addingTimeInterval($0)) }
            .reduce(false) { found, expected in constantTimeEquals(Array(expected.utf8), typed) || found }
        guard matches else { throw CatalogueError(Catalogue.invalidVerificationCode, detail: "enrolment code mismatch") }
        try await store.clearSignInFailures(key: "totp-enrolment \(user.tenant.value) \(user.id)")
        var changed = user
        changed.sealedTOTPSecret = try box.seal(secret)
        changed.updatedAt = now
        let codes = RecoveryCodes.generate(random)
        let hashes = codes.compactMap(RecoveryCodes.normalize).map { RecoveryCodes.hash($0, user: user, hasher: hasher) }
        let row = try notice(.secondFactorAdded, user: changed, tenantName: tenant.displayName, now: now, brand: tenant.branding)
        let store = self.store
        let updated = changed
        try await store.atomically {
            guard try await store.updateUser(updated, ifCredentialsOf: user) else { throw Self.changedMeanwhile(user) }
            try await store.replaceRecoveryCodes(tenant: updated.tenant, userID: updated.id, hashes: hashes, now: now)
            if let row { try await store.enqueue(row) }
        }
        try await audit("user.second_factor.enroll", tenant: tenant.name, target: user.id, after: AuditView.user(changed))
        return codes
    }

    /// A new set of recovery codes (the old ones stop working); only with a second factor.
    public func renewRecoveryCodes(tenant: Tenant, user: User) async throws -> [String] {
        guard user.sealedTOTPSecret != nil else {
            throw CatalogueError(Catalogue.secondFactorNotEnrolled, detail: "recovery codes without a second factor")
        }
        let now = time.now()
        let codes = RecoveryCodes.generate(random)
        let hashes = codes.compactMap(RecoveryCodes.normalize).map { RecoveryCodes.hash($0, user: user, hasher: hasher) }
        let row = try notice(.recoveryCodesRenewed, user: user, tenantName: tenant.displayName, now: now, brand: tenant.branding)
        let store = self.store
        try await store.atomically {
            try await store.replaceRecoveryCodes(tenant: user.tenant, userID: user.id, hashes: hashes, now: now)
            if let row { try await store.enqueue(row) }
        }
        try await audit(
            "user.recovery_codes.renew", tenant: tenant.name, target: user.id, after: AuditView.keys(["count": String(codes.count)]))
        return codes
    }

    /// The user removes their own second factor (the page asks for a fresh sign-in first): the
    /// recovery codes go with it, every session ends and the grants are revoked, as when an
    /// administrator removes it; the route signs the browser that made the change in again.
    public func removeOwnSecondFactor(tenant: Tenant, user: User) async throws -> User {
        guard user.sealedTOTPSecret != nil else {
            throw CatalogueError(Catalogue.secondFactorNotEnrolled, detail: "no second factor to remove")
        }
        let now = time.now()
        var changed = user
        changed.sealedTOTPSecret = nil
        changed.updatedAt = now
        changed.sessionsValidAfter = now
        try await saveCredentialChange(
            changed, read: user,
            notice: try notice(.secondFactorRemoved, user: changed, tenantName: tenant.displayName, now: now, brand: tenant.branding))
        try await store.replaceRecoveryCodes(tenant: changed.tenant, userID: changed.id, hashes: [], now: now)
        try await audit("user.second_factor.remove", tenant: tenant.name, target: user.id, after: AuditView.user(changed))
        return changed
    }

    /// The user ends one of their sessions (`sid`), or all (nil: as an administrator's "end all",
    /// it also revokes the user's grants). By the user's record, never a name lookup. Returns how
    /// many ended (0: that session had ended already).
    public func endOwnSessions(user: User, sid: String?) async throws -> Int {
        var changed = user
        let ended = try await store.endSessions(tenant: user.tenant.value, userID: user.id, sid: sid)
        if sid == nil {
            changed.updatedAt = time.now()
            changed.sessionsValidAfter = changed.updatedAt
            _ = try await store.updateUser(changed, ifCredentialsOf: user)
            _ = try await store.revokeGrants(tenant: user.tenant, userID: user.id, now: changed.updatedAt)
        }
        try await BackchannelLogout.queue(
            tenant: user.tenant.value, userID: user.id, sid: sid, reason: .account, in: store, now: time.now(), random: random)
        try await audit(
            sid == nil ? "user.sessions.end" : "user.session.end", tenant: user.tenant, target: user.id,
            before: AuditView.keys(["sid": sid, "ended": String(ended)]))
        return ended
    }

    /// The user withdraws their consent to a client: the consent goes and the client's grants for
    /// the user are revoked. Returns how many grants were revoked, or nil when there was nothing
    /// to withdraw (not an error here: the page shows the list as it is).
    @discardableResult
    public func withdrawOwnConsent(user: User, client clientID: ClientID) async throws -> Int? {
        let now = time.now()
        let consent = try await store.consent(tenant: user.tenant.value, userID: user.id, clientID: clientID.value, now: now)
        let removed = try await store.deleteConsent(tenant: user.tenant.value, userID: user.id, clientID: clientID.value)
        let revoked = try await store.revokeGrants(tenant: user.tenant, userID: user.id, clientID: clientID, now: now)
        guard removed || revoked > 0 else { return nil }
        try await audit(
            "user.consent.revoke", tenant: user.tenant, target: user.id,
            before: AuditView.keys(["client_id": clientID.value, "scope": consent?.scope.description]),
            after: AuditView.keys(["revoked_grants": String(revoked)]))
        return revoked
    }

    /// Records that a recovery code was used at sign-in (already used up by then) and tells the user.
    public func recoveryCodeUsed(user: User, left: Int, tenantName: String) async throws {
        try await audit("user.recovery_code.use", tenant: user.tenant, target: user.id, after: AuditView.keys(["left": String(left)]))
        try await notify(.recoveryCodeUsed, user: user, tenantName: tenantName)
    }
}
