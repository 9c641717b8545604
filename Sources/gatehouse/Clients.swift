import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseServer

struct Clients: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register and manage clients.",
        subcommands: [
            Create.self, Update.self, List.self, Show.self, AddSecret.self, RemoveSecret.self, AddCertificate.self, RemoveCertificate.self,
            Grant.self, Revoke.self, Disable.self, Enable.self, Remove.self,
        ])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a client. A secret, if any, is shown once.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String
        @Option(help: "A display name (shown on the sign-in and consent pages).") var name: String
        @Option(help: "Client ID (default: a new GUID).") var id: String?
        @Flag(name: .customLong("public"), help: "A public client (token_endpoint_auth_method none).") var isPublic = false
        @Option(name: .customLong("scope"), help: "An allowed scope (repeatable, or space-separated).") var scopes: [String] = []
        @Option(name: .customLong("default-scope"), help: "A default scope (repeatable; default: all allowed scopes).") var defaultScopes:
            [String] = []
        @Option(name: .customLong("resource"), help: "An allowed RFC 8707 resource URI (repeatable); the first is the default audience.")
        var resources: [String] = []
        @Option(
            name: .customLong("grant"),
            help:
                "An allowed grant type (repeatable; default client_credentials): client_credentials, authorization_code, refresh_token, password, device_code, on_behalf_of."
        ) var grants: [String] = []
        @Option(name: .customLong("auth-method"), help: "client_secret_basic, client_secret_post, private_key_jwt or none (repeatable).")
        var authMethods: [String] = []
        @Option(name: .customLong("redirect-uri"), help: "A redirect URI for the authorization code flow (repeatable; exact match).")
        var redirectURIs: [String] = []
        @Option(name: .customLong("post-logout-redirect-uri"), help: "A URI the logout endpoint may return to (repeatable).")
        var postLogoutURIs: [String] = []
        @Option(name: .customLong("jwks-file"), help: "The client's public JWKS, for private_key_jwt.") var jwksFile: String?
        @Option(
            name: .customLong("certificate"),
            help: "A PEM certificate file for private_key_jwt assertions that name it by x5t, x5t#S256 or x5c (repeatable).")
        var certificateFiles: [String] = []
        @Option(name: .customLong("secret-expires-in-days"), help: "Lifetime of the first secret, in days.") var secretDays: Double?
        @Flag(
            name: .customLong("first-party"),
            help: "The organisation's own app: its users are not asked to consent to the scopes it is allowed (prompt=consent still asks).")
        var firstParty = false
        @Option(
            name: .customLong("backchannel-logout-uri"),
            help: "Where logout tokens are posted when a session the client took part in ends (OpenID Connect Back-Channel Logout).")
        var backchannelLogoutURI: String?
        @Flag(name: .customLong("backchannel-logout-session-required"), help: "The client needs sid in logout tokens (always sent).")
        var backchannelLogoutSessionRequired = false
        @Flag(name: .customLong("require-par"), help: "Authorization requests only through pushed authorization requests (RFC 9126).")
        var requirePAR = false
        @Flag(
            name: .customLong("require-signed-request-object"),
            help: "Authorization requests only as request objects signed with the client's JWKS (RFC 9101).")
        var requireSignedRequestObject = false
        @Flag(
            name: .customLong("require-dpop"),
            help: "Every token request with a DPoP proof, so every token is bound to the client's key (RFC 9449).")
        var requireDPoP = false
        var json: Bool { global.json }

        func run() async throws {
            var spec = Administration.ClientSpec(id: try id.map(parseClientID), name: name)
            spec.requireDPoP = requireDPoP
            spec.type = isPublic ? .public : .confidential
            spec.firstParty = firstParty
            spec.backchannelLogoutURI = backchannelLogoutURI
            spec.backchannelLogoutSessionRequired = backchannelLogoutSessionRequired
            spec.requirePushedAuthorizationRequests = requirePAR
            spec.requireSignedRequestObject = requireSignedRequestObject
            spec.redirectURIs = redirectURIs
            spec.postLogoutRedirectURIs = postLogoutURIs
            spec.allowedScopes = try cli { try Administration.parseScopes(scopes) }
            if !defaultScopes.isEmpty { spec.defaultScopes = try cli { try Administration.parseScopes(defaultScopes) } }
            spec.allowedResources = try parseResources(resources)
            if !grants.isEmpty { spec.grantTypes = try parseGrantTypes(grants) }
            if !authMethods.isEmpty {
                spec.authMethods = try parseAuthMethods(authMethods)
            }
            if let jwksFile {
                guard let data = FileManager.default.contents(atPath: jwksFile) else { throw CLIError("cannot read '\(jwksFile)'") }
                spec.jwks = String(decoding: data, as: UTF8.self)
            }
            for file in certificateFiles {
                guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read '\(file)'") }
                let blocks = ClientCertificate.pemBlocks(String(decoding: data, as: UTF8.self))
                guard let first = blocks.first else { throw CLIError("'\(file)' holds no PEM certificate") }
                spec.certificates.append(first)
            }
            if let secretDays {
                guard secretDays > 0 else { throw CLIError("--secret-expires-in-days must be positive") }
                spec.secretLifetime = secretDays * 86400
            }
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, settings in
                let (client, secret) = try await admin.createClient(tenant: tenantName, spec: spec)
                settings.warnIfBaseURLAssumed()
                // What --resource/--scope became: the API (found or created) and the names granted.
                var apis: [(id: String, identifier: String, names: [String])] = []
                for grant in try await admin.store.access(tenant: tenantName, clientID: client.id) {
                    let identifier = try await admin.store.api(tenant: tenantName, applicationID: grant.api)?.defaultAudience ?? ""
                    apis.append((grant.api.value, identifier, grant.permissions))
                }
                if json {
                    var object: [String: Any] = [
                        "client_id": client.id.value, "tenant": tenantName.value,
                        "token_endpoint": settings.serverConfiguration().tokenEndpoint(tenantName.value),
                        "apis": apis.map { ["api": $0.id, "identifier": $0.identifier, "permissions": $0.names] as [String: Any] },
                    ]
                    if let secret {
                        object["client_secret"] = secret.value
                        object["secret_id"] = secret.record.secretID
                    }
                    try printJSON(object)
                } else {
                    print("Client ID:      \(client.id)")
                    if let secret {
                        print("Client secret:  \(secret.value)")
                        print("                (shown once; only its hash is stored. Secret ID: \(secret.record.secretID))")
                    }
                    print("Token endpoint: \(settings.serverConfiguration().tokenEndpoint(tenantName.value))")
                    for api in apis {
                        print("API access:     \(api.identifier) (application ID \(api.id)): \(api.names.joined(separator: " "))")
                    }
                }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a client: each option given replaces that property; secrets, certificates and API grants stay.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ClientOptions
        @Option(help: "A new display name.") var name: String?
        @Option(
            name: .customLong("scope"),
            help: "The client's scopes (repeatable, or space-separated); with --resource, granted on those APIs.")
        var scopes: [String] = []
        @Option(name: .customLong("default-scope"), help: "The default scopes (repeatable).") var defaultScopes: [String] = []
        @Option(name: .customLong("resource"), help: "An API to grant the --scope names on (repeatable; found or created, as on create).")
        var resources: [String] = []
        @Option(name: .customLong("grant"), help: "The grant types (repeatable), as on create.") var grants: [String] = []
        @Option(name: .customLong("auth-method"), help: "The auth methods (repeatable), as on create.") var authMethods: [String] = []
        @Option(name: .customLong("redirect-uri"), help: "The redirect URIs (repeatable; replace the registered ones).")
        var redirectURIs: [String] = []
        @Option(name: .customLong("add-redirect-uri"), help: "A redirect URI to add (repeatable).") var addRedirectURIs: [String] = []
        @Option(name: .customLong("remove-redirect-uri"), help: "A redirect URI to remove (repeatable).") var removeRedirectURIs: [String] =
            []
        @Option(name: .customLong("post-logout-redirect-uri"), help: "The post-logout redirect URIs (repeatable; replace).")
        var postLogoutURIs: [String] = []
        @Option(name: .customLong("jwks-file"), help: "A new public JWKS, for private_key_jwt.") var jwksFile: String?
        @Option(
            name: .customLong("certificate"),
            help:
                "A PEM certificate to register besides the client's (repeatable); with --auth-method private_key_jwt it moves the client to certificates."
        )
        var certificateFiles: [String] = []
        @Flag(
            inversion: .prefixedNo,
            help: "Mark the client first-party (its users see no consent page for the scopes it is allowed) or not.")
        var firstParty: Bool?
        @Option(
            name: .customLong("backchannel-logout-uri"),
            help: "Where logout tokens are posted when a session the client took part in ends; an empty value removes it.")
        var backchannelLogoutURI: String?
        @Flag(inversion: .prefixedNo, help: "The client needs sid in logout tokens (always sent) or not.")
        var backchannelLogoutSessionRequired: Bool?
        @Flag(name: .customLong("require-par"), inversion: .prefixedNo, help: "Authorization requests only through PAR (RFC 9126) or not.")
        var requirePAR: Bool?
        @Flag(inversion: .prefixedNo, help: "Authorization requests only as signed request objects (RFC 9101) or not.")
        var requireSignedRequestObject: Bool?
        @Flag(name: .customLong("require-dpop"), inversion: .prefixedNo, help: "Every token request with a DPoP proof (RFC 9449) or not.")
        var requireDPoP: Bool?
        var json: Bool { global.json }

        func run() async throws {
            let (tenantName, clientID) = try target.parsed()
            var change = Administration.ClientChange()
            change.name = name
            if let backchannelLogoutURI { change.backchannelLogoutURI = .some(backchannelLogoutURI.isEmpty ? nil : backchannelLogoutURI) }
            change.backchannelLogoutSessionRequired = backchannelLogoutSessionRequired
            change.requirePushedAuthorizationRequests = requirePAR
            change.requireSignedRequestObject = requireSignedRequestObject
            change.requireDPoP = requireDPoP
            if !scopes.isEmpty { change.scopes = try cli { try Administration.parseScopes(scopes) } }
            if !defaultScopes.isEmpty { change.defaultScopes = try cli { try Administration.parseScopes(defaultScopes) } }
            change.resources = try parseResources(resources)
            if !grants.isEmpty {
                change.grantTypes = try parseGrantTypes(grants)
            }
            if !authMethods.isEmpty {
                change.authMethods = try parseAuthMethods(authMethods)
            }
            if !postLogoutURIs.isEmpty { change.postLogoutRedirectURIs = postLogoutURIs }
            change.firstParty = firstParty
            for file in certificateFiles {
                guard let data = FileManager.default.contents(atPath: file),
                    let pem = ClientCertificate.pemBlocks(String(decoding: data, as: UTF8.self)).first
                else { throw CLIError("'\(file)' holds no PEM certificate") }
                change.addCertificates.append(pem)
            }
            if let jwksFile {
                guard let data = FileManager.default.contents(atPath: jwksFile) else { throw CLIError("cannot read '\(jwksFile)'") }
                change.jwks = .some(String(decoding: data, as: UTF8.self))
            }
            let replaced = redirectURIs
            let (added, removed) = (addRedirectURIs, removeRedirectURIs)
            let nothing =
                name == nil && scopes.isEmpty && defaultScopes.isEmpty && resources.isEmpty && grants.isEmpty && authMethods.isEmpty
                && postLogoutURIs.isEmpty && jwksFile == nil && certificateFiles.isEmpty && firstParty == nil && replaced.isEmpty
                && added.isEmpty && removed.isEmpty && backchannelLogoutURI == nil && backchannelLogoutSessionRequired == nil
                && requirePAR == nil && requireSignedRequestObject == nil && requireDPoP == nil
            guard !nothing else { throw CLIError("nothing to change: give at least one option (see clients update --help)") }
            try await withAdministration(global) { admin, _ in
                if !replaced.isEmpty || !added.isEmpty || !removed.isEmpty {
                    guard let current = try await admin.store.client(tenant: tenantName, id: clientID) else {
                        throw CLIError("no client '\(clientID)' in tenant '\(tenantName)'")
                    }
                    var uris = replaced.isEmpty ? current.redirectURIs : replaced
                    for uri in added where !uris.contains(uri) { uris.append(uri) }
                    uris.removeAll { removed.contains($0) }
                    change.redirectURIs = uris
                }
                let client = try await admin.updateClient(tenant: tenantName, id: clientID, change: change)
                if json {
                    try printJSON(try await Clients.json(client, store: admin.store))
                } else {
                    print("Client \(client.id) updated (its secrets and certificates are unchanged).")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the clients of a tenant.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's name.") var tenant: String

        func run() async throws {
            let tenantName = try parseTenant(tenant)
            try await withAdministration(global) { admin, _ in
                _ = try await admin.tenant(tenantName)
                let clients = try await admin.store.clients(tenant: tenantName)
                if global.json {
                    var objects: [[String: Any]] = []
                    for client in clients { objects.append(try await Clients.json(client, store: admin.store)) }
                    try printJSON(objects)
                    return
                }
                let selfRegistered = Set(try await admin.store.clientRegistrations(tenant: tenantName).map(\.clientID))
                printTable(
                    ["CLIENT ID", "TYPE", "ENABLED", "FIRST-PARTY", "NAME", "GRANTS", "SCOPES"],
                    clients.map { client in
                        [
                            client.id.value, client.type.rawValue, client.enabled ? "yes" : "no", client.firstParty ? "yes" : "no",
                            client.name + (selfRegistered.contains(client.id) ? " (self-registered)" : ""),
                            client.grantTypes.map { $0.shortName }.sorted().joined(separator: ","), client.allowedScopes.description,
                        ]
                    }, empty: "No clients in tenant '\(tenantName)'.")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a client, its access to APIs, and its secrets (hints and expiry only).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ClientOptions

        func run() async throws {
            let (tenantName, clientID) = try target.parsed()
            try await withStore(global) { store, _ in
                guard let client = try await store.client(tenant: tenantName, id: clientID) else {
                    throw CLIError("no client '\(clientID)' in tenant '\(tenantName)'")
                }
                let object = try await Clients.json(client, store: store)
                if global.json {
                    try printJSON(object)
                    return
                }
                Clients.describe(client, object)
            }
        }
    }

    struct AddSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-secret", abstract: "Add a secret (for rotation). It is shown once.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ClientOptions
        @Option(name: .customLong("expires-in-days"), help: "The secret's lifetime in days (default: none).") var days: Double?
        var json: Bool { global.json }

        func run() async throws {
            let (tenantName, clientID) = try target.parsed()
            if let days, days <= 0 { throw CLIError("--expires-in-days must be positive") }
            try await withAdministration(global) { admin, _ in
                let secret = try await admin.addSecret(tenant: tenantName, clientID: clientID, lifetime: days.map { $0 * 86400 })
                if json {
                    try printJSON(["client_secret": secret.value, "secret_id": secret.record.secretID])
                } else {
                    print("Client secret: \(secret.value)\nSecret ID:     \(secret.record.secretID) (the secret is shown once)")
                }
            }
        }
    }

    struct AddCertificate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-certificate", abstract: "Register a certificate (PEM) for private_key_jwt assertions.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ClientOptions
        @Option(name: .customLong("certificate"), help: "PEM certificate file (the first certificate in it is used).") var file: String

        func run() async throws {
            let (tenantName, clientID) = try target.parsed()
            guard let data = FileManager.default.contents(atPath: file),
                let pem = ClientCertificate.pemBlocks(String(decoding: data, as: UTF8.self)).first
            else {
                throw CLIError("'\(file)' holds no PEM certificate")
            }
            try await withAdministration(global) { admin, _ in
                let certificate = try await admin.addCertificate(tenant: tenantName, clientID: clientID, pem: pem)
                try report(
                    global,
                    [
                        "subject": certificate.subject, "sha1_thumbprint": certificate.thumbprintHex,
                        "not_after": printedTime(certificate.notValidAfter),
                    ],
                    "Registered certificate \(certificate.subject)\nSHA-1 thumbprint: \(certificate.thumbprintHex)\nValid until:      \(printedTime(certificate.notValidAfter))"
                )
            }
        }
    }

    struct RemoveSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove-secret", abstract: "Remove one secret of a client.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ClientOptions
        @Option(name: .customLong("secret-id"), help: "The secret's ID (clients show lists them).") var secretID: String

        func run() async throws {
            let (tenantName, clientID) = try target.parsed()
            try await withAdministration(global) { admin, _ in
                try await admin.removeSecret(tenant: tenantName, clientID: clientID, secretID: secretID)
                try report(global, ["removed_secret": secretID], "Removed secret \(secretID).")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a client and its secrets.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: ClientOptions

        func run() async throws {
            let (tenantName, clientID) = try target.parsed()
            try await withAdministration(global) { admin, _ in
                _ = try await admin.removeClient(tenant: tenantName, id: clientID)
                try report(global, ["removed_client": clientID.value], "Removed client \(clientID).")
            }
        }
    }
}

/// Which client a command acts on.
/// `--resource` values (RFC 8707 resource indicators), as `clients create` and `update` take them.
func parseResources(_ raws: [String]) throws -> [ResourceIndicator] { try cli { try Administration.parseResources(raws) } }

/// `--grant` values: `grant_type` values or their short names.
func parseGrantTypes(_ raws: [String]) throws -> Set<GrantType> { try cli { try Administration.parseGrantTypes(raws) } }

/// `--auth-method` values.
func parseAuthMethods(_ raws: [String]) throws -> Set<ClientAuthMethod> { try cli { try Administration.parseAuthMethods(raws) } }

struct ClientOptions: ParsableArguments {
    @Option(help: "The client's tenant.") var tenant: String
    @Argument(help: "The client ID.") var id: String?
    @Option(name: .customLong("id"), help: .hidden) var legacyID: String?

    func parsed() throws -> (TenantName, ClientID) {
        let id = try positional(
            id, legacy: legacyID, "client ID", usage: "put it after the options, e.g. gatehouse clients show --tenant \(tenant) CLIENT_ID")
        return (try parseTenant(tenant), try parseClientID(id))
    }
}
