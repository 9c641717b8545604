import ArgumentParser
import Configuration
import Foundation
import GatehouseCore
import GatehouseSMTP
import GatehouseServer
import Hummingbird
import Logging
import Metrics
import OTel
import ServiceLifecycle
import Tracing

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (the default command).")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Address to listen on (env GATEHOUSE_HTTP_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (env GATEHOUSE_HTTP_PORT; default 8080).")
    var port: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env GATEHOUSE_LOG_LEVEL).")
    var logLevel: String?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: serve HTTPS (env GATEHOUSE_TLS_CERT; needs --tls-key).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert (env GATEHOUSE_TLS_KEY).")
    var tlsKey: String?

    @Option(help: "Storage backend: sqlite (default) or memory (env GATEHOUSE_STORAGE).")
    var storage: String?

    @Option(name: .customLong("log-format"), help: "text (default) or json: one JSON object per line (env GATEHOUSE_LOG_FORMAT).")
    var logFormat: String?

    @Option(
        name: .customLong("metrics-port"),
        help: ArgumentHelp(
            "The management port, on the same address: /metrics and readiness in detail (env GATEHOUSE_METRICS_PORT; "
                + "default: none; the main port serves neither, except to the bearer of GATEHOUSE_METRICS_TOKEN)."))
    var metricsPort: Int?

    @Option(
        name: .customLong("otlp-endpoint"),
        help: ArgumentHelp(
            "Export OpenTelemetry traces and metrics over OTLP/HTTP to this base URL, e.g. http://127.0.0.1:4318 "
                + "(env GATEHOUSE_OTLP_ENDPOINT; default off). The standard OTEL_* variables refine it."))
    var otlpEndpoint: String?

    func run() async throws {
        var overrides: [AbsoluteConfigKey: ConfigValue] = [:]
        if let host { overrides["gatehouse.http.host"] = .init(.string(host), isSecret: false) }
        if let port { overrides["gatehouse.http.port"] = .init(.int(port), isSecret: false) }
        if let logLevel { overrides["gatehouse.log_level"] = .init(.string(logLevel), isSecret: false) }
        if let tlsCert { overrides["gatehouse.tls.cert"] = .init(.string(tlsCert), isSecret: false) }
        if let tlsKey { overrides["gatehouse.tls.key"] = .init(.string(tlsKey), isSecret: false) }
        if let storage { overrides["gatehouse.storage"] = .init(.string(storage), isSecret: false) }
        if let logFormat { overrides["gatehouse.log_format"] = .init(.string(logFormat), isSecret: false) }
        if let metricsPort { overrides["gatehouse.metrics_port"] = .init(.int(metricsPort), isSecret: false) }
        if let otlpEndpoint { overrides["gatehouse.otlp_endpoint"] = .init(.string(otlpEndpoint), isSecret: false) }
        // A language file that cannot be used stops start-up, naming the file and the problem.
        do { _ = try CatalogueTexts.loadBundled() } catch { throw CLIError("\(error)") }
        let settings = try await Settings.load(global: global, overrides: overrides)
        guard let level = Logger.Level(rawValue: settings.logLevel) else {
            throw CLIError("unknown log level '\(settings.logLevel)'")
        }
        if let tls = settings.tls {
            for path in [tls.certificatePath, tls.keyPath] where !FileManager.default.isReadableFile(atPath: path) {
                throw CLIError("cannot read TLS file '\(path)' (make one with: gatehouse dev-cert)")
            }
        } else if settings.tlsHalf {
            throw CLIError("--tls-cert and --tls-key go together")
        }
        guard let url = URL(string: settings.baseURL), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw CLIError("base URL '\(settings.baseURL)' must be an absolute http or https URL")
        }
        if let rpID = settings.webAuthnRPID, let host = url.host, !ServerConfiguration.isValidRPID(rpID, forHost: host) {
            throw CLIError("gatehouse.webauthn.rp_id '\(rpID)' must be the base URL's host '\(host)' or a registrable suffix of it")
        }
        guard ["text", "json"].contains(settings.logFormat) else {
            throw CLIError("unknown log format '\(settings.logFormat)': use text or json")
        }
        if let metricsPort = settings.metricsPort, !(1...65535).contains(metricsPort) || metricsPort == settings.port {
            throw CLIError("--metrics-port must be a port other than --port")
        }
        // OpenTelemetry, when an OTLP endpoint is configured: spans of requests, and every metric
        // also exported over OTLP/HTTP; log lines then carry the span's IDs (otel_trace_id, otel_span_id).
        let otel = try settings.otlpEndpoint.map(Self.openTelemetry(endpoint:))
        var metadataProvider: Logger.MetadataProvider? = nil
        if otel != nil {
            var keys = OTel.Configuration.LoggingMetadataProviderConfiguration.default
            (keys.traceIDKey, keys.spanIDKey, keys.traceFlagsKey) = ("otel_trace_id", "otel_span_id", "otel_trace_flags")
            metadataProvider = OTel.makeLoggingMetadataProvider(configuration: keys)
        }
        let format: LogFormat = settings.logFormat == "json" ? .json : .text
        let output = BufferedLogOutput()
        LoggingSystem.bootstrap(
            { label, provider in
                var handler = LineLogHandler(label: label, sink: output, format: format, metadataProvider: provider)
                handler.logLevel = level
                return handler
            }, metadataProvider: metadataProvider)
        let logger = Logger(label: "gatehouse")
        let telemetry = settings.metricsEnabled ? Telemetry(exportingTo: otel.map { [$0.metrics] } ?? []) : Telemetry.disabled()
        MetricsSystem.bootstrap(telemetry.factory)
        let (store, close) = try await settings.openStore(metrics: telemetry.factory, creating: true)
        let hasher = try await Gatehouse.hasher(store: store, configuredKey: settings.secretHashKey)
        var configuration = settings.serverConfiguration()
        configuration.tracing = otel != nil
        if level <= .info { configuration.requestLog = RequestLog(sink: output, format: format) }
        let mail = try Self.mailTransport(settings)
        let fetcher: GuardedFetcher
        do {
            fetcher = try GuardedFetcher(extraCAFile: settings.extraCAFile)
        } catch {
            throw CLIError("gatehouse.tls.extra_ca_file: \(error)")
        }
        let gatehouse = Gatehouse(
            configuration: configuration, store: store, hasher: hasher, logger: logger, telemetry: telemetry, mailTransport: mail,
            fetcher: fetcher)

        for line in try await Init.prepare(gatehouse.administration, settings: settings, global: global) { say(line) }
        if settings.storage == "sqlite" { say("Database: \(settings.databaseDescription)") }
        say(
            "Gatehouse listening on \(settings.tls == nil ? "http" : "https")://\(settings.host):\(settings.port) (base URL \(settings.baseURL))"
        )
        if let mail = mail as? SMTPTransport {
            say("Mail: from \(mail.settings.from) through \(mail.settings)")
        } else {
            say("Mail: off (set gatehouse.smtp.url and gatehouse.smtp.from to send password reset and verification mails)")
        }
        if let otlp = settings.otlpEndpoint { say("OpenTelemetry: traces and metrics to \(otlp) (OTLP/HTTP)") }
        let app = try gatehouse.buildApplication(logger: logger, extraServices: otel?.services ?? [])
        try await app.runService()
        try await close()
        output.flush()
    }
}

extension Serve {
    /// The SMTP transport the settings describe; nil when no SMTP URL is set.
    static func mailTransport(_ settings: Settings) throws -> (any MailTransport)? {
        guard let url = settings.smtpURL else { return nil }
        guard let from = settings.smtpFrom else { throw CLIError("gatehouse.smtp.url needs gatehouse.smtp.from (GATEHOUSE_SMTP_FROM)") }
        do {
            var smtp = try SMTPSettings(url: url, from: from, extraCAFile: settings.extraCAFile)
            smtp.helloName = SMTPSettings.helloName(forHost: URL(string: settings.baseURL)?.host)
            return try SMTPTransport(settings: smtp)
        } catch let error as SMTPSettingsError {
            throw CLIError(error.description)
        } catch {
            throw CLIError("gatehouse.tls.extra_ca_file: \(error)")
        }
    }

    /// The OpenTelemetry tracer (bootstrapped as the process's tracer), the metrics factory that
    /// exports over OTLP, and the services that export them.
    static func openTelemetry(endpoint: String) throws -> (metrics: any MetricsFactory, services: [any Service]) {
        guard let url = URL(string: endpoint), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw CLIError("OTLP endpoint '\(endpoint)' must be an absolute http or https URL")
        }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "gatehouse"
        configuration.logs.enabled = false
        // The signal paths of OTLP/HTTP under the base URL (an endpoint set here is used as it is).
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        configuration.traces.otlpExporter.endpoint = base + "/v1/traces"
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        configuration.metrics.otlpExporter.endpoint = base + "/v1/metrics"
        configuration.metrics.otlpExporter.protocol = .httpProtobuf
        // Both exporters' HTTP clients are made before the tracer is bootstrapped: a client made
        // after it would trace its own export requests, each export making a span to export.
        let tracing = try OTel.makeTracingBackend(configuration: configuration)
        let metrics = try OTel.makeMetricsBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(tracing.factory)
        return (metrics.factory, [tracing.service, metrics.service])
    }
}

/// Writes a line to standard output unbuffered, so that start-up hints show at once also when
/// standard output is a pipe or a file.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
