import ArgumentParser
import Configuration
import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseStore
import Logging
import Metrics
import SystemPackage

/// Options every subcommand shares: where the database and the configuration file are.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "SQLite database file, ':memory:', or a postgres://user@host:port/db URL "
                + "(env GATEHOUSE_DATABASE; default ./gatehouse-data/gatehouse.sqlite)."))
    var database: String?

    @Option(name: .long, help: "JSON configuration file (env GATEHOUSE_CONFIG). See docs/configuration.md.")
    var config: String?

    @Option(
        name: .customLong("base-url"),
        help: "Public base URL for issuers, endpoints and error links (env GATEHOUSE_BASE_URL; default http://HOST:PORT).")
    var baseURL: String?

    @Flag(help: "Print JSON (for scripts) instead of a table or text.") var json = false
}

/// The resolved settings: flags first, then environment variables, then the configuration file,
/// then defaults (swift-configuration). docs/configuration.md lists every key.
struct Settings {
    let reader: ConfigReader

    static func load(global: GlobalOptions, overrides: [AbsoluteConfigKey: ConfigValue] = [:]) async throws -> Settings {
        var values = overrides
        if let database = global.database { values["gatehouse.database"] = .init(.string(database), isSecret: false) }
        if let baseURL = global.baseURL { values["gatehouse.base_url"] = .init(.string(baseURL), isSecret: false) }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: values),
            EnvironmentVariablesProvider(secretsSpecifier: .specific(["GATEHOUSE_SECRET_HASH_KEY", "GATEHOUSE_SMTP_URL"])),
        ]
        let environment = ProcessInfo.processInfo.environment
        if let file = global.config ?? environment["GATEHOUSE_CONFIG"] {
            guard FileManager.default.fileExists(atPath: file) else { throw CLIError("configuration file '\(file)' does not exist") }
            providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(file)))
        }
        return Settings(reader: ConfigReader(providers: providers))
    }

    var databasePath: String { reader.string(forKey: "gatehouse.database", default: "./gatehouse-data/gatehouse.sqlite") }
    var storage: String { reader.string(forKey: "gatehouse.storage", default: "sqlite") }
    var host: String { reader.string(forKey: "gatehouse.http.host", default: "127.0.0.1") }
    var port: Int { reader.int(forKey: "gatehouse.http.port", default: 8080) }
    var baseURL: String {
        let defaultPort = tls == nil ? 80 : 443
        let authority = (host == "0.0.0.0" ? "127.0.0.1" : host) + (port == defaultPort ? "" : ":\(port)")
        return reader.string(forKey: "gatehouse.base_url", default: "\(tls == nil ? "http" : "https")://\(authority)")
    }
    /// The base URL with every setting at its default.
    static let defaultBaseURL = "http://127.0.0.1:8080"

    /// Whether the base URL was configured (flag, environment or file) rather than derived.
    var baseURLIsConfigured: Bool { reader.string(forKey: "gatehouse.base_url") != nil }

    /// For commands that print the server's URLs: a line (to standard error) saying which base URL
    /// they were printed for when none was configured, and how to configure it.
    func warnIfBaseURLAssumed() {
        guard !baseURLIsConfigured else { return }
        FileHandle.standardError.write(
            Data(
                ("note: URLs printed for the base URL \(baseURL), assumed from the host and port settings; if the server "
                    + "answers elsewhere, give this command the server's --config, or set --base-url / GATEHOUSE_BASE_URL / "
                    + "gatehouse.base_url\n").utf8))
    }

    var tls: TLSFiles? {
        guard let cert = reader.string(forKey: "gatehouse.tls.cert"), let key = reader.string(forKey: "gatehouse.tls.key") else {
            return nil
        }
        return TLSFiles(certificatePath: cert, keyPath: key)
    }
    /// Only one of the two TLS files was given.
    var tlsHalf: Bool { (reader.string(forKey: "gatehouse.tls.cert") == nil) != (reader.string(forKey: "gatehouse.tls.key") == nil) }
    var logLevel: String { reader.string(forKey: "gatehouse.log_level", default: "info") }
    var logFormat: String { reader.string(forKey: "gatehouse.log_format", default: "text") }
    var metricsPort: Int? { reader.int(forKey: "gatehouse.metrics_port") }
    var metricsToken: String? { reader.string(forKey: "gatehouse.metrics_token", isSecret: true).flatMap { $0.isEmpty ? nil : $0 } }
    /// `gatehouse.admin_tenant`: the administrative tenant (default `gatehouse`; empty: none).
    var adminTenant: TenantName? {
        guard let raw = reader.string(forKey: "gatehouse.admin_tenant") else { return ServerConfiguration.defaultAdminTenant }
        return raw.isEmpty ? nil : try? TenantName(raw)
    }
    /// `gatehouse.webauthn.rp_id`: the WebAuthn relying party ID (default: the base URL's host).
    var webAuthnRPID: String? { reader.string(forKey: "gatehouse.webauthn.rp_id").flatMap { $0.isEmpty ? nil : $0.lowercased() } }
    var metricsEnabled: Bool { reader.string(forKey: "gatehouse.metrics", default: "on") != "off" }
    var otlpEndpoint: String? { reader.string(forKey: "gatehouse.otlp_endpoint").flatMap { $0.isEmpty ? nil : $0 } }
    var secretHashKey: String? { reader.string(forKey: "gatehouse.secret_hash_key", isSecret: true) }
    /// `gatehouse.smtp.url` (with its password: a secret) and `gatehouse.smtp.from`.
    var smtpURL: String? { reader.string(forKey: "gatehouse.smtp.url", isSecret: true).flatMap { $0.isEmpty ? nil : $0 } }
    var smtpFrom: String? { reader.string(forKey: "gatehouse.smtp.from").flatMap { $0.isEmpty ? nil : $0 } }
    /// `gatehouse.tls.extra_ca_file`: CA certificates every outbound TLS connection trusts beside the system's.
    var extraCAFile: String? { reader.string(forKey: "gatehouse.tls.extra_ca_file").flatMap { $0.isEmpty ? nil : $0 } }
    var cacheTTL: Double { reader.double(forKey: "gatehouse.cache_ttl", default: 5) }
    /// The database for messages: a URL without its password.
    var databaseDescription: String {
        guard databasePath.contains("://"), var components = URLComponents(string: databasePath) else { return databasePath }
        if components.password != nil { components.password = "***" }
        components.query = nil
        return components.string ?? "(PostgreSQL)"
    }
    var databasePoolSize: Int { max(1, reader.int(forKey: "gatehouse.database_pool_size", default: 10)) }
    var signInRetentionDays: Double { reader.double(forKey: "gatehouse.signin_retention_days", default: 30) }
    var signInAggregateRetentionDays: Double { reader.double(forKey: "gatehouse.signin_aggregate_retention_days", default: 90) }
    var passwordHashCost: Int { reader.int(forKey: "gatehouse.password_hash_cost", default: 12) }
    var codeLifetime: Double { reader.double(forKey: "gatehouse.code_lifetime_seconds", default: 120) }
    var sessionLifetime: Double { reader.double(forKey: "gatehouse.session_lifetime_seconds", default: 8 * 3600) }
    var refreshGrace: Double { reader.double(forKey: "gatehouse.refresh_reuse_grace_seconds", default: 10) }
    var refreshRetryWindow: Double { reader.double(forKey: "gatehouse.refresh_retry_window_seconds", default: 120) }
    var refreshIdleDays: Double { reader.double(forKey: "gatehouse.refresh_idle_days", default: 14) }
    var refreshAbsoluteDays: Double { reader.double(forKey: "gatehouse.refresh_absolute_days", default: 90) }
    var lockoutThreshold: Int { reader.int(forKey: "gatehouse.lockout_threshold", default: 5) }
    var lockoutMinutes: Double { reader.double(forKey: "gatehouse.lockout_minutes", default: 15) }
    var deviceCodeLifetime: Double { reader.double(forKey: "gatehouse.device_code_lifetime_seconds", default: 900) }
    var deviceCodeInterval: Int { reader.int(forKey: "gatehouse.device_code_interval_seconds", default: 5) }
    var bootstrapTenant: String { reader.string(forKey: "gatehouse.bootstrap_tenant", default: "default") }
    var idleTimeout: Double { reader.double(forKey: "gatehouse.http.idle_timeout_seconds", default: 30) }
    var hstsMaxAge: Int { reader.int(forKey: "gatehouse.http.hsts_max_age", default: 31_536_000) }
    var throttling: ThrottleSettings {
        var settings = ThrottleSettings()
        func limit(_ name: String, _ base: FailureThrottle.Limit) -> FailureThrottle.Limit {
            FailureThrottle.Limit(
                failures: max(0, reader.int(forKey: ConfigKey("gatehouse.throttle.\(name)_failures"), default: base.failures)),
                window: max(1, reader.double(forKey: ConfigKey("gatehouse.throttle.\(name)_window_seconds"), default: base.window)))
        }
        settings.client = limit("client", settings.client)
        settings.signIn = limit("signin", settings.signIn)
        settings.userCode = limit("user_code", settings.userCode)
        settings.passwordSource = limit("password_source", settings.passwordSource)
        settings.passwordReset = limit("password_reset", settings.passwordReset)
        settings.registration = limit("registration", settings.registration)
        settings.passwordResetAccount = limit("password_reset_account", settings.passwordResetAccount)
        settings.passkey = limit("passkey", settings.passkey)
        settings.clientRegistration = limit("client_registration", settings.clientRegistration)
        let proxies = reader.string(forKey: "gatehouse.trusted_proxies", default: "")
        settings.trustedProxies = Set(proxies.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        return settings
    }

    func serverConfiguration() -> ServerConfiguration {
        var configuration = ServerConfiguration(baseURL: baseURL, host: host, port: port)
        configuration.cacheTTL = cacheTTL
        configuration.tls = tls
        configuration.logLevel = logLevel
        configuration.metricsPort = metricsPort
        configuration.metricsToken = metricsToken
        configuration.adminTenant = adminTenant
        configuration.webAuthnRPID = webAuthnRPID
        configuration.throttling = throttling
        configuration.signInRetention = max(signInRetentionDays, 0.001) * 86400
        configuration.signInAggregateRetention = max(signInAggregateRetentionDays, 0.001) * 86400
        configuration.passwordHashCost = UInt8(clamping: min(max(passwordHashCost, 4), 31))
        configuration.signIn.codeLifetime = max(codeLifetime, 1)
        configuration.signIn.sessionLifetime = max(sessionLifetime, 60)
        configuration.signIn.refreshReuseGrace = max(refreshGrace, 0)
        configuration.signIn.refreshRetryWindow = max(refreshRetryWindow, 0)
        configuration.signIn.refreshIdleLifetime = max(refreshIdleDays, 0.0001) * 86400
        configuration.signIn.refreshAbsoluteLifetime = max(refreshAbsoluteDays, 0.0001) * 86400
        configuration.signIn.lockoutThreshold = max(lockoutThreshold, 1)
        configuration.signIn.lockoutDuration = max(lockoutMinutes, 0.01) * 60
        configuration.signIn.deviceCodeLifetime = max(deviceCodeLifetime, 10)
        configuration.signIn.deviceCodeInterval = min(max(deviceCodeInterval, 1), 60)
        configuration.idleTimeout = max(idleTimeout, 1)
        configuration.hstsMaxAge = max(hstsMaxAge, 0)
        return configuration
    }

    /// Opens the store the settings name, with the key-encryption key (`resolveKEK`). Only `serve`
    /// and `init` create a database (`creating`); any other command refuses one that does not
    /// exist, and makes no key-encryption key. A KEK file made by this start for a database that
    /// turns out to need another is taken away again.
    func openStore(metrics: any MetricsFactory = NOOPMetricsHandler.instance, creating: Bool = false) async throws -> (
        any GatehouseStore, close: @Sendable () async throws -> Void
    ) {
        let isPostgres = databasePath.hasPrefix("postgres://") || databasePath.hasPrefix("postgresql://")
        if storage == "sqlite", !isPostgres, databasePath.contains("://") {
            throw CLIError("--database takes a file path (SQLite) or a postgres:// URL; this URL's scheme is neither")
        }
        if storage == "sqlite", !isPostgres, !creating, databasePath != ":memory:", !FileManager.default.fileExists(atPath: databasePath) {
            throw CLIError(noDatabase)
        }
        let kek = storage == "memory" ? nil : try resolveKEK(mayCreate: creating)
        do {
            let opened: (any GatehouseStore, close: @Sendable () async throws -> Void)
            switch storage {
            case "memory":
                opened = (InMemoryStore(), {})
            case "sqlite" where isPostgres:
                // The scheme chooses the backend: a URL is PostgreSQL, a path is SQLite.
                let database = try await PostgresDatabase.open(
                    url: databasePath, poolSize: databasePoolSize, metrics: metrics, kek: kek?.key, creating: creating)
                opened = (database.store, { await database.close() })
            case "sqlite":
                let database = try await SQLiteDatabase.open(path: databasePath, metrics: metrics, kek: kek?.key)
                opened = (database.store, { try await database.close() })
            default:
                throw CLIError("unknown storage '\(storage)': use sqlite or memory")
            }
            if let kek, let made = kek.madeFile { Self.warnMadeKEK(kek.key, path: made) }
            return opened
        } catch {
            // The database did not open: the key file this start made for it goes again.
            if let made = kek?.madeFile { try? FileManager.default.removeItem(atPath: made) }
            switch error {
            case KEKError.wrongKEK(let needed, _) where kek?.madeFile != nil:
                // The database existed, sealed under another key, and its key file is missing.
                throw CLIError(
                    "this database's keys and secrets are encrypted under key-encryption key \(needed), and there is no "
                        + "key-encryption key file at \(kek?.madeFile ?? defaultKEKPath) (nothing was left there): restore that file "
                        + "from your backups, or point GATEHOUSE_KEK_FILE (or GATEHOUSE_KEK) at the key \(needed)")
            case let error as KEKError: throw CLIError("\(error) (this process's key-encryption key: \(kek?.origin ?? "none"))")
            case is PostgresDatabase.NotInitialised: throw CLIError(noDatabase)
            default: throw error
            }
        }
    }

    /// Why a command other than `serve` and `init` stops when the database is not there.
    var noDatabase: String {
        let relative = !databasePath.hasPrefix("/") && !databasePath.contains("://")
        return "no Gatehouse database at \(databaseDescription) (nothing was created there). Give this command the server's "
            + "--database or --config (or GATEHOUSE_DATABASE / GATEHOUSE_CONFIG), or create a database with `gatehouse init` "
            + "(`gatehouse serve` also creates one on its first start)"
            + (relative
                ? ". The path is relative to the folder the command runs in (\(FileManager.default.currentDirectoryPath)), "
                    + "also when a configuration file names it: give the file an absolute path" : "")
    }

    /// The key-encryption key and where it came from.
    struct KEKChoice {
        let key: KeyEncryptionKey
        let origin: String
        /// The file this start made for a new key.
        var madeFile: String? = nil
    }

    /// Where the KEK file is by default: beside the SQLite database, else in ./gatehouse-data.
    var defaultKEKPath: String {
        if databasePath.contains("://") || databasePath == ":memory:" { return "./gatehouse-data/kek" }
        return URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent("kek").path
    }

    /// `GATEHOUSE_KEK` (base64), else the file `GATEHOUSE_KEK_FILE` names, else the default file,
    /// made with a new key when it does not exist yet and `mayCreate` (`serve` and `init`).
    func resolveKEK(mayCreate: Bool) throws -> KEKChoice {
        if let text = reader.string(forKey: "gatehouse.kek", isSecret: true), !text.isEmpty {
            do {
                let key = try KeyEncryptionKey(base64: text)
                return KEKChoice(key: key, origin: "\(key.id) from GATEHOUSE_KEK")
            } catch { throw CLIError("GATEHOUSE_KEK: \(error)") }
        }
        let configured = reader.string(forKey: "gatehouse.kek_file")
        let path = configured ?? defaultKEKPath
        if !FileManager.default.fileExists(atPath: path) {
            if let configured { throw CLIError("the key-encryption key file \(configured) (GATEHOUSE_KEK_FILE) does not exist") }
            guard mayCreate else {
                throw CLIError(
                    "no key-encryption key file at \(path), which the database's keys and secrets need: set GATEHOUSE_KEK_FILE "
                        + "to the server's key file (or GATEHOUSE_KEK to the key), or give this command the server's --config")
            }
            let (key, base64) = KeyEncryptionKey.generate()
            if try writeNewKEK((path, base64), key: key) { return KEKChoice(key: key, origin: "\(key.id), new in \(path)", madeFile: path) }
            // Another process made it first: use theirs.
        }
        return try readKEK(path)
    }

    func readKEK(_ path: String) throws -> KEKChoice {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CLIError("cannot read the key-encryption key file \(path)")
        }
        // Reported like the database files (`SQLiteDatabase.permissionWarnings`), not changed behind the operator's back.
        if let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
            FileHandle.standardError.write(
                Data(
                    ("warning: the key-encryption key file '\(path)' is mode \(String(mode, radix: 8)): other users of this machine "
                        + "can read the key that opens every signing key and secret in the database; run chmod 600 '\(path)'\n").utf8))
        }
        do {
            let key = try KeyEncryptionKey(base64: text)
            return KEKChoice(key: key, origin: "\(key.id) from \(path)")
        } catch { throw CLIError("the key-encryption key file \(path): \(error)") }
    }

    /// Makes a KEK file readable by its owner only (its folder 0700 if new) whole or not at all:
    /// written to a file of its own, then linked into place, which fails when another process
    /// linked its key first (then false). Warns that the key must be kept.
    func writeNewKEK(_ pending: (path: String, base64: String), key: KeyEncryptionKey) throws -> Bool {
        let folder = URL(fileURLWithPath: pending.path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = pending.path + ".new-\(getpid())-\(UUID().uuidString.prefix(8))"
        let descriptor = open(temporary, O_CREAT | O_EXCL | O_WRONLY, 0o600)
        guard descriptor >= 0 else { throw CLIError("cannot write the new key-encryption key file \(pending.path)") }
        defer { unlink(temporary) }
        let text = Array((pending.base64 + "\n").utf8)
        let written = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == text.count, synced == 0 else { throw CLIError("cannot write the new key-encryption key file \(pending.path)") }
        guard link(temporary, pending.path) == 0 else {
            if errno == EEXIST { return false }
            throw CLIError("cannot write the new key-encryption key file \(pending.path)")
        }
        return true
    }

    /// Says that a new KEK file was made and must be kept (once the database it seals has opened).
    static func warnMadeKEK(_ key: KeyEncryptionKey, path: String) {
        FileHandle.standardError.write(
            Data(
                ("warning: made a key-encryption key (\(key.id)) in \(path): the signing keys and secrets in the database are "
                    + "encrypted under it and cannot be read without it. Keep it with your backups, apart from the database, "
                    + "or set GATEHOUSE_KEK / GATEHOUSE_KEK_FILE (docs/security.md).\n").utf8))
    }
}

/// Opens the store, runs `body`, closes the store.
func withStore<T>(_ global: GlobalOptions, _ body: (any GatehouseStore, Settings) async throws -> T) async throws -> T {
    let settings = try await Settings.load(global: global)
    let (store, close) = try await settings.openStore()
    do {
        let result = try await body(store, settings)
        try await close()
        return result
    } catch {
        try? await close()
        throw error
    }
}

/// Opens the store and runs `body` with the administration API; its refusals become argument errors.
func withAdministration<T>(_ global: GlobalOptions, _ body: (Administration, Settings) async throws -> T) async throws -> T {
    try await withStore(global) { store, settings in
        let hasher = try await Gatehouse.hasher(store: store, configuredKey: settings.secretHashKey)
        do {
            var administration = Administration(store: store, hasher: hasher)
            administration.mailer = AccountMailer(
                baseURL: settings.baseURL, texts: .bundled, box: SecretBox(serverKey: hasher.keyData))
            return try await body(administration, settings)
        } catch let error as Administration.AdministrationError {
            throw CLIError(cliMessage(error))
        }
    }
}

/// Runs a check of the administration service on arguments; its refusal is the command's error.
func cli<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as Administration.AdministrationError { throw CLIError(cliMessage(error)) }
}

/// The service's refusal in the CLI's words: where a rule is met by an option, the option is named.
func cliMessage(_ error: Administration.AdministrationError) -> String {
    switch (error.field, error.rule) {
    case ("redirect_uris", "required"): "authorization_code needs at least one --redirect-uri"
    case ("jwks", "required"): "private_key_jwt needs the client's JWKS (--jwks-file) or a certificate (--certificate)"
    case ("identifiers", "required"): "an API needs at least one identifier (--identifier URI)"
    case ("auth_methods", "private_key_jwt"):
        error.message + " (switch it with: clients update --tenant T ID --auth-method private_key_jwt --certificate FILE)"
    default: error.message
    }
}

/// A failure of what a command was asked to do (not of how it was asked): printed without usage.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func parseTenant(_ raw: String) throws -> TenantName {
    do { return try TenantName(raw) } catch {
        throw CLIError(
            "'\(raw)' is not a valid tenant name: 1-63 characters of a-z, 0-9, '-' and '.', starting with a letter or digit")
    }
}

func parseClientID(_ raw: String) throws -> ClientID {
    do { return try ClientID(raw) } catch { throw CLIError("'\(raw)' is not a valid client ID: 1-255 visible ASCII characters") }
}

func printJSON(_ object: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    print(String(decoding: data, as: UTF8.self))
}
