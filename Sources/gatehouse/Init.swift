import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseServer

/// `gatehouse init`: creates the database, its key-encryption key and the first tenant, as
/// `serve` does on its first start, and says how to start the server on it.
struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a database: its key-encryption key, the first tenant (gatehouse.bootstrap_tenant, default 'default') "
            + "with its signing keys, and every tenant's admin API. Refuses a database that exists.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let settings = try await Settings.load(global: global)
        guard settings.storage == "sqlite", settings.databasePath != ":memory:" else {
            throw CLIError("init makes a database to keep; an in-memory one is gone when init ends (serve --storage memory needs none)")
        }
        if !settings.databasePath.contains("://"), FileManager.default.fileExists(atPath: settings.databasePath) {
            throw CLIError("a database exists at \(settings.databaseDescription): init creates one and changes nothing in it")
        }
        let (store, close) = try await settings.openStore(creating: true)
        do {
            guard try await store.tenants().isEmpty else {
                throw CLIError("the database at \(settings.databaseDescription) already has tenants: init changes nothing in it")
            }
            let hasher = try await Gatehouse.hasher(store: store, configuredKey: settings.secretHashKey)
            let administration = Administration(store: store, hasher: hasher)
            let lines = try await Self.prepare(administration, settings: settings, global: global)
            if global.json {
                let tenant = settings.bootstrapTenant
                try printJSON([
                    "database": settings.databaseDescription, "tenant": tenant, "issuer": settings.serverConfiguration().issuer(tenant),
                    "token_endpoint": settings.serverConfiguration().tokenEndpoint(tenant),
                ])
            } else {
                for line in lines { say(line) }
                say("Database:       \(settings.databaseDescription)")
                say("Start it:       \(Self.command(global, "serve", settings: settings))")
            }
            try await close()
        } catch {
            try? await close()
            throw error
        }
    }

    /// What a first start does (`serve` and `init`): the bootstrap tenant when there is none, and
    /// the admin API for every tenant that lacks it. Returns the lines to show.
    static func prepare(_ administration: Administration, settings: Settings, global: GlobalOptions) async throws -> [String] {
        var lines: [String] = []
        let configuration = settings.serverConfiguration()
        let tenant = try parseTenant(settings.bootstrapTenant)
        if try await administration.store.tenants().isEmpty, try await Self.createBootstrapTenant(tenant, administration) {
            lines += [
                "Created tenant '\(tenant)' with an ES256 signing key.",
                "Issuer:         \(configuration.issuer(tenant.value))",
                "Token endpoint: \(configuration.tokenEndpoint(tenant.value))",
                "Console:        \(BuiltInConsole.home(baseURL: configuration.baseURL, tenant: tenant.value)) (for users holding Admin.Read or Admin.Write)",
                "Create a client: \(command(global, "clients create --tenant \(tenant) --name my-service --scope api.read", settings: settings))",
            ]
            if !settings.baseURLIsConfigured {
                lines.append(
                    "(URLs for the base URL \(settings.baseURL); set --base-url or GATEHOUSE_BASE_URL if clients reach it elsewhere)")
            }
        }
        // Every tenant has its admin API (tenants made before there was one get it now).
        let adminAPIs = try await administration.ensureAdminAPIs()
        for tenant in adminAPIs.created { lines.append("Tenant '\(tenant)': admin API added.") }
        for (tenant, why) in adminAPIs.refused { lines.append("warning: tenant '\(tenant)' has no admin API: \(why)") }
        let consoles = try await administration.ensureConsoleClients()
        for tenant in consoles.created { lines.append("Tenant '\(tenant)': console client added.") }
        for (tenant, why) in consoles.refused { lines.append("warning: tenant '\(tenant)' has no console: \(why)") }
        return lines
    }

    /// Creates the first tenant; false when another process starting on the same new database
    /// made it first (both then go on with it).
    static func createBootstrapTenant(_ tenant: TenantName, _ administration: Administration) async throws -> Bool {
        do {
            try await administration.createTenant(name: tenant)
            return true
        } catch let error as Administration.AdministrationError where error.kind == .conflict {
            return false
        }
    }

    /// A command line for this program that reaches the database and configuration this one
    /// runs with: its `--config` and `--database` (from the flags or the environment), and the
    /// base URL when no configuration file carries it and it is not the default.
    static func command(_ global: GlobalOptions, _ arguments: String, settings: Settings) -> String {
        let invoked = CommandLine.arguments.first ?? "gatehouse"
        var line = invoked.contains("/.build/") ? "swift run gatehouse" : invoked
        line += " " + arguments
        let environment = ProcessInfo.processInfo.environment
        let config = global.config ?? environment["GATEHOUSE_CONFIG"]
        if let config { line += " --config \(shellQuoted(config))" }
        if let database = global.database ?? environment["GATEHOUSE_DATABASE"] { line += " --database \(shellQuoted(database))" }
        if config == nil, settings.baseURL != Settings.defaultBaseURL { line += " --base-url \(shellQuoted(settings.baseURL))" }
        return line
    }

    static func shellQuoted(_ text: String) -> String {
        let plain = text.allSatisfy { $0.isLetter || $0.isNumber || "-_./:@%+=,".contains($0) }
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
