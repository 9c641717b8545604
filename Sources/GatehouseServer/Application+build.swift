import Foundation
import GatehouseAdminAPI
import GatehouseCore
import Hummingbird
import HummingbirdBcrypt
import HummingbirdCore
import HummingbirdTLS
import Logging
import OpenAPIHummingbird
import ServiceLifecycle

/// The server's long-lived parts, built once from a configuration and a store.
public struct Gatehouse: Sendable {
    public let configuration: ServerConfiguration
    public let store: any GatehouseStore
    public let hasher: SecretHasher
    public let signIns: SignInLogWriter
    /// When each client secret was last used, written off the request path.
    public let secretUsage: SecretUsageRecorder
    public let keyRings: KeyRingRegistry
    public let tenants: TenantDirectory
    /// The origins of each tenant's public clients (CORS preflights).
    public let browserOrigins: CachedBrowserOrigins
    public let clients: CachedClientDirectory
    public let userDirectory: UserDirectory
    public let grants: GrantRegistry
    public let time: TimeSource
    public let passwordHasher: BcryptPasswordHasher
    public let signInState: SignInStateStore
    public let secretBox: SecretBox
    public let devices: DeviceAuthorizationStore
    /// Recognises presented access and refresh tokens (userinfo, introspection, revocation, on-behalf-of).
    public let inspector: TokenInspector
    /// The metrics registry and factory of this server.
    public let telemetry: Telemetry
    /// This node's failure throttles.
    public let throttles: Throttles
    /// Password checks with lockout, for the sign-in page and the password grant.
    public let passwords: PasswordSignIn
    let decoyHash: String
    let totp: any TOTPGenerator
    /// Where the outbox's mails go (SMTP in `serve`); nil: no mail is sent, and the sign-in page
    /// offers no password reset.
    public let mailTransport: (any MailTransport)?
    /// Composes account mails (reset and verification links).
    public let mailer: AccountMailer
    /// Fetches URLs that others chose (client ID metadata documents, `jwks_uri`), guarded.
    public let fetcher: (any OutboundFetcher)?

    /// `passwordVerifier` and `totp` replace bcrypt verification and the TOTP generator for the
    /// sign-in checks (tests count and hold checks with them); by default they are the real ones.
    public init(
        configuration: ServerConfiguration, store: any GatehouseStore, hasher: SecretHasher, time: TimeSource = .system,
        logger: Logger = Logger(label: "gatehouse"), passwordVerifier: (any PasswordHasher)? = nil, totp: (any TOTPGenerator)? = nil,
        telemetry: Telemetry = Telemetry(), mailTransport: (any MailTransport)? = nil, fetcher: (any OutboundFetcher)?? = nil
    ) {
        self.configuration = configuration
        // By default the guarded fetcher over the system's trust store.
        let fetcher = fetcher ?? (try? GuardedFetcher(extraCAFile: nil))
        self.fetcher = fetcher
        self.mailTransport = mailTransport
        self.telemetry = telemetry
        let throttles = Throttles(configuration.throttling)
        self.throttles = throttles
        self.store = store
        self.hasher = hasher
        self.time = time
        let reloadFailed = CacheReloadLog(logger: logger).record
        let tenants = TenantDirectory(store: store, ttl: configuration.cacheTTL, time: time, reloadFailed: reloadFailed)
        self.tenants = tenants
        // A tenant's log mode as the tenant cache knows it (a change is seen within cacheTTL).
        self.signIns = SignInLogWriter(
            store: store, capacity: configuration.signInBufferCapacity, interval: configuration.signInFlushInterval, logger: logger,
            mode: { segment in (try? await tenants.resolve(segment))?.signInLog ?? .aggregate }, telemetry: telemetry,
            source: SourceAddress(trustedProxies: configuration.throttling.trustedProxies),
            cachedTenant: { segment in tenants.cached(segment)?.name.value })
        self.secretUsage = SecretUsageRecorder(store: store, logger: logger)
        self.keyRings = KeyRingRegistry(store: store, ttl: configuration.keyRingTTL, time: time, reloadFailed: reloadFailed)
        self.clients = CachedClientDirectory(
            store: store, ttl: configuration.cacheTTL, time: time, baseURL: configuration.baseURL, fetcher: fetcher,
            reloadFailed: reloadFailed)
        self.browserOrigins = CachedBrowserOrigins(store: store, ttl: configuration.cacheTTL, time: time, reloadFailed: reloadFailed)
        let userDirectory = UserDirectory(store: store, ttl: configuration.cacheTTL, time: time, reloadFailed: reloadFailed)
        self.userDirectory = userDirectory
        let issuer = TokenIssuer(keyRings: keyRings, time: time)
        self.passwordHasher = BcryptPasswordHasher(cost: configuration.passwordHashCost)
        self.decoyHash = Bcrypt.hash(RandomSource.system.token(), cost: configuration.passwordHashCost)
        self.signInState = SignInStateStore(store: store, hasher: hasher)
        self.secretBox = SecretBox(serverKey: hasher.keyData)
        self.mailer = AccountMailer(baseURL: configuration.baseURL, texts: .bundled, box: secretBox)
        let minter = UserTokenMinter(issuer: issuer, users: userDirectory, policy: configuration.signIn, roles: store)
        let direct = DirectGrantIssuer(grants: store, hasher: hasher, minter: minter, time: time)
        let devices = DeviceAuthorizationStore(store: store, hasher: hasher)
        self.devices = devices
        let inspector = TokenInspector(
            keyRings: keyRings, grants: store, state: signInState, hasher: hasher, policy: configuration.signIn, time: time)
        self.inspector = inspector
        let passwords = PasswordSignIn(
            users: store, passwords: passwordVerifier ?? passwordHasher, decoyHash: decoyHash, policy: configuration.signIn, time: time,
            hasher: hasher, passkeys: store)
        self.totp = totp ?? HummingbirdTOTP()
        self.passwords = passwords
        self.grants = GrantRegistry([
            ClientCredentialsGrant(issuer: issuer),
            AuthorizationCodeGrant(grants: store, hasher: hasher, minter: minter, time: time),
            RefreshTokenGrant(grants: store, hasher: hasher, minter: minter, policy: configuration.signIn, time: time, apis: store),
            PasswordGrant(
                passwords: passwords, issuer: direct, passkeys: store, gate: throttles.signIn, sprayGate: throttles.passwordSource),
            DeviceCodeGrant(devices: devices, users: minter, issuer: direct, time: time),
            OnBehalfOfGrant(inspector: inspector, users: store, issuer: direct),
        ])
    }

    /// The secret hashing key: the configured one, or one made on first start and kept in the store.
    public static func hasher(store: any SettingsStore, configuredKey: String?) async throws -> SecretHasher {
        if let configuredKey, !configuredKey.isEmpty { return SecretHasher(key: Data(configuredKey.utf8)) }
        let proposed = Data(RandomSource.system.bytes(32)).base64EncodedString()
        let stored = try await store.setting("secret_hash_key", insertingIfAbsent: proposed)
        return SecretHasher(key: Data(base64Encoded: stored) ?? Data(stored.utf8))
    }

    public var administration: Administration {
        var administration = Administration(store: store, hasher: hasher, time: time)
        administration.mailer = mailer
        return administration
    }

    /// Drops this node's caches of tenants, clients and key rings when the store's change counter moves.
    public func changeWatcher(logger: Logger = Logger(label: "gatehouse.changes")) -> ChangeWatcher {
        ChangeWatcher(
            store: store, interval: configuration.changePollInterval, logger: logger,
            caches: [tenants, clients, keyRings, userDirectory, browserOrigins])
    }

    /// The router with every route and the trace middleware; shared by `serve` and the tests.
    public func buildRouter() throws -> Router<GatehouseContext> {
        let renderer = ErrorRenderer(configuration: configuration)
        let router = Router(context: GatehouseContext.self)
        router.add(
            middleware: TraceMiddleware(
                renderer: renderer, strictTransportSecurity: configuration.strictTransportSecurity, telemetry: telemetry,
                tracing: configuration.tracing, requestLog: configuration.tracing ? nil : configuration.requestLog))
        let management = ManagementAccess(token: configuration.metricsToken)
        HealthRoutes(store: store, keyRings: keyRings).register(on: router, access: management)
        if management.isOpen && telemetry.enabled { metricsRoute.register(on: router, access: management) }
        let authenticator = ClientAuthenticator(directory: clients, hasher: hasher, replay: store, time: time)
        // One client-authenticated front half for the token, device, introspection and revocation endpoints.
        let front = ClientAuthenticatedStep(
            configuration: configuration, tenants: tenants, authenticator: authenticator, texts: renderer.texts, throttles: throttles,
            time: time, secretUsage: secretUsage)
        // Each dialect's routes in a group of their own: the group sets the request's dialect.
        let native = router.group().add(middleware: DialectMiddleware(dialect: Dialects.native, renderer: renderer))
        let entra = router.group().add(middleware: DialectMiddleware(dialect: Dialects.entra, renderer: renderer))
        let dialects = [(Dialects.native, native), (Dialects.entra, entra)]
        // CORS (docs/browser-apps.md): metadata and keys for any page; the endpoints a single-page
        // app calls for its own public client's origins; nothing else (authorize, pages, logout).
        func browsers(_ group: RouterGroup<GatehouseContext>, methods: String, headers: String) -> RouterGroup<GatehouseContext> {
            group.group().add(
                middleware: BrowserAccessMiddleware(methods: methods, headers: headers, origins: browserOrigins, tenants: tenants))
        }
        // A single-page app's DPoP proofs travel in the DPoP header (RFC 9449 §4.1).
        let formHeaders = "Content-Type, DPoP"
        let browserGroups = [
            (Dialects.native, browsers(native, methods: "POST", headers: formHeaders)),
            (Dialects.entra, browsers(entra, methods: "POST", headers: formHeaders + ", " + EntraDialect.browserRequestHeaders)),
        ]
        let dpop = DPoPStep(
            configuration: configuration, verifier: DPoPVerifier(replay: store, nonces: DPoPNonces(hasher: hasher), time: time))
        let token = TokenRoute(
            configuration: configuration, front: front, dpop: dpop, grants: grants, signIns: signIns, renderer: renderer)
        DiscoveryRoutes(configuration: configuration, tenants: tenants, keyRings: keyRings, grants: grants, texts: renderer.texts)
            .register(on: native.group().add(middleware: OpenAccessMiddleware()))
        EntraDiscoveryRoutes(configuration: configuration, tenants: tenants, store: store, keyRings: keyRings, grants: grants).register(
            on: entra.group().add(middleware: OpenAccessMiddleware()))
        let console = ConsoleRoutes(
            configuration: configuration, store: store, tenants: tenants, clients: clients, grants: grants, administration: administration,
            passwords: passwordHasher, texts: renderer.texts, throttles: throttles,
            sessions: ConsoleSessions(store: store, hasher: hasher, time: time, random: .system, configuration: configuration),
            views: try ConsoleViews(texts: renderer.texts, configuration: configuration),
            tokenPreview: TokenPreview(users: userDirectory, roles: store, policy: configuration.signIn, time: time), time: time)
        console.register(on: native)
        try ErrorPageRoute(
            texts: renderer.texts, lookup: RequestRecordLookup(store: store, retention: configuration.signInRetention, time: time),
            throttles: throttles,
            consoleLink: { request, tenant, traceID in await console.recordLink(request, recordTenant: tenant, traceID: traceID) }
        ).register(on: native)
        let requests = AuthorizationRequestAssembler(pushed: PushedAuthorizationRequests(store: store, hasher: hasher))
        let signIn = SignInEnvironment(
            configuration: configuration, tenants: tenants, clients: clients, users: store, apis: store, state: signInState,
            passwords: passwords,
            codes: CodeIssuer(grants: store, hasher: hasher, policy: configuration.signIn, time: time, participants: store),
            devices: devices,
            totp: totp,
            box: secretBox,
            replay: store, keyRings: keyRings, pages: try SignInPages(texts: renderer.texts, configuration: configuration),
            signIns: signIns, throttles: throttles,
            hasher: hasher, time: time, random: .system,
            passkeys: PasskeyCeremonies(
                store: store, hasher: hasher,
                verifier: WebAuthnVerifier(rpID: configuration.passkeyRPID, origin: configuration.passkeyOrigin), time: time),
            requests: requests, logouts: store, mailEnabled: mailTransport != nil)
        let device = DeviceRoutes(env: signIn, front: front, renderer: renderer)
        for (dialect, group) in dialects {
            AuthorizeRoute(env: signIn).register(on: group, dialect: dialect)
            LogoutRoute(env: signIn).register(on: group, dialect: dialect)
        }
        let pushed = PushedAuthorizationRoute(
            configuration: configuration, front: front, assembler: requests, renderer: renderer, signIns: signIns, time: time,
            random: .system, dpop: dpop)
        for (dialect, group) in dialects { pushed.register(on: group, dialect: dialect) }
        for (dialect, group) in browserGroups {
            token.register(on: group, dialect: dialect)
            device.registerAuthorization(on: group, dialect: dialect)
        }
        SignInFormRoutes(env: signIn, administration: administration).register(on: native)
        AccountMailRoutes(env: signIn, administration: administration, passwords: passwordHasher).register(on: native)
        RegistrationRoutes(env: signIn, administration: administration, passwords: passwordHasher).register(on: native)
        ClientRegistrationRoutes(env: signIn, administration: administration, renderer: renderer, fetcher: fetcher).register(on: native)
        BrandingRoute(tenants: tenants, store: store, renderer: renderer).register(on: native)
        AccountRoutes(
            env: signIn, administration: administration, store: store, grants: grants,
            sessions: ConsoleSessions(
                store: store, hasher: hasher, time: time, random: .system, configuration: configuration, area: "account")
        ).register(on: native)
        device.registerVerification(on: native)
        UserinfoRoute(
            configuration: configuration, tenants: tenants, inspector: inspector, users: store, clients: clients, renderer: renderer,
            dpop: dpop
        ).register(on: browsers(native, methods: "GET, POST", headers: "Authorization, Content-Type, DPoP"))
        TokenManagementRoutes(
            configuration: configuration, front: front, inspector: inspector, grants: store, apis: store,
            state: signInState, users: store, renderer: renderer, signIns: signIns, time: time, dpop: dpop
        ).register(on: native, browsers: browserGroups[0].1)
        // The admin API (openapi/admin.yaml): Gatehouse's own tokens, checked at the group's door.
        let admin = router.group().add(
            middleware: AdminAccessMiddleware(
                configuration: configuration, store: store, tenants: tenants, inspector: inspector, throttles: throttles,
                renderer: renderer))
        try AdminAPIHandler(service: administration, configuration: configuration, passwords: passwordHasher).registerHandlers(
            on: admin, serverURL: try Servers.Server1.url())
        return router
    }

    /// The outbox's sender, when mail has a transport.
    /// The outbox's sender: mails (when mail has a transport) and back-channel logout tokens.
    public func outboxSender(node: String = UUID().uuidString, logger: Logger = Logger(label: "gatehouse")) -> (any Service)? {
        OutboxSender(
            store: store, transport: mailTransport,
            logouts: fetcher.map { fetcher in
                BackchannelLogoutSender(keyRings: keyRings, fetcher: fetcher, tenants: store, signIns: signIns, time: time)
            },
            box: secretBox, time: time, node: node, logger: logger, telemetry: telemetry)
    }

    var metricsRoute: MetricsRoute { MetricsRoute(telemetry: telemetry, store: store, keyRings: keyRings, time: time) }

    /// The management port's routes (`--metrics-port`): `/metrics` (when metrics are on) and the
    /// health endpoints, readiness in detail.
    public func buildMetricsRouter() -> Router<BasicRequestContext> {
        let router = Router()
        if telemetry.enabled {
            let route = metricsRoute
            router.get("/metrics") { _, _ in await route.exposition() }
        }
        HealthRoutes(store: store, keyRings: keyRings).register(management: router)
        return router
    }

    /// HTTP/1.1 with an idle timeout (also bounding how long a request head may take), over TLS
    /// when certificate and key files are configured (HummingbirdTLS, NIOSSL).
    func serverBuilder() throws -> HTTPServerBuilder {
        let http1 = HTTP1Channel.Configuration(idleTimeout: .milliseconds(Int64(configuration.idleTimeout * 1000)))
        guard let tls = configuration.tls else { return .http1(configuration: http1) }
        let chain = try NIOSSLCertificate.fromPEMFile(tls.certificatePath)
        guard !chain.isEmpty else { throw TLSSetupError(description: "no certificate in \(tls.certificatePath)") }
        let key = try NIOSSLPrivateKey(file: tls.keyPath, format: .pem)
        var tlsConfiguration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tlsConfiguration.minimumTLSVersion = .tlsv12
        return try .tls(.http1(configuration: http1), tlsConfiguration: tlsConfiguration)
    }

    /// The application: the router, the HTTP server, and the services that run beside it (the
    /// sign-in log writer, the change watcher, the janitor and the key rotator), all shut down
    /// gracefully on SIGTERM. `node` names this process in the janitor's and the rotator's leases.
    public func buildApplication(
        logger: Logger = Logger(label: "gatehouse"), node: String = UUID().uuidString, extraServices: [any Service] = []
    ) throws
        -> some ApplicationProtocol
    {
        var extraServices = extraServices
        if let metricsPort = configuration.metricsPort {
            extraServices.append(
                Application(
                    router: buildMetricsRouter(),
                    configuration: .init(address: .hostname(configuration.host, port: metricsPort), serverName: nil), logger: logger))
        }
        return Application(
            router: try buildRouter(),
            server: try serverBuilder(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: [
                signIns,
                secretUsage,
                changeWatcher(logger: logger),
                Sweeper(
                    store: store, grantRetention: configuration.signIn.refreshIdleLifetime, time: time,
                    signInRetention: configuration.signInRetention, aggregateRetention: configuration.signInAggregateRetention,
                    failureWindow: max(configuration.signIn.lockoutDuration, configuration.signIn.interactionLifetime),
                    node: node, logger: logger),
                KeyRotator(administration: administration, policy: configuration.signIn, node: node, logger: logger),
            ] + (outboxSender(node: node, logger: logger).map { [$0] } ?? []) + extraServices,
            logger: logger)
    }
}

struct TLSSetupError: Error, CustomStringConvertible {
    let description: String
}
