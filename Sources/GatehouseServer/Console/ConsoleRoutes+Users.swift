import Foundation
import GatehouseCore
import Hummingbird

/// Users (create, disable, reset the password, remove the second factor, their sessions and
/// consents), keys (list, rotate after a recent sign-in), APIs, the audit log, and the list of
/// tenants an administrative operator reaches.
extension ConsoleRoutes {
    func registerUsers(on router: RouterGroup<GatehouseContext>) {
        router.get("users") { request, context in try await self.page(request, context) { call in try await self.userList(call) } }
        router.post("users") { request, context in
            try await self.page(request, context) { call in
                let user = try await call.administration.createUser(
                    tenant: call.target.name, username: (call.form["username"] ?? "").trimmingCharacters(in: .whitespaces),
                    email: Self.field(call.form["email"]), displayName: Self.field(call.form["name"]),
                    password: call.form["password"] ?? "", passwords: self.passwords)
                return .redirect("\(call.base)/users/\(user.id)?done=userCreated")
            }
        }
        router.get("users/:user") { request, context in try await self.page(request, context) { call in try await self.userPage(call) } }
        for (action, enabled) in [("disable", false), ("enable", true)] {
            router.post("users/:user/\(action)") { request, context in
                try await self.page(request, context) { call in
                    let user = try await self.user(call)
                    if !enabled && user.id == call.session.userID && call.target.name == call.tenant.name {
                        throw Administration.AdministrationError.conflict(nil, "you cannot disable the account you are signed in with")
                    }
                    _ = try await call.administration.setEnabled(tenant: call.target.name, user: user.id, enabled: enabled)
                    return .redirect("\(call.base)/users/\(user.id)?done=saved")
                }
            }
        }
        router.post("users/:user/password") { request, context in
            try await self.page(request, context, recentSignIn: true) { call in
                let user = try await self.user(call)
                _ = try await call.administration.setPassword(
                    tenant: call.target.name, user: user.id, password: call.form["password"] ?? "", passwords: self.passwords)
                return .redirect("\(call.base)/users/\(user.id)?done=passwordSet")
            }
        }
        router.post("users/:user/remove-totp") { request, context in
            try await self.page(request, context, recentSignIn: true) { call in
                let user = try await self.user(call)
                _ = try await call.administration.removeTOTP(tenant: call.target.name, user: user.id)
                return .redirect("\(call.base)/users/\(user.id)?done=saved")
            }
        }
        router.post("users/:user/end-sessions") { request, context in
            try await self.page(request, context) { call in
                let user = try await self.user(call)
                _ = try await call.administration.endSessions(tenant: call.target.name, user: user.id, sid: nil)
                return .redirect("\(call.base)/users/\(user.id)?done=sessionsEnded")
            }
        }
        router.post("users/:user/consents/remove") { request, context in
            try await self.page(request, context) { call in
                let user = try await self.user(call)
                guard let client = try? ClientID(call.form["client"] ?? "") else {
                    throw Administration.AdministrationError.notFound("client", call.form["client"] ?? "", tenant: call.target.name)
                }
                _ = try await call.administration.revokeConsent(tenant: call.target.name, user: user.id, client: client)
                return .redirect("\(call.base)/users/\(user.id)?done=saved")
            }
        }
    }

    func registerOthers(on router: RouterGroup<GatehouseContext>) {
        router.get("keys") { request, context in try await self.page(request, context) { call in try await self.keyList(call) } }
        router.post("keys/rotate") { request, context in
            try await self.page(request, context, recentSignIn: true) { call in
                _ = try await call.administration.rotateKeys(tenant: call.target.name)
                return .redirect("\(call.base)/keys?done=keysRotated")
            }
        }
        router.get("apis") { request, context in try await self.page(request, context) { call in try await self.apiList(call) } }
        router.post("apis") { request, context in
            try await self.page(request, context) { call in
                let identifier: ResourceIndicator
                do { identifier = try ResourceIndicator(call.form["identifier"] ?? "") } catch {
                    throw Administration.AdministrationError.invalid(
                        "identifier", "format", "an API's identifier is an absolute URI without a fragment (api://orders)")
                }
                let name = (call.form["name"] ?? "").trimmingCharacters(in: .whitespaces)
                _ = try await call.administration.createAPI(
                    tenant: call.target.name, applicationID: nil, displayName: name.isEmpty ? identifier.value : name,
                    identifiers: [identifier], issuers: self.configuration.issuers(call.target), withSecret: false)
                return .redirect("\(call.base)/apis?done=saved")
            }
        }
        router.post("apis/:api/permissions") { request, context in
            try await self.page(request, context) { call in
                let description = (call.form["description"] ?? "").trimmingCharacters(in: .whitespaces)
                _ = try await call.administration.addPermission(
                    tenant: call.target.name, api: call.context.parameters.get("api") ?? "",
                    name: (call.form["name"] ?? "").trimmingCharacters(in: .whitespaces),
                    descriptions: description.isEmpty ? [:] : [CatalogueTexts.defaultLanguage: description],
                    role: call.form["kind"] == "role")
                return .redirect("\(call.base)/apis?done=saved")
            }
        }
        router.get("audit") { request, context in try await self.page(request, context) { call in try await self.auditList(call) } }
        router.get("outbox") { request, context in try await self.page(request, context) { call in try await self.outboxList(call) } }
        router.get("preview") { request, context in try await self.page(request, context) { call in try await self.preview(call) } }
    }

    /// The user of the path, in the target tenant only.
    private func user(_ call: Call) async throws -> User {
        let raw = call.context.parameters.get("user") ?? ""
        guard raw.utf8.count <= 256, let user = try await store.user(tenant: call.target.name, id: raw) else {
            throw Administration.AdministrationError.notFound("user", raw, tenant: call.target.name)
        }
        return user
    }

    private func userList(_ call: Call) async throws -> Outcome {
        let t = { (key: String) in self.views.text(key, call.language) }
        let users = try await store.users(tenant: call.target.name).sorted { $0.username.value < $1.username.value }
        var rows: [[String: Any]] = []
        for user in users {
            let passkeys = try await store.passkeyCount(tenant: call.target.name, userID: user.id)
            rows.append([
                "username": user.username.value, "name": user.displayName, "href": "\(call.base)/users/\(user.id)",
                "totp": user.requiresSecondFactor || passkeys > 0 ? t("yes") : t("no"),
                "state": user.enabled ? t("enabled") : t("disabled"),
            ])
        }
        return .page(section: "users", title: t("section.users"), template: .users, view: ["users": rows])
    }

    private func userPage(_ call: Call) async throws -> Outcome {
        let t = { (key: String) in self.views.text(key, call.language) }
        let user = try await self.user(call)
        let sessions = try await call.administration.sessions(tenant: call.target.name, user: user.id)
        let consents = try await call.administration.consents(tenant: call.target.name, user: user.id)
        let roles = try await store.roleAssignments(tenant: call.target.name, userID: user.id)
        let passkeyCount = try await store.passkeyCount(tenant: call.target.name, userID: user.id)
        let secondFactor = [user.requiresSecondFactor ? "TOTP" : nil, passkeyCount > 0 ? "passkeys: \(passkeyCount)" : nil].compactMap {
            $0
        }
        let fields: [(String, String)] = [
            ("username", user.username.value), ("userID", user.id), ("name", user.displayName), ("email", user.email ?? "-"),
            ("secondFactor", secondFactor.isEmpty ? t("no") : secondFactor.joined(separator: ", ")),
            ("state", user.enabled ? t("enabled") : t("disabled")),
            ("roles", roles.isEmpty ? "-" : roles.map { "\($0.api.value): \($0.role)" }.joined(separator: ", ")),
            ("created", ConsoleViews.time(user.createdAt)),
        ]
        let view: [String: Any] = [
            "fields": fields.map { ["label": t($0.0), "value": $0.1] }, "href": "\(call.base)/users/\(user.id)",
            "toggle": user.enabled ? "disable" : "enable", "toggleLabel": user.enabled ? t("disableUser") : t("enableUser"),
            "hasTOTP": user.requiresSecondFactor, "hasSessions": !sessions.isEmpty,
            "sessions": sessions.map { session -> [String: Any] in
                [
                    "started": ConsoleViews.time(session.authTime), "lastUsed": ConsoleViews.time(session.lastUsedAt),
                    "address": session.clientIP ?? "-", "agent": session.userAgent.map { String($0.prefix(80)) } ?? "-",
                ]
            },
            "consents": consents.map { consent -> [String: Any] in
                ["client": consent.clientID, "scopes": consent.scope.description, "expires": ConsoleViews.time(consent.expiresAt)]
            },
        ]
        return .page(section: "users", title: user.username.value, template: .user, view: view)
    }

    private func keyList(_ call: Call) async throws -> Outcome {
        let keys = try await store.keys(tenant: call.target.name).sorted { $0.createdAt > $1.createdAt }
        let rows = keys.map { key -> [String: Any] in
            [
                "kid": key.kid, "algorithm": key.algorithm.rawValue,
                "status": views.text("keyStatus.\(key.status.rawValue)", call.language),
                "created": ConsoleViews.time(key.createdAt),
            ]
        }
        return .page(section: "keys", title: views.text("section.keys", call.language), template: .keys, view: ["keys": rows])
    }

    private func apiList(_ call: Call) async throws -> Outcome {
        let t = { (key: String) in self.views.text(key, call.language) }
        let apis = try await store.apis(tenant: call.target.name).sorted { $0.applicationID.value < $1.applicationID.value }
        let rows = apis.map { api -> [String: Any] in
            let entries =
                api.permissions.map { ($0, t("permission")) } + api.roles.map { ($0, t("role")) }
            return [
                "name": api.displayName, "id": api.applicationID.value,
                "editable": call.canWrite && !BuiltInAdminAPI.isBuiltIn(api.applicationID),
                "identifiers": api.identifiers.map(\.value).joined(separator: " "),
                "entries": entries.map { entry, kind -> [String: Any] in
                    [
                        "kind": kind, "name": entry.name,
                        "description": entry.descriptions[call.language] ?? entry.descriptions[CatalogueTexts.defaultLanguage] ?? "",
                    ]
                },
            ]
        }
        return .page(section: "apis", title: t("section.apis"), template: .apis, view: ["apis": rows])
    }

    private func auditList(_ call: Call) async throws -> Outcome {
        let cursor = Self.field(call.query["before"])
        let page = try await administration.auditLog(tenant: call.target.name, cursor: cursor, limit: 100)
        let rows = page.items.map { entry -> [String: Any] in
            [
                "time": ConsoleViews.time(entry.at), "actor": entry.actor, "action": entry.action, "target": entry.target,
                "traceID": entry.traceID ?? "-",
            ]
        }
        return .page(
            section: "audit", title: views.text("section.audit", call.language), template: .audit,
            view: ["entries": rows, "next": orFalse(page.next)])
    }

    /// The tenant's outbox rows, newest first: kind, attempts, next attempt, last error.
    private func outboxList(_ call: Call) async throws -> Outcome {
        let rows = try await store.outboxMessages(tenant: call.target.name.value, limit: 200).map { message -> [String: Any] in
            [
                "created": ConsoleViews.time(message.createdAt), "kind": message.kind, "attempts": message.attempts,
                "next": message.nextAttemptAt.map(ConsoleViews.time) ?? views.text("givenUp", call.language),
                "lastError": message.lastError ?? "-",
            ]
        }
        return .page(section: "outbox", title: views.text("section.outbox", call.language), template: .outbox, view: ["rows": rows])
    }

    func tenantList(_ call: Call) async throws -> Outcome {
        let all = try await store.tenants().filter { call.administrative || $0.name == call.tenant.name }
            .sorted { $0.name.value < $1.name.value }
        let rows = all.map { tenant -> [String: Any] in
            ["name": tenant.name.value, "display": tenant.displayName, "href": "\(call.home)/tenants/\(tenant.name.value)/signins"]
        }
        return .page(section: "", title: views.text("allTenants", call.language), template: .tenants, view: ["tenants": rows])
    }
}

extension ConsoleRoutes {
    /// Token preview: the claims of the token a client (for a user, when one is named) would get
    /// now (`TokenPreview`: the grant code itself, a throwaway key, nothing stored).
    func preview(_ call: Call) async throws -> Outcome {
        let query = call.query
        let clients = try await store.clients(tenant: call.target.name).sorted { $0.id.value < $1.id.value }
        let chosen = Self.field(query["client"])
        let userName = Self.field(query["user"]) ?? ""
        let scope = Self.field(query["scope"])
        var view: [String: Any] = [
            "clients": clients.map { ["id": $0.id.value, "name": $0.name, "selected": $0.id.value == chosen] as [String: Any] },
            "user": userName, "scope": scope ?? "",
        ]
        if let chosen {
            guard let id = try? ClientID(chosen), let record = try await self.clients.lookup(tenant: call.target.name, id: id) else {
                throw Administration.AdministrationError.notFound("client", chosen, tenant: call.target.name)
            }
            var user: User? = nil
            if !userName.isEmpty {
                guard let found = try await store.user(tenant: call.target.name, signInName: userName) else {
                    throw Administration.AdministrationError.notFound("user", userName, tenant: call.target.name)
                }
                user = found
            }
            let claims = try await tokenPreview.evaluate(
                tenant: call.target, issuer: configuration.issuer(call.target, dialect: Dialects.native), record: record, user: user,
                scope: scope)
            view["accessToken"] = claims.accessToken
            view["idToken"] = orFalse(claims.idToken)
        }
        return .page(section: "preview", title: views.text("section.preview", call.language), template: .preview, view: view)
    }
}
