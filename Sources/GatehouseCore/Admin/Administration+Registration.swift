import Foundation

/// Self-registration (`/{tenant}/register`): off by default; where a tenant opens it, anyone may
/// create an account with an address of an allowed domain, which must be verified (the link
/// mailed at once) before the account signs in (`User.awaitsVerification`).
extension Administration {
    /// What a registration did. Where users sign in with their address, an address that is
    /// already an account's is answered like a new one (the page says "check your mail" either
    /// way), and its owner gets a mail saying so: the form does not tell who has an account.
    public enum RegistrationOutcome: Sendable, Equatable {
        case registered(userID: String)
        case addressTaken
    }

    /// Registers a user: the tenant's policy and domains first, then the fields (the password
    /// policy is the caller's to check first, in the page's language).
    public func register(
        tenant: Tenant, username typedName: String?, email typedEmail: String, displayName typedDisplayName: String, password: String,
        passwords: any PasswordHasher, language: String
    ) async throws -> RegistrationOutcome {
        guard tenant.registration == .open, let mailer else {
            throw CatalogueError(Catalogue.registrationClosed, detail: mailer == nil ? "no mail server configured" : "registration is off")
        }
        guard let address = User.signInEmail(typedEmail) else {
            throw CatalogueError(Catalogue.invalidParameterValue, ["name": "email"], detail: "not an email address")
        }
        let domain = EmailDomain.of(address: address)
        if !tenant.registrationDomains.isEmpty, !tenant.registrationDomains.contains(domain?.value ?? "") {
            throw CatalogueError(Catalogue.emailDomainNotAllowed, ["domain": domain?.value ?? "-"])
        }
        let displayName = typedDisplayName.trimmingCharacters(in: .whitespaces)
        guard (1...128).contains(displayName.count),
            !displayName.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw CatalogueError(Catalogue.invalidParameterValue, ["name": "display_name"], detail: "display name empty or too long")
        }
        // With email sign-in the address is the username; otherwise a username is asked for.
        let name: Username
        do { name = try Username(tenant.emailSignIn ? address : (typedName ?? "")) } catch {
            throw CatalogueError(Catalogue.invalidParameterValue, ["name": "username"], detail: "not a valid username")
        }
        if !tenant.emailSignIn, User.signInEmail(name.value) != nil || UUID(uuidString: name.value) != nil {
            // Nor a user ID: a name lookup (`findUser`) must never find this user for another's ID.
            throw CatalogueError(Catalogue.invalidParameterValue, ["name": "username"], detail: "a username may not be an address or an ID")
        }
        try Self.checkPassword(password)
        // Hashed on every path: the answer's timing does not tell whether the address is taken.
        let hash = try await passwords.hash(password)
        let now = time.now()
        if tenant.emailSignIn, let owner = try await store.user(tenant: tenant.name, signInName: address) {
            // A registration nobody verified yet is nobody's account: the newest registration
            // replaces it (password, name) and gets a new link, so that registering someone
            // else's address first takes nothing from them. The verification page asks for the
            // password, so a link opens the account only with the password its opener chose.
            if owner.awaitsVerification, owner.email == address {
                var replaced = owner
                replaced.passwordHash = hash
                replaced.displayName = displayName
                replaced.language = try? Self.checkLanguage(language)
                replaced.updatedAt = now
                let store = self.store
                let updated = replaced
                let won = try await store.atomically {
                    guard try await store.updateUser(updated, ifCredentialsOf: owner) else { return false }
                    try await self.queueVerification(updated, tenantName: tenant.displayName, brand: tenant.branding)
                    return true
                }
                // A parallel registration of the address replaced it first: this one answers the
                // same ("check your mail") and changes nothing; the newest registration's link counts.
                guard won else { return .registered(userID: owner.id) }
                try await acting(as: AdminActor(kind: .user, id: owner.id, tenant: tenant.name), traceID: traceID, source: source)
                    .audit("user.register.replace", tenant: tenant.name, target: owner.id, after: AuditView.user(updated))
                return .registered(userID: owner.id)
            }
            try await tellOwner(owner, tenant: tenant, address: address, mailer: mailer, now: now)
            return .addressTaken
        }
        let user = User(
            tenant: tenant.name, id: random.uuid().uuidString.lowercased(), username: name, email: address, displayName: displayName,
            passwordHash: hash, createdAt: now, updatedAt: now, emailVerified: false,
            language: try? Self.checkLanguage(language), selfRegistered: true)
        let store = self.store
        do {
            try await store.atomically {
                try await store.createUser(user)
                try await self.queueVerification(user, tenantName: tenant.displayName, brand: tenant.branding)
            }
        } catch StoreError.conflict(let what) {
            // Taken in the meantime, or (email sign-in off) the username is someone's.
            if tenant.emailSignIn, let owner = try await store.user(tenant: tenant.name, signInName: address) {
                try await tellOwner(owner, tenant: tenant, address: address, mailer: mailer, now: now)
                return .addressTaken
            }
            throw CatalogueError(Catalogue.usernameTaken, detail: "conflict: \(what)")
        }
        try await acting(as: AdminActor(kind: .user, id: user.id, tenant: tenant.name), traceID: traceID, source: source)
            .audit("user.register", tenant: tenant.name, target: user.id, after: AuditView.user(user))
        return .registered(userID: user.id)
    }

    /// Mails the owner of an address that someone tried to register again.
    private func tellOwner(_ owner: User, tenant: Tenant, address: String, mailer: AccountMailer, now: Date) async throws {
        let row = try mailer.compose(
            .accountChanged, to: address, user: owner, tenantName: tenant.displayName,
            link: mailer.link(.accountChanged, tenant: tenant.name, token: ""),
            language: owner.language ?? CatalogueTexts.defaultLanguage, change: "registration_attempt", brand: tenant.branding
        ).queued(id: random.uuid().uuidString.lowercased(), tenant: tenant.name.value, box: mailer.box, now: now)
        try await store.enqueue(row)
    }

    /// Sets who may register and with which domains, and the tenant's branding (nil leaves each
    /// as it is; an empty string clears a colour or contact).
    public func updateTenantProfile(
        tenant name: TenantName, registration: RegistrationPolicy? = nil, domains: [String]? = nil, displayName: String? = nil,
        primaryColor: String? = nil, supportContact: String? = nil, passkeyPolicy: PasskeyPolicy? = nil
    ) async throws -> Tenant {
        guard let before = try await store.tenant(named: name) else { throw AdministrationError.notFound("tenant", name.value) }
        var after = before
        if registration != nil || domains != nil {
            var parsed: [String] = []
            for raw in domains ?? before.registrationDomains {
                guard let domain = EmailDomain(raw) else {
                    throw AdministrationError.invalid("registration_domains", "format", "'\(raw)' is not a domain name (like example.com)")
                }
                if !parsed.contains(domain.value) { parsed.append(domain.value) }
            }
            guard parsed.count <= 50 else {
                throw AdministrationError.invalid("registration_domains", "count", "at most 50 registration domains")
            }
            after.registration = registration ?? before.registration
            after.registrationDomains = parsed
            _ = try await store.setRegistration(after.registration, domains: parsed, tenant: name)
        }
        if displayName != nil || primaryColor != nil || supportContact != nil {
            if let displayName {
                let trimmed = displayName.trimmingCharacters(in: .whitespaces)
                guard (1...200).contains(trimmed.count),
                    !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
                else {
                    throw AdministrationError.invalid(
                        "display_name", "format", "a display name has 1 to 200 characters, no control characters")
                }
                after.displayName = trimmed
            }
            if let primaryColor {
                if primaryColor.isEmpty {
                    after.branding.primaryColor = nil
                } else {
                    guard let color = TenantBranding.color(primaryColor) else {
                        throw AdministrationError.invalid("primary_color", "format", "'\(primaryColor)' is not a colour like #0a5fcc")
                    }
                    after.branding.primaryColor = color
                }
            }
            if let supportContact {
                if supportContact.isEmpty {
                    after.branding.supportContact = nil
                } else {
                    guard let contact = TenantBranding.supportContact(supportContact) else {
                        throw AdministrationError.invalid(
                            "support_contact", "format",
                            "a support contact is an email address or an https:// URL of at most 200 characters")
                    }
                    after.branding.supportContact = contact
                }
            }
            _ = try await store.setBranding(
                displayName: after.displayName, primaryColor: after.branding.primaryColor, supportContact: after.branding.supportContact,
                tenant: name)
        }
        if let passkeyPolicy {
            after.passkeyPolicy = passkeyPolicy
            _ = try await store.setPasskeyPolicy(passkeyPolicy, tenant: name)
        }
        try await audit("tenant.update", tenant: name, target: name.value, before: AuditView.tenant(before), after: AuditView.tenant(after))
        return after
    }

    /// Sets (or with nil removes) the tenant's logo: PNG or JPEG by its bytes, at most 100 KiB.
    public func setLogo(tenant name: TenantName, bytes: [UInt8]?) async throws -> Tenant {
        guard let before = try await store.tenant(named: name) else { throw AdministrationError.notFound("tenant", name.value) }
        var logo: TenantLogo?
        if let bytes {
            do { logo = try TenantLogo(bytes) } catch { throw AdministrationError.invalid("logo", "format", error.description) }
        }
        _ = try await store.setLogo(logo, tenant: name)
        var after = before
        after.branding.logoDigest = logo?.digest
        try await audit(
            logo == nil ? "tenant.logo.remove" : "tenant.logo.set", tenant: name, target: name.value,
            before: AuditView.keys(["logo_sha256": before.branding.logoDigest]), after: AuditView.keys(["logo_sha256": logo?.digest]))
        return after
    }
}
