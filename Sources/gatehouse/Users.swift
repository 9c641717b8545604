import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseServer

struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the users who sign in to a tenant.",
        subcommands: [
            Create.self, List.self, Update.self, Disable.self, Enable.self, Unlock.self, SetPassword.self, EnrollTOTP.self, RemoveTOTP.self,
            AssignRole.self,
            UnassignRole.self, Passkeys.self, RemovePasskey.self,
        ])

    /// The password from --password, or one line of standard input with --password-stdin.
    struct PasswordOptions: ParsableArguments {
        @Option(help: "The password (visible to other local users in the process list; prefer --password-stdin).") var password: String?
        @Flag(name: .customLong("password-stdin"), help: "Read the password from the first line of standard input.") var passwordStdin =
            false

        func read() throws -> String {
            if passwordStdin {
                guard let line = readLine(strippingNewline: true) else { throw CLIError("no password on standard input") }
                return line
            }
            guard let password else { throw CLIError("give --password or --password-stdin") }
            return password
        }
    }

    static func hasher(_ settings: Settings) -> BcryptPasswordHasher {
        BcryptPasswordHasher(cost: settings.serverConfiguration().passwordHashCost)
    }

    static func setEnabled(_ enabled: Bool, tenant: String, user: String, global: GlobalOptions) async throws {
        let tenantName = try parseTenant(tenant)
        try await withAdministration(global) { admin, _ in
            let updated = try await admin.setEnabled(tenant: tenantName, user: user, enabled: enabled)
            try report(global, Users.json(updated), "\(enabled ? "Enabled" : "Disabled") \(updated.username)")
        }
    }

    /// A user as `--json` prints it (no password hash, no second-factor secret).
    static func json(_ user: User) -> [String: Any] {
        [
            "id": user.id, "tenant": user.tenant.value, "username": user.username.value, "email": user.email ?? NSNull(),
            "email_verified": user.emailVerified, "language": user.language ?? NSNull(), "display_name": user.displayName,
            "enabled": user.enabled,
            "totp": user.sealedTOTPSecret != nil,
            "created_at": printedTime(user.createdAt), "updated_at": printedTime(user.updatedAt),
        ]
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "The username (unique in the tenant; compared without case).") var username: String?
        @Option(name: .customLong("username"), help: .hidden) var legacyUsername: String?
        @Option(help: "The user's email address (where the tenant allows it, also a sign-in name).") var email: String?
        @Option(name: .customLong("display-name"), help: "The name shown on pages (default: the name).") var displayName: String?
        @Flag(
            name: .customLong("email-verified"),
            help: "The address is known to be the user's: no verification mail, and email_verified is true at once.")
        var emailVerified = false
        @Option(help: "The language of the user's mails: en or vi (default: the language of their last sign-in page, else en).")
        var language: String?
        @OptionGroup var passwordOptions: PasswordOptions
        var json: Bool { global.json }

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            let username = try positional(
                username, legacy: legacyUsername, "username", usage: "gatehouse users create --tenant \(tenant) USERNAME --password-stdin")
            let password = try passwordOptions.read()
            try await withAdministration(global) { admin, settings in
                let user = try await admin.createUser(
                    tenant: tenantName, username: username, email: email, displayName: displayName,
                    password: password, passwords: Users.hasher(settings), emailVerified: emailVerified,
                    language: language)
                if json {
                    try printJSON(Users.json(user))
                } else {
                    print("User ID:  \(user.id)")
                    print("Username: \(user.username)")
                }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Change a user's email address, display name or verified flag.",
            discussion: """
                A new address is unverified (email_verified false) until the user opens the verification link mailed to it, \
                unless --email-verified says it is the user's. --email '' removes the address.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "The username or user ID.") var user: String
        @Option(help: "The new email address ('' removes it).") var email: String?
        @Option(name: .customLong("display-name"), help: "The name shown on pages.") var displayName: String?
        @Flag(
            name: .customLong("email-verified"), inversion: .prefixedNo,
            help: "Mark the address verified (or, with --no-email-verified, unverified) without a mail.")
        var emailVerified: Bool?
        @Option(help: "The language of the user's mails: en or vi.") var language: String?

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            guard email != nil || displayName != nil || emailVerified != nil || language != nil else {
                throw CLIError("nothing to set: give --email, --display-name, --email-verified or --language")
            }
            try await withAdministration(global) { admin, settings in
                let before = try await admin.findUser(tenant: tenantName, user)
                let updated = try await admin.updateUser(
                    tenant: tenantName, user: user, email: email.map { $0.isEmpty ? nil : $0 }, displayName: displayName,
                    emailVerified: emailVerified, language: language)
                var lines = ["Updated \(updated.username)"]
                if updated.email != before.email {
                    lines.append(updated.email.map { "email \($0)" } ?? "email removed")
                    if updated.email != nil && !updated.emailVerified {
                        settings.warnIfBaseURLAssumed()
                        lines.append(
                            "a verification link is queued for \(updated.email ?? ""); email_verified stays false until it is used")
                    }
                }
                if updated.emailVerified != before.emailVerified || emailVerified != nil {
                    lines.append("email_verified \(updated.emailVerified)")
                }
                try report(global, Users.json(updated), lines.joined(separator: "\n"))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's users.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        var json: Bool { global.json }

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, settings in
                _ = try await admin.tenant(tenantName)
                let users = try await admin.store.users(tenant: tenantName)
                if json {
                    try printJSON(users.map(Users.json))
                    return
                }
                // Locked: as many counted failures as the threshold within the lockout (from unfamiliar browsers).
                let configuration = settings.serverConfiguration().signIn
                let since = Date().addingTimeInterval(-configuration.lockoutDuration)
                var rows: [[String]] = []
                for user in users {
                    let failures = try await admin.store.signInFailures(
                        key: PasswordSignIn.lockKey(tenant: tenantName, user: user, device: nil), since: since)
                    rows.append([
                        user.username.value, user.enabled ? "yes" : "no", failures >= configuration.lockoutThreshold ? "yes" : "no",
                        user.sealedTOTPSecret != nil ? "totp" : "-",
                        user.email.map { $0 + (user.emailVerified ? " (verified)" : "") } ?? "-", user.id, user.displayName,
                    ])
                }
                printTable(
                    ["USERNAME", "ENABLED", "LOCKED", "SECOND FACTOR", "EMAIL", "USER ID", "DISPLAY NAME"], rows,
                    empty: "No users in tenant '\(tenantName)'.")
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a user: sign-in and refresh fail with 50057; their sessions end and grants are revoked.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "Username or user ID.") var user: String

        func run() async throws {
            try await Users.setEnabled(false, tenant: tenant, user: user, global: global)
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled user.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "Username or user ID.") var user: String

        func run() async throws {
            try await Users.setEnabled(true, tenant: tenant, user: user, global: global)
        }
    }

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Unlock a user locked out by failed sign-ins (50053); their password and sessions stay.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "Username or user ID.") var user: String

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, _ in
                let unlocked = try await admin.unlockUser(tenant: tenantName, user: user)
                try report(global, Users.json(unlocked), "User \(unlocked.username) unlocked.")
            }
        }
    }

    struct SetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password",
            abstract: "Set a user's password (also clears a lockout); ends their sessions and revokes their grants.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "Username or user ID.") var user: String
        @OptionGroup var passwordOptions: PasswordOptions

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            let password = try passwordOptions.read()
            try await withAdministration(global) { admin, settings in
                let updated = try await admin.setPassword(
                    tenant: tenantName, user: user, password: password, passwords: Users.hasher(settings))
                try report(
                    global, Users.json(updated), "Password set for \(updated.username); their sessions ended and grants were revoked.")
            }
        }
    }

    struct EnrollTOTP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "enroll-totp", abstract: "Enroll a TOTP second factor; prints the secret and otpauth URL once.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "Username or user ID.") var user: String
        @Flag(help: "Replace a second factor the user has (their authenticator app's entry stops working).") var replace = false
        var json: Bool { global.json }

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, _ in
                if !replace, try await admin.findUser(tenant: tenantName, user).sealedTOTPSecret != nil {
                    throw CLIError(
                        "user \(user) has a second factor already: give --replace to make a new one (the old one stops working), "
                            + "or remove it with users remove-totp")
                }
                let (updated, secret) = try await admin.enrollTOTP(
                    tenant: tenantName, user: user, box: SecretBox(serverKey: admin.hasher.keyData))
                let url = HummingbirdTOTP.enrollmentURL(
                    secret: secret, account: updated.username.value, issuer: "Gatehouse \(tenantName.value)")
                // The setup key an authenticator app takes is the URL's base32 `secret`, not the raw characters.
                let setupKey = URLComponents(string: url)?.queryItems?.first { $0.name == "secret" }?.value ?? secret
                if json {
                    try printJSON(["secret": secret, "setup_key": setupKey, "otpauth_url": url])
                } else {
                    print("Setup key (base32, for \"enter a setup key\"): \(setupKey)")
                    print("Authenticator URL: \(url)")
                    print("(shown once; the secret is stored sealed with the server key)")
                }
            }
        }
    }

    struct RemoveTOTP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-totp", abstract: "Remove a user's TOTP second factor; ends their sessions and revokes their grants.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "Username or user ID.") var user: String

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, _ in
                let (updated, revoked) = try await admin.removeTOTP(tenant: tenantName, user: user)
                var object = Users.json(updated)
                object["grants_revoked"] = revoked
                try report(global, object, "Second factor removed for \(updated.username); sessions ended, \(revoked) grant(s) revoked")
            }
        }
    }

    /// A passkey as `--json` prints it (its public key too: nothing about it is secret).
    static func json(_ passkey: Passkey) -> [String: Any] {
        [
            "credential_id": passkey.credentialID, "name": passkey.name, "public_key": Base64URL.encode(passkey.publicKey),
            "sign_count": Int(passkey.signCount), "transports": passkey.transports, "aaguid": passkey.aaguid,
            "backup_eligible": passkey.backupEligible, "backed_up": passkey.backedUp, "attestation": passkey.attestationFormat,
            "counter_regressed": passkey.counterRegressed, "created_at": printedTime(passkey.createdAt),
            "last_used_at": passkey.lastUsedAt.map(printedTime) ?? NSNull(),
        ]
    }

    struct Passkeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "passkeys", abstract: "List a user's passkeys.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "Username or user ID.") var user: String

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, _ in
                let found = try await admin.findUser(tenant: tenantName, user)
                let passkeys = try await admin.passkeys(tenant: tenantName, userID: found.id)
                if global.json {
                    try printJSON(passkeys.map(Users.json))
                    return
                }
                printTable(
                    ["NAME", "KIND", "ADDED", "LAST USED", "FLAGGED", "CREDENTIAL ID"],
                    passkeys.map { passkey in
                        [
                            passkey.name, passkey.backupEligible ? "synced" : "device-bound", printedTime(passkey.createdAt),
                            passkey.lastUsedAt.map(printedTime) ?? "never", passkey.counterRegressed ? "counter went back" : "-",
                            passkey.credentialID,
                        ]
                    }, empty: "User '\(found.username)' has no passkeys.")
            }
        }
    }

    struct RemovePasskey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-passkey", abstract: "Remove one of a user's passkeys (audited; the user is told by mail).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        @Argument(help: "Username or user ID.") var user: String
        @Argument(help: "The passkey's credential ID (from `gatehouse users passkeys`).") var credentialID: String

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, _ in
                let found = try await admin.findUser(tenant: tenantName, user)
                let tenantRecord = try await admin.tenant(tenantName)
                try await admin.removePasskey(tenant: tenantRecord, user: found, credentialID: credentialID)
                try report(
                    global, ["removed": credentialID, "user_id": found.id],
                    "Removed passkey \(credentialID.prefix(16))… of \(found.username)")
            }
        }
    }
}
