import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseServer

struct Tenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and configure tenants.",
        subcommands: [Create.self, List.self, Show.self, Configure.self, RegistrationTokens.self])

    /// A tenant as `--json` prints it.
    static func json(_ tenant: Tenant, _ settings: Settings) -> [String: Any] {
        [
            "name": tenant.name.value, "id": tenant.guid, "display_name": tenant.displayName,
            "algorithm": tenant.signingAlgorithm.rawValue, "access_token_lifetime": tenant.accessTokenLifetime,
            "sign_in_log": tenant.signInLog.rawValue, "key_rotation_days": Int((tenant.keyRotationInterval ?? 0) / 86_400),
            "email_sign_in": tenant.emailSignIn, "verify_email": tenant.verifyEmail,
            "require_pushed_authorization_requests": tenant.requirePushedAuthorizationRequests,
            "require_dpop_nonce": tenant.requireDPoPNonce,
            "issuer": settings.serverConfiguration().issuer(tenant.name.value),
            "registration": tenant.registration.rawValue, "registration_domains": tenant.registrationDomains,
            "primary_color": tenant.branding.primaryColor as Any, "support_contact": tenant.branding.supportContact as Any,
            "logo_sha256": tenant.branding.logoDigest as Any,
            "passkey_user_verification": tenant.passkeyPolicy.userVerification.rawValue,
            "passkey_attestation": tenant.passkeyPolicy.attestation.rawValue,
            "passkey_counter_regression": tenant.passkeyPolicy.counterRegression.rawValue,
            "passkey_required": tenant.passkeyPolicy.required,
            "client_registration": tenant.clientRegistration.policy.rawValue,
            "registration_apis": tenant.clientRegistration.apis,
            "allow_local_fetches": tenant.clientRegistration.allowLocalFetches,
            "client_id_metadata_documents": tenant.clientRegistration.metadataDocuments,
        ]
    }

    struct Configure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Change a tenant's settings (each option given changes one; the others stay).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Tenant name.") var name: String
        @Option(
            name: .customLong("sign-in-log"),
            help:
                "aggregate (default: repeated machine successes counted per minute, failures and interactive steps kept whole) or full (every request kept whole)."
        )
        var signInLog: String?
        @Option(
            name: .customLong("key-rotation-days"),
            help:
                "Rotate the signing keys automatically every N days (at least 1; the next key is published a day or more before it signs); 0 turns it off."
        )
        var keyRotationDays: Int?
        @Option(
            help: ArgumentHelp(
                "Signing algorithm of the tenant's keys: ES256, RS256 or EdDSA. The published next key is replaced by one of this "
                    + "algorithm, which signs from the next rotation; the active key stays in the JWKS, retired, until its tokens expire."))
        var algorithm: String?
        @Option(name: .customLong("token-lifetime"), help: "Access token lifetime in seconds (60-86400), for tokens issued from now on.")
        var tokenLifetime: Int?
        @Option(
            name: .customLong("email-sign-in"),
            help: "on (default for new tenants): users may sign in with their email address, each address one user's; or off.")
        var emailSignIn: String?
        @Option(
            name: .customLong("verify-email"),
            help: "on: new users' addresses are mailed a verification link (changed addresses always are); off (default).")
        var verifyEmail: String?
        @Option(
            name: .customLong("require-par"),
            help: "on: every client's authorization requests only through pushed authorization requests (RFC 9126); off (default).")
        var requirePAR: String?
        @Option(
            name: .customLong("require-dpop-nonce"),
            help: "on: DPoP proofs only with a current server nonce (RFC 9449 §8; clients retry once after use_dpop_nonce); off (default).")
        var requireDPoPNonce: String?
        @Option(
            help:
                "open: anyone may register at /{tenant}/register and must verify the address before signing in (needs mail); off (default)."
        )
        var registration: String?
        @Option(
            name: .customLong("registration-domain"),
            help: "An email domain registration accepts (repeat for several); replaces the list. Without any: every domain.")
        var registrationDomains: [String] = []
        @Flag(name: .customLong("any-registration-domain"), help: "Accept registrations from every email domain (clears the list).")
        var anyRegistrationDomain = false
        @Option(name: .customLong("display-name"), help: "The name shown on the tenant's pages and in its mails.")
        var displayName: String?
        @Option(
            name: .customLong("primary-color"), help: "The pages' and mails' primary colour, #rrggbb; an empty value restores the default.")
        var primaryColor: String?
        @Option(name: .customLong("support-contact"), help: "An address or https:// URL shown on error pages; an empty value removes it.")
        var supportContact: String?
        @Option(help: "A PNG or JPEG file (at most 100 KiB, 1024 pixels a side) shown on the tenant's pages and mails.")
        var logo: String?
        @Flag(name: .customLong("remove-logo"), help: "Remove the tenant's logo.") var removeLogo = false
        @Option(
            name: .customLong("passkey-user-verification"),
            help: "required: passkeys must verify the user (PIN or biometrics) to register and sign in; preferred (default).")
        var passkeyUserVerification: String?
        @Option(
            name: .customLong("passkey-attestation"),
            help: "required: only passkeys with a verified attestation statement (packed) may be registered; none (default): any.")
        var passkeyAttestation: String?
        @Option(
            name: .customLong("passkey-counter-regression"),
            help: "refuse (default): a passkey whose signature counter went backwards is refused; flag: allowed, marked and logged.")
        var passkeyCounterRegression: String?

        @Option(
            name: .customLong("passkey-required"),
            help:
                "on: every user must have a passkey (one without registers one at the next sign-in, before the session starts); off (default)."
        )
        var passkeyRequired: String?
        @Option(
            name: .customLong("client-registration"),
            help:
                "Dynamic client registration: off (default), token (with an initial access token), or open (public clients with loopback or https redirect URIs)."
        )
        var clientRegistration: String?
        @Option(
            name: .customLong("registration-api"),
            help:
                "An API (identifier or ID) self-registered clients may ask for (repeat for several; replaces the list); '*': any API the client names."
        )
        var registrationAPIs: [String] = []
        @Option(
            name: .customLong("allow-local-fetches"),
            help:
                "on: fetches of URLs that others choose (client ID metadata documents, jwks_uri) may reach private and loopback addresses (development only); off (default)."
        )
        var allowLocalFetches: String?
        @Option(
            name: .customLong("client-id-metadata-documents"),
            help:
                "on: a client_id that is an https URL names a client ID metadata document, fetched and used as a public client; off (default)."
        )
        var metadataDocuments: String?

        var clientRegistrationChanged: Bool {
            clientRegistration != nil || !registrationAPIs.isEmpty || allowLocalFetches != nil || metadataDocuments != nil
        }

        var passkeyChanged: Bool {
            passkeyUserVerification != nil || passkeyAttestation != nil || passkeyCounterRegression != nil || passkeyRequired != nil
        }

        var profileChanged: Bool {
            registration != nil || !registrationDomains.isEmpty || anyRegistrationDomain || primaryColor != nil || supportContact != nil
                || displayName != nil || passkeyChanged
        }

        func run() async throws {
            let tenant = try parseTenant(name)
            guard
                signInLog != nil || keyRotationDays != nil || algorithm != nil || tokenLifetime != nil || emailSignIn != nil
                    || verifyEmail != nil || requirePAR != nil || requireDPoPNonce != nil || profileChanged || logo != nil || removeLogo
                    || clientRegistrationChanged
            else {
                throw CLIError(
                    "nothing to set: give --sign-in-log, --key-rotation-days, --algorithm, --token-lifetime, --email-sign-in, --verify-email, --require-par, --require-dpop-nonce, "
                        + "--registration, --registration-domain, --display-name, --primary-color, --support-contact, --logo, --remove-logo "
                        + "or --passkey-user-verification, --passkey-attestation, --passkey-counter-regression, --passkey-required, "
                        + "--client-registration, --registration-api, --allow-local-fetches, --client-id-metadata-documents"
                )
            }
            let policy = try registration.map { raw in
                guard let parsed = RegistrationPolicy(rawValue: raw) else { throw CLIError("--registration must be open or off") }
                return parsed
            }
            func parsed<T: RawRepresentable>(_ raw: String?, _ option: String) throws -> T? where T.RawValue == String {
                guard let raw else { return nil }
                guard let value = T(rawValue: raw) else { throw CLIError("--\(option): '\(raw)' is not one of the accepted values") }
                return value
            }
            let uv: PasskeyPolicy.UserVerification? = try parsed(passkeyUserVerification, "passkey-user-verification")
            let attestation: PasskeyPolicy.Attestation? = try parsed(passkeyAttestation, "passkey-attestation")
            let counter: PasskeyPolicy.CounterRegression? = try parsed(passkeyCounterRegression, "passkey-counter-regression")
            /// An `on|off` option as a flag; nil when not given.
            func onOff(_ raw: String?, _ option: String) throws -> Bool? {
                guard let raw else { return nil }
                guard raw == "on" || raw == "off" else { throw CLIError("--\(option) must be on or off") }
                return raw == "on"
            }
            let mustHavePasskey = try onOff(passkeyRequired, "passkey-required")
            let registrationPolicy: ClientRegistrationPolicy? = try parsed(clientRegistration, "client-registration")
            let localFetches = try onOff(allowLocalFetches, "allow-local-fetches")
            let documents = try onOff(metadataDocuments, "client-id-metadata-documents")
            var logoBytes: [UInt8]?
            if let logo {
                guard let data = FileManager.default.contents(atPath: logo) else { throw CLIError("cannot read the logo file \(logo)") }
                logoBytes = Array(data)
            }
            var mode: SignInLogMode?
            if let raw = signInLog {
                guard let parsed = SignInLogMode(rawValue: raw) else { throw CLIError("--sign-in-log must be aggregate or full") }
                mode = parsed
            }
            if let days = keyRotationDays, !(0...3650).contains(days) {
                throw CLIError("--key-rotation-days must be between 0 (off) and 3650")
            }
            let newAlgorithm = try algorithm.map { raw in
                guard let parsed = SigningAlgorithm(rawValue: raw) else {
                    throw CLIError("--algorithm must be ES256, RS256 or EdDSA")
                }
                return parsed
            }
            let email = try onOff(emailSignIn, "email-sign-in")
            let verify = try onOff(verifyEmail, "verify-email")
            let par = try onOff(requirePAR, "require-par")
            let dpopNonce = try onOff(requireDPoPNonce, "require-dpop-nonce")
            try await withAdministration(global) { admin, settings in
                let before = try await admin.tenant(tenant)
                let rotation: TimeInterval?? = keyRotationDays.map { days in days == 0 ? nil : TimeInterval(days) * 86_400 }
                var after = try await admin.updateTenant(
                    tenant: tenant, signInLog: mode, keyRotation: rotation, algorithm: newAlgorithm, accessTokenLifetime: tokenLifetime,
                    emailSignIn: email, verifyEmail: verify, requirePushedAuthorizationRequests: par, requireDPoPNonce: dpopNonce)
                if profileChanged {
                    after = try await admin.updateTenantProfile(
                        tenant: tenant, registration: policy,
                        domains: anyRegistrationDomain ? [] : registrationDomains.isEmpty ? nil : registrationDomains,
                        displayName: displayName, primaryColor: primaryColor, supportContact: supportContact,
                        passkeyPolicy: passkeyChanged
                            ? PasskeyPolicy(
                                userVerification: uv ?? before.passkeyPolicy.userVerification,
                                attestation: attestation ?? before.passkeyPolicy.attestation,
                                counterRegression: counter ?? before.passkeyPolicy.counterRegression,
                                required: mustHavePasskey ?? before.passkeyPolicy.required) : nil)
                }
                if logoBytes != nil || removeLogo { after = try await admin.setLogo(tenant: tenant, bytes: logoBytes) }
                if clientRegistrationChanged {
                    after = try await admin.setClientRegistration(
                        tenant: tenant, policy: registrationPolicy, apis: registrationAPIs.isEmpty ? nil : registrationAPIs,
                        allowLocalFetches: localFetches, metadataDocuments: documents)
                }
                if global.json {
                    settings.warnIfBaseURLAssumed()
                    try printJSON(Tenants.json(after, settings))
                    return
                }
                var lines: [String] = []
                if let mode { lines.append("sign-in log \(mode.rawValue)") }
                if let days = keyRotationDays {
                    lines.append(days == 0 ? "automatic key rotation off" : "signing keys rotate every \(days) days (checked every minute)")
                }
                if let newAlgorithm {
                    lines.append(
                        newAlgorithm == before.signingAlgorithm
                            ? "signing algorithm \(newAlgorithm.rawValue), as before"
                            : "signing algorithm \(newAlgorithm.rawValue): the next key is now \(newAlgorithm.rawValue) and signs from the next "
                                + "rotation (automatic, or `gatehouse keys rotate --tenant \(tenant)` once clients have fetched the JWKS); "
                                + "the current \(before.signingAlgorithm.rawValue) key signs until then")
                }
                if let tokenLifetime { lines.append("access tokens live \(tokenLifetime) s") }
                if let email { lines.append(email ? "users may sign in with their email address" : "sign-in by email address off") }
                if let verify {
                    lines.append(verify ? "new users' addresses are mailed a verification link" : "new users' addresses are not mailed")
                }
                if profileChanged {
                    lines.append(
                        "display name \(after.displayName); registration \(after.registration.rawValue)"
                            + (after.registrationDomains.isEmpty ? "" : " (\(after.registrationDomains.joined(separator: ", ")))")
                            + "; colour \(after.branding.primaryColor ?? "default"); support contact \(after.branding.supportContact ?? "none")"
                    )
                }
                if passkeyChanged {
                    lines.append(
                        "passkeys: user verification \(after.passkeyPolicy.userVerification.rawValue), attestation "
                            + "\(after.passkeyPolicy.attestation.rawValue), counter regression \(after.passkeyPolicy.counterRegression.rawValue), "
                            + "required \(after.passkeyPolicy.required ? "on" : "off")"
                    )
                }
                if clientRegistrationChanged {
                    let settings = after.clientRegistration
                    lines.append(
                        "client registration \(settings.policy.rawValue)"
                            + (settings.apis.isEmpty ? "" : " for \(settings.anyAPI ? "any API" : settings.apis.joined(separator: ", "))")
                            + (settings.allowLocalFetches ? "; local fetches allowed" : "")
                            + (settings.metadataDocuments ? "; client ID metadata documents accepted" : ""))
                }
                if logoBytes != nil { lines.append("logo set (sha256 \(after.branding.logoDigest ?? "-"))") }
                if removeLogo { lines.append("logo removed") }
                print(
                    "Tenant '\(tenant)': " + lines.joined(separator: "; ")
                        + ". Running servers follow within their cache time (5 s by default).")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant with its signing keys.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Tenant name: 1-63 characters of a-z, 0-9, '-' and '.'.") var name: String
        @Option(name: .customLong("display-name"), help: "The name shown on pages (default: the name).") var displayName: String?
        @Option(help: "Access token signing algorithm: ES256 (default), RS256 or EdDSA.") var algorithm: String = "ES256"
        @Option(name: .customLong("token-lifetime"), help: "Access token lifetime in seconds (60-86400).") var tokenLifetime: Int = 3600

        func run() async throws {
            let tenant = try parseTenant(name)
            guard let algorithm = SigningAlgorithm(rawValue: algorithm) else {
                throw CLIError("algorithm must be ES256, RS256 or EdDSA")
            }
            try await withAdministration(global) { admin, settings in
                let created = try await admin.createTenant(
                    name: tenant, displayName: displayName, algorithm: algorithm, accessTokenLifetime: tokenLifetime)
                settings.warnIfBaseURLAssumed()
                try report(
                    global, Tenants.json(created, settings),
                    "Created tenant '\(tenant)' (\(algorithm.rawValue)). Issuer: \(settings.serverConfiguration().issuer(tenant.value))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withStore(global) { store, settings in
                let tenants = try await store.tenants()
                if global.json {
                    settings.warnIfBaseURLAssumed()
                    try printJSON(tenants.map { Tenants.json($0, settings) })
                    return
                }
                printTable(
                    ["NAME", "ALGORITHM", "TOKEN LIFETIME", "SIGN-IN LOG", "KEY ROTATION", "EMAIL SIGN-IN", "ID", "DISPLAY NAME"],
                    tenants.map { tenant in
                        [
                            tenant.name.value, tenant.signingAlgorithm.rawValue, "\(tenant.accessTokenLifetime) s",
                            tenant.signInLog.rawValue,
                            tenant.keyRotationInterval.map { "\(Int($0 / 86_400)) d" } ?? "off", tenant.emailSignIn ? "on" : "off",
                            tenant.guid, tenant.displayName,
                        ]
                    }, empty: "No tenants.")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a tenant's settings, its issuer and its signing keys.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Tenant name.") var name: String

        func run() async throws {
            let tenantName = try parseTenant(name)
            try await withAdministration(global) { admin, settings in
                let tenant = try await admin.tenant(tenantName)
                let keys = try await admin.store.keys(tenant: tenantName)
                settings.warnIfBaseURLAssumed()
                if global.json {
                    var object = Tenants.json(tenant, settings)
                    object["keys"] = keys.map(Keys.json)
                    try printJSON(object)
                    return
                }
                let rows: [(String, String)] = [
                    ("Name", tenant.name.value), ("ID", tenant.guid), ("Display name", tenant.displayName),
                    ("Issuer", settings.serverConfiguration().issuer(tenant.name.value)),
                    ("Signing algorithm", tenant.signingAlgorithm.rawValue), ("Access tokens", "\(tenant.accessTokenLifetime) s"),
                    ("Sign-in log", tenant.signInLog.rawValue),
                    ("Key rotation", tenant.keyRotationInterval.map { "every \(Int($0 / 86_400)) days" } ?? "off"),
                    ("Email sign-in", tenant.emailSignIn ? "on" : "off"),
                    ("Verify new addresses", tenant.verifyEmail ? "on" : "off"),
                    ("PAR required", tenant.requirePushedAuthorizationRequests ? "on" : "off"),
                    ("DPoP nonce required", tenant.requireDPoPNonce ? "on" : "off"),
                    (
                        "Registration",
                        tenant.registration.rawValue
                            + (tenant.registrationDomains.isEmpty ? "" : " (\(tenant.registrationDomains.joined(separator: ", ")))")
                    ),
                    ("Primary colour", tenant.branding.primaryColor ?? "default"),
                    ("Support contact", tenant.branding.supportContact ?? "none"),
                    ("Logo", tenant.branding.logoDigest.map { "sha256 \($0)" } ?? "none"),
                    (
                        "Client registration",
                        tenant.clientRegistration.policy.rawValue
                            + (tenant.clientRegistration.apis.isEmpty
                                ? "" : " (APIs: \(tenant.clientRegistration.apis.joined(separator: ", ")))")
                    ),
                    ("Metadata documents", tenant.clientRegistration.metadataDocuments ? "accepted as client IDs" : "off"),
                    ("Local fetches", tenant.clientRegistration.allowLocalFetches ? "allowed" : "refused"),
                ]
                for (label, value) in rows { print(label.padding(toLength: 19, withPad: " ", startingAt: 0) + value) }
                print("")
                Keys.printKeys(keys)
            }
        }
    }
}
