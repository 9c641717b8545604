import ArgumentParser

@main
struct GatehouseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatehouse",
        abstract: "Gatehouse: an OAuth 2.1 and OpenID Connect authorization server.",
        subcommands: [
            Serve.self, Init.self, Tenants.self, Clients.self, APIs.self, Users.self, Keys.self, Admin.self, Explain.self, SignIns.self,
            DevCert.self,
        ],
        defaultSubcommand: Serve.self)
}
