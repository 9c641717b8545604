import ArgumentParser
import Configuration
import Foundation
import GatehouseCore
import GatehouseServer
import Hummingbird
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (the default command).")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Address to listen on (env GATEHOUSE_HTTP_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (env GATEHOUSE_HTTP_PORT; default 8080).")
    var port: Int?

    @Option(
        name: .customLong("base-url"),
        help: "Public base URL for issuers, endpoints and error links (env GATEHOUSE_BASE_URL; default http://HOST:PORT).")
    var baseURL: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env GATEHOUSE_LOG_LEVEL).")
    var logLevel: String?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: serve HTTPS (env GATEHOUSE_TLS_CERT; needs --tls-key).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert (env GATEHOUSE_TLS_KEY).")
    var tlsKey: String?

    @Option(help: "Storage backend: sqlite (default) or memory (env GATEHOUSE_STORAGE).")
    var storage: String?

    func run() async throws {
        var overrides: [AbsoluteConfigKey: ConfigValue] = [:]
        if let host { overrides["gatehouse.http.host"] = .init(.string(host), isSecret: false) }
        if let port { overrides["gatehouse.http.port"] = .init(.int(port), isSecret: false) }
        if let baseURL { overrides["gatehouse.base_url"] = .init(.string(baseURL), isSecret: false) }
        if let logLevel { overrides["gatehouse.log_level"] = .init(.string(logLevel), isSecret: false) }
        if let tlsCert { overrides["gatehouse.tls.cert"] = .init(.string(tlsCert), isSecret: false) }
        if let tlsKey { overrides["gatehouse.tls.key"] = .init(.string(tlsKey), isSecret: false) }
        if let storage { overrides["gatehouse.storage"] = .init(.string(storage), isSecret: false) }
        // A language file that cannot be used stops start-up, naming the file and the problem.
        do { _ = try CatalogueTexts.loadBundled() } catch { throw CLIError("\(error)") }
        let settings = try await Settings.load(global: global, overrides: overrides)
        guard let level = Logger.Level(rawValue: settings.logLevel) else {
            throw ValidationError("unknown log level '\(settings.logLevel)'")
        }
        if let tls = settings.tls {
            for path in [tls.certificatePath, tls.keyPath] where !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("cannot read TLS file '\(path)' (make one with: gatehouse dev-cert)")
            }
        } else if settings.tlsHalf {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        guard let url = URL(string: settings.baseURL), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw ValidationError("base URL '\(settings.baseURL)' must be an absolute http or https URL")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            // No request value can forge a log line: control characters are escaped.
            return EscapingLogHandler(handler)
        }
        let logger = Logger(label: "gatehouse")
        let (store, close) = try await settings.openStore()
        let hasher = try await Gatehouse.hasher(store: store, configuredKey: settings.secretHashKey)
        let gatehouse = Gatehouse(configuration: settings.serverConfiguration(), store: store, hasher: hasher, logger: logger)

        if try await store.tenants().isEmpty {
            let tenant = try parseTenant(settings.bootstrapTenant)
            try await gatehouse.administration.createTenant(name: tenant)
            say(
                """
                Created tenant '\(tenant)' with an ES256 signing key.
                Issuer:         \(gatehouse.configuration.issuer(tenant.value))
                Token endpoint: \(gatehouse.configuration.tokenEndpoint(tenant.value))
                Create a client:  swift run gatehouse clients create --tenant \(tenant) --name my-service --scope api.read
                """)
        }
        if settings.storage == "sqlite" { say("Database: \(settings.databaseDescription)") }
        say(
            "Gatehouse listening on \(settings.tls == nil ? "http" : "https")://\(settings.host):\(settings.port) (base URL \(settings.baseURL))"
        )
        let app = try gatehouse.buildApplication(logger: logger)
        try await app.runService()
        try await close()
    }
}

/// Writes a line to standard output unbuffered, so that start-up hints show at once also when
/// standard output is a pipe or a file.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
