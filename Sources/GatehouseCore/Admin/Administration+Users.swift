import Foundation

extension Administration {
    /// Passwords shorter than this are refused (NIST SP 800-63B §5.1.1.2).
    public static let minimumPasswordLength = 8

    public func createUser(
        tenant: TenantName, username: String, email: String?, displayName: String?, password: String,
        passwords: any PasswordHasher, emailVerified: Bool = false, language: String? = nil
    ) async throws -> User {
        let language = try language.map(Self.checkLanguage)
        guard let record = try await store.tenant(named: tenant) else { throw AdministrationError.notFound("tenant", tenant.value) }
        let name: Username
        do { name = try Username(username) } catch {
            throw AdministrationError.invalid("username", "format", "'\(username)' is not a valid username")
        }
        try Self.checkPassword(password)
        if let email, User.signInEmail(email) == nil {
            throw AdministrationError.invalid("email", "format", "'\(email)' is not an email address (local-part@domain)")
        }
        // One sign-in name, one user: where users sign in with their address, a username may not
        // be another user's address, nor an address another user's username.
        if try await store.tenant(named: tenant)?.emailSignIn == true {
            if let address = User.signInEmail(username), try await store.user(tenant: tenant, signInEmail: address) != nil {
                throw AdministrationError.conflict(
                    "username", "'\(username)' is another user's email address, with which they sign in to tenant '\(tenant)'")
            }
            if let email, let asName = try? Username(email), try await store.user(tenant: tenant, username: asName) != nil {
                throw Self.emailTaken(email, tenant: tenant)
            }
        }
        let now = time.now()
        let user = User(
            tenant: tenant, id: random.uuid().uuidString.lowercased(), username: name, email: email, displayName: displayName ?? username,
            passwordHash: try await passwords.hash(password), createdAt: now, updatedAt: now, emailVerified: email != nil && emailVerified,
            language: language)
        // Where the tenant asks for it, the new address is mailed a link, in the same transaction.
        let mail = record.verifyEmail && email != nil && !user.emailVerified
        let store = self.store
        do {
            try await store.atomically {
                try await store.createUser(user)
                if mail { try await self.queueVerification(user, tenantName: record.displayName, brand: record.branding) }
            }
        } catch StoreError.conflict(StoreError.emailTaken) {
            throw Self.emailTaken(email ?? "", tenant: tenant)
        } catch StoreError.conflict {
            throw AdministrationError.conflict("username", "a user named '\(username)' exists in tenant '\(tenant)'")
        }
        try await audit("user.create", tenant: tenant, target: user.id, after: AuditView.user(user))
        return user
    }

    /// While a tenant lets users sign in with their email address, an address is one user's.
    static func emailTaken(_ email: String, tenant: TenantName) -> AdministrationError {
        .conflict(
            "email",
            "another user of tenant '\(tenant)' signs in with '\(email)' (as their email address or username: users sign in "
                + "there with either; turn email sign-in off with: tenants set \(tenant) --email-sign-in off)")
    }

    public func findUser(tenant: TenantName, _ usernameOrID: String) async throws -> User {
        if let name = try? Username(usernameOrID), let user = try await store.user(tenant: tenant, username: name) { return user }
        if let user = try await store.user(tenant: tenant, id: usernameOrID.lowercased()) { return user }
        throw AdministrationError.notFound("user", usernameOrID, tenant: tenant)
    }

    /// Disabling a user also ends their sessions and revokes their grants (`saveEndingSessions`).
    public func setEnabled(tenant: TenantName, user usernameOrID: String, enabled: Bool) async throws -> User {
        var user = try await findUser(tenant: tenant, usernameOrID)
        let before = user
        user.enabled = enabled
        user.updatedAt = time.now()
        if enabled {
            _ = try await store.updateUser(user)
            // Enabled again from a clean slate: failures counted while disabled do not lock it.
            try await store.clearSignInFailures(key: PasswordSignIn.lockKey(tenant: tenant, user: user, device: nil))
        } else {
            try await saveEndingSessions(&user, reason: .administrator)
        }
        try await audit(
            enabled ? "user.enable" : "user.disable", tenant: tenant, target: user.id, before: AuditView.user(before),
            after: AuditView.user(user))
        return user
    }

    /// Saves a credential change that ends the user's browser sessions (those begun before now
    /// are no longer honoured) and revokes every grant of the user (refresh tokens at once,
    /// access tokens at introspection and userinfo). Returns how many grants were revoked.
    /// The relying parties that took part in any of the sessions are sent logout tokens
    /// (`BackchannelLogout`).
    @discardableResult
    func saveEndingSessions(_ user: inout User, reason: LogoutReason = .credentials) async throws -> Int {
        user.sessionsValidAfter = user.updatedAt
        _ = try await store.updateUser(user)
        try await BackchannelLogout.queue(
            tenant: user.tenant.value, userID: user.id, sid: nil, reason: reason, in: store, now: user.updatedAt, random: random)
        return try await store.revokeGrants(tenant: user.tenant, userID: user.id, now: user.updatedAt)
    }

    public func setPassword(tenant: TenantName, user usernameOrID: String, password: String, passwords: any PasswordHasher) async throws
        -> User
    {
        try Self.checkPassword(password)
        var user = try await findUser(tenant: tenant, usernameOrID)
        user.passwordHash = try await passwords.hash(password)
        user.updatedAt = time.now()
        try await saveEndingSessions(&user)
        // A new password unlocks the account (for strangers; familiar devices keep their own counts).
        try await store.clearSignInFailures(
            key: PasswordSignIn.lockKey(tenant: tenant, user: user, device: nil))
        try await audit("user.password.reset", tenant: tenant, target: user.id, after: AuditView.user(user))
        return user
    }

    /// Unlocks a user locked out by failed sign-ins (50053): their failure count from unfamiliar
    /// browsers starts again (a browser they signed in with before keeps its own count).
    public func unlockUser(tenant: TenantName, user usernameOrID: String) async throws -> User {
        let user = try await findUser(tenant: tenant, usernameOrID)
        try await store.clearSignInFailures(key: PasswordSignIn.lockKey(tenant: tenant, user: user, device: nil))
        try await audit("user.unlock", tenant: tenant, target: user.id, after: AuditView.user(user))
        return user
    }

    /// Removes the user's second factor; like a new password, it ends the user's sessions and
    /// revokes their grants. Returns the user and how many grants were revoked.
    public func removeTOTP(tenant: TenantName, user usernameOrID: String) async throws -> (User, revokedGrants: Int) {
        var user = try await findUser(tenant: tenant, usernameOrID)
        guard user.sealedTOTPSecret != nil else { throw AdministrationError.conflict(nil, "user '\(user.username)' has no second factor") }
        user.sealedTOTPSecret = nil
        user.updatedAt = time.now()
        let revoked = try await saveEndingSessions(&user)
        try await store.replaceRecoveryCodes(tenant: tenant, userID: user.id, hashes: [], now: user.updatedAt)
        try await audit("user.second_factor.remove", tenant: tenant, target: user.id, after: AuditView.user(user))
        return (user, revoked)
    }

    /// Enrolls (or replaces) a TOTP second factor; returns the new secret for the authenticator app.
    public func enrollTOTP(tenant: TenantName, user usernameOrID: String, box: SecretBox) async throws -> (User, secret: String) {
        var user = try await findUser(tenant: tenant, usernameOrID)
        let secret = newTOTPSecret()
        user.sealedTOTPSecret = try box.seal(secret)
        user.updatedAt = time.now()
        _ = try await store.updateUser(user)
        // Recovery codes of a replaced second factor stop working; the user makes new ones on the account page.
        try await store.replaceRecoveryCodes(tenant: tenant, userID: user.id, hashes: [], now: user.updatedAt)
        try await audit("user.second_factor.enroll", tenant: tenant, target: user.id, after: AuditView.user(user))
        return (user, secret)
    }

    /// Gives a user an application role of an API (delegated tokens for the API carry it in `roles`).
    public func assignRole(tenant: TenantName, user usernameOrID: String, api idOrIdentifier: String, role: String) async throws
        -> RoleAssignment
    {
        let user = try await findUser(tenant: tenant, usernameOrID)
        let api = try await api(tenant: tenant, idOrIdentifier)
        guard api.role(role) != nil else {
            throw AdministrationError.invalid("role", "unknown", "API '\(api.applicationID)' defines no role '\(role)'")
        }
        let assignment = RoleAssignment(tenant: tenant, userID: user.id, api: api.applicationID, role: role)
        if try await store.assignRole(assignment) {
            try await audit("user.role.assign", tenant: tenant, target: user.id, after: AuditView.assignment(assignment))
        }
        return assignment
    }

    /// Takes an application role from a user; not-found if the user did not hold it.
    public func unassignRole(tenant: TenantName, user usernameOrID: String, api idOrIdentifier: String, role: String) async throws {
        let user = try await findUser(tenant: tenant, usernameOrID)
        let api = try await api(tenant: tenant, idOrIdentifier)
        let assignment = RoleAssignment(tenant: tenant, userID: user.id, api: api.applicationID, role: role)
        guard try await store.unassignRole(assignment) else {
            throw AdministrationError.notFound("role assignment", "\(role) of \(api.applicationID) to \(user.username)", tenant: tenant)
        }
        try await audit("user.role.unassign", tenant: tenant, target: user.id, before: AuditView.assignment(assignment))
    }

    public static func checkPassword(_ password: String) throws {
        guard password.count >= minimumPasswordLength else {
            throw AdministrationError.invalid("password", "length", "passwords need at least \(minimumPasswordLength) characters")
        }
        guard password.utf8.count <= 72 else {
            throw AdministrationError.invalid("password", "length", "bcrypt uses at most 72 bytes of a password")
        }
    }
}

/// A user's browser sessions and consents, for an administrator.
extension Administration {
    /// The user's sessions that are still honoured (not begun before a password reset, a disable
    /// or a removed second factor).
    public func sessions(tenant: TenantName, user usernameOrID: String) async throws -> [BrowserSession] {
        let user = try await findUser(tenant: tenant, usernameOrID)
        return try await store.sessions(tenant: tenant.value, userID: user.id, now: time.now()).filter {
            user.honours(sessionStartedAt: $0.authTime)
        }
    }

    /// Ends the user's session `sid`, or every one (nil); not-found for a `sid` the user does not
    /// have. Ending every session also revokes the user's grants (their refresh tokens, and access
    /// tokens at introspection and userinfo), as a password reset does: what an administrator
    /// answering a stolen session needs. Ending one leaves the grants.
    public func endSessions(tenant: TenantName, user usernameOrID: String, sid: String?) async throws -> Int {
        var user = try await findUser(tenant: tenant, usernameOrID)
        let ended = try await store.endSessions(tenant: tenant.value, userID: user.id, sid: sid)
        if let sid, ended == 0 { throw AdministrationError.notFound("session", sid, tenant: tenant) }
        if sid == nil {
            user.updatedAt = time.now()
            try await saveEndingSessions(&user, reason: .administrator)
        } else {
            try await BackchannelLogout.queue(
                tenant: tenant.value, userID: user.id, sid: sid, reason: .administrator, in: store, now: time.now(), random: random)
        }
        try await audit(
            sid == nil ? "user.sessions.end" : "user.session.end", tenant: tenant, target: user.id,
            before: AuditView.keys(["sid": sid, "ended": String(ended)]))
        return ended
    }

    public func consents(tenant: TenantName, user usernameOrID: String) async throws -> [Consent] {
        let user = try await findUser(tenant: tenant, usernameOrID)
        return try await store.consents(tenant: tenant.value, userID: user.id, now: time.now())
    }

    /// Withdraws the user's consent to a client and revokes the client's grants for the user;
    /// not-found when there is neither. Returns how many grants were revoked.
    @discardableResult
    public func revokeConsent(tenant: TenantName, user usernameOrID: String, client clientID: ClientID) async throws -> Int {
        let user = try await findUser(tenant: tenant, usernameOrID)
        let now = time.now()
        let consent = try await store.consent(tenant: tenant.value, userID: user.id, clientID: clientID.value, now: now)
        let removed = try await store.deleteConsent(tenant: tenant.value, userID: user.id, clientID: clientID.value)
        let revoked = try await store.revokeGrants(tenant: tenant, userID: user.id, clientID: clientID, now: now)
        guard removed || revoked > 0 else { throw AdministrationError.notFound("consent", clientID.value, tenant: tenant) }
        try await audit(
            "user.consent.revoke", tenant: tenant, target: user.id,
            before: AuditView.keys(["client_id": clientID.value, "scope": consent?.scope.description]),
            after: AuditView.keys(["revoked_grants": String(revoked)]))
        return revoked
    }
}
