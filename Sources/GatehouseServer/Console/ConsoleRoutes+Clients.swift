import Foundation
import GatehouseCore
import Hummingbird

/// Clients: the list, a new client, and one client's settings, secrets (a new one is shown once,
/// after a recent sign-in), certificates and API permissions. Every change goes through
/// `Administration` (its checks, its audit entry).
extension ConsoleRoutes {
    func registerClients(on router: RouterGroup<GatehouseContext>) {
        router.get("clients") { request, context in try await self.page(request, context) { call in try await self.clientList(call) } }
        router.post("clients") { request, context in
            try await self.page(request, context, recentSignIn: true) { call in try await self.createClient(call) }
        }
        router.get("clients/:client") { request, context in
            try await self.page(request, context) { call in try await self.clientPage(call) }
        }
        router.post("clients/:client") { request, context in
            try await self.page(request, context, recentSignIn: true) { call in try await self.updateClient(call) }
        }
        router.post("clients/:client/secrets") { request, context in
            try await self.page(request, context, recentSignIn: true) { call in try await self.addSecret(call) }
        }
        router.post("clients/:client/secrets/:secret/remove") { request, context in
            try await self.page(request, context) { call in
                let id = try Self.clientID(call)
                try await call.administration.removeSecret(
                    tenant: call.target.name, clientID: id, secretID: call.context.parameters.get("secret") ?? "")
                return .redirect("\(call.base)/clients/\(Self.percentEncode(id.value))?done=secretRemoved")
            }
        }
        router.post("clients/:client/certificates") { request, context in
            try await self.page(request, context, recentSignIn: true) { call in
                let id = try Self.clientID(call)
                _ = try await call.administration.addCertificate(
                    tenant: call.target.name, clientID: id, pem: call.form["certificate"] ?? "")
                return .redirect("\(call.base)/clients/\(Self.percentEncode(id.value))?done=saved")
            }
        }
        router.post("clients/:client/certificates/remove") { request, context in
            try await self.page(request, context, recentSignIn: true) { call in
                let id = try Self.clientID(call)
                _ = try await call.administration.removeCertificate(
                    tenant: call.target.name, clientID: id, thumbprint: call.form["thumbprint"] ?? "")
                return .redirect("\(call.base)/clients/\(Self.percentEncode(id.value))?done=saved")
            }
        }
        router.post("clients/:client/grants") { request, context in
            try await self.page(request, context, recentSignIn: true) { call in
                let id = try Self.clientID(call)
                _ = try await call.administration.grant(
                    tenant: call.target.name, clientID: id, api: call.form["api"] ?? "",
                    permissions: Self.words(call.form["permissions"]), roles: Self.words(call.form["roles"]))
                return .redirect("\(call.base)/clients/\(Self.percentEncode(id.value))?done=saved")
            }
        }
        router.post("clients/:client/remove") { request, context in
            try await self.page(request, context) { call in
                _ = try await call.administration.removeClient(tenant: call.target.name, id: try Self.clientID(call))
                return .redirect("\(call.base)/clients?done=clientRemoved")
            }
        }
    }

    static func clientID(_ call: Call) throws -> ClientID {
        let raw = call.context.parameters.get("client") ?? ""
        guard let id = try? ClientID(raw.removingPercentEncoding ?? raw) else {
            throw Administration.AdministrationError.notFound("client", raw, tenant: call.target.name)
        }
        return id
    }

    static func words(_ raw: String?) -> [String] {
        (raw ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == "," }).map(String.init)
    }

    private func clientList(_ call: Call) async throws -> Outcome {
        let t = { (key: String) in self.views.text(key, call.language) }
        let clients = try await store.clients(tenant: call.target.name).sorted { $0.id.value < $1.id.value }
        let selfRegistered = Set(try await store.clientRegistrations(tenant: call.target.name).map(\.clientID))
        let rows = clients.map { client -> [String: Any] in
            [
                "id": client.id.value, "name": client.name, "href": "\(call.base)/clients/\(Self.percentEncode(client.id.value))",
                "type": t(client.type.rawValue) + (selfRegistered.contains(client.id) ? " · " + t("selfRegistered") : ""),
                "grants": client.grantTypes.map(\.rawValue).sorted().joined(separator: ", "),
                "state": client.enabled ? t("enabled") : t("disabled"),
            ]
        }
        return .page(section: "clients", title: t("section.clients"), template: .clients, view: ["clients": rows])
    }

    private func createClient(_ call: Call) async throws -> Outcome {
        var spec = Administration.ClientSpec(name: (call.form["name"] ?? "").trimmingCharacters(in: .whitespaces))
        guard !spec.name.isEmpty else { throw Administration.AdministrationError.invalid("name", "required", "a client needs a name") }
        if let raw = call.form["client_id"]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty {
            do { spec.id = try ClientID(raw) } catch {
                throw Administration.AdministrationError.invalid("client_id", "format", "'\(raw)' is not a client ID this server accepts")
            }
        }
        spec.type = call.form["type"] == "public" ? .public : .confidential
        spec.redirectURIs = Self.words(call.form["redirect_uris"])
        spec.allowedScopes = Scope(tokens: Self.words(call.form["scopes"]))
        let (client, secret) = try await call.administration.createClient(tenant: call.target.name, spec: spec)
        let href = "\(call.base)/clients/\(Self.percentEncode(client.id.value))"
        guard let secret else { return .redirect(href + "?done=clientCreated") }
        return shownSecret(secret, href: href, call: call)
    }

    private func shownSecret(_ secret: Administration.NewSecret, href: String, call: Call) -> Outcome {
        .page(
            section: "clients", title: views.text("secretTitle", call.language), template: .secretShown,
            view: [
                "value": secret.value, "id": secret.record.secretID, "href": href,
                "expires": orFalse(secret.record.expiresAt.map { ConsoleViews.time($0) }),
            ])
    }

    private func clientPage(_ call: Call) async throws -> Outcome {
        let t = { (key: String) in self.views.text(key, call.language) }
        let id = try Self.clientID(call)
        guard let stored = try await store.client(tenant: call.target.name, id: id) else {
            throw Administration.AdministrationError.notFound("client", id.value, tenant: call.target.name)
        }
        let client = BuiltInConsole.withDerivedURIs(stored, baseURL: configuration.baseURL)
        let builtIn = BuiltInConsole.isBuiltIn(id) || BuiltInAccount.isBuiltIn(id) || BuiltInAdminAPI.isBuiltIn(id)
        let href = "\(call.base)/clients/\(Self.percentEncode(id.value))"
        let secrets = try await store.secrets(tenant: call.target.name, clientID: id)
        let access = try await store.access(tenant: call.target.name, clientID: id)
        let apis = try await store.apis(tenant: call.target.name)
        let fields: [(String, String)] = [
            ("clientID", client.id.value), ("name", client.name), ("type", t(client.type.rawValue)),
            (
                "registeredBy",
                try await store.clientRegistration(tenant: call.target.name, clientID: id) != nil
                    ? t("selfRegistered") : t("byAdministrator")
            ),
            ("authMethods", client.authMethods.map(\.rawValue).sorted().joined(separator: ", ")),
            ("grants", client.grantTypes.map(\.rawValue).sorted().joined(separator: ", ")),
            ("redirectURIs", client.redirectURIs.isEmpty ? "-" : client.redirectURIs.joined(separator: "\n")),
            ("scopes", client.allowedScopes.description.isEmpty ? "-" : client.allowedScopes.description),
            ("backchannelLogoutURI", client.backchannelLogoutURI ?? "-"),
            (
                "authorizationRequests",
                client.requestRequirements(pushed: t("requestsPushed"), signed: t("requestsSigned"), any: t("requestsAny"))
            ),
            ("dpop", client.requireDPoP ? t("dpopRequired") : t("dpopOptional")),
            ("state", client.enabled ? t("enabled") : t("disabled")), ("created", ConsoleViews.time(client.createdAt)),
        ]
        let view: [String: Any] = [
            "fields": fields.map { ["label": t($0.0), "value": $0.1] }, "href": href, "name": client.name,
            "redirects": client.redirectURIs.joined(separator: "\n"), "enabled": client.enabled,
            "builtIn": BuiltInConsole.isBuiltIn(id) || BuiltInAccount.isBuiltIn(id)
                ? t("consoleClientNote") : BuiltInAdminAPI.isBuiltIn(id) ? t("adminAPIClientNote") : "",
            "editable": call.canWrite && !builtIn,
            "canAddSecret": call.canWrite && client.type == .confidential && !builtIn,
            "grantChoices": GrantType.known.map { ["value": $0.rawValue, "checked": client.grantTypes.contains($0)] as [String: Any] },
            "secrets": secrets.map { secret -> [String: Any] in
                [
                    "id": secret.secretID, "hint": secret.hint, "created": ConsoleViews.time(secret.createdAt),
                    "expires": ConsoleViews.time(secret.expiresAt), "lastUsed": ConsoleViews.time(secret.lastUsedAt),
                    "removeLabel": views.text("removeSecret", call.language, ["id": secret.secretID]),
                ]
            },
            "certificates": client.certificates.compactMap { try? ClientCertificate(pem: $0) }.map { certificate -> [String: Any] in
                ["subject": certificate.subject, "thumbprint": certificate.sha256.map { String(format: "%02x", $0) }.joined()]
            },
            "access": access.map { grant -> [String: Any] in
                ["api": grant.api.value, "items": (grant.permissions + grant.roles.map { "\($0) (\(t("role")))" }).joined(separator: ", ")]
            },
            "apis": apis.map { ["id": $0.applicationID.value, "name": $0.displayName] },
        ]
        return .page(section: "clients", title: client.name, template: .client, view: view)
    }

    private func updateClient(_ call: Call) async throws -> Outcome {
        let id = try Self.clientID(call)
        var change = Administration.ClientChange()
        if let name = call.form["name"]?.trimmingCharacters(in: .whitespaces), !name.isEmpty { change.name = name }
        change.redirectURIs = Self.words(call.form["redirect_uris"])
        var grants: Set<GrantType> = []
        for raw in call.form.all("grant") {
            guard let grant = GrantType.named(raw) else {
                throw Administration.AdministrationError.invalid("grant_types", "known", "'\(raw)' is not a grant this server offers")
            }
            grants.insert(grant)
        }
        change.grantTypes = grants
        change.enabled = call.form["enabled"] == "on"
        _ = try await call.administration.updateClient(tenant: call.target.name, id: id, change: change)
        return .redirect("\(call.base)/clients/\(Self.percentEncode(id.value))?done=saved")
    }

    private func addSecret(_ call: Call) async throws -> Outcome {
        let id = try Self.clientID(call)
        guard !BuiltInConsole.isBuiltIn(id), !BuiltInAccount.isBuiltIn(id), !BuiltInAdminAPI.isBuiltIn(id) else {
            throw Administration.AdministrationError.conflict(nil, "client '\(id)' is built in; it takes no secret here")
        }
        var lifetime: TimeInterval? = nil
        if let raw = call.form["days"]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty {
            guard let days = Int(raw), (1...3650).contains(days) else {
                throw Administration.AdministrationError.invalid("days", "range", "a secret lives 1 to 3650 days")
            }
            lifetime = TimeInterval(days) * 86_400
        }
        let secret = try await call.administration.addSecret(tenant: call.target.name, clientID: id, lifetime: lifetime)
        return shownSecret(secret, href: "\(call.base)/clients/\(Self.percentEncode(id.value))", call: call)
    }
}
