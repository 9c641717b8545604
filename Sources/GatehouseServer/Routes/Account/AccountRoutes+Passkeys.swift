import Foundation
import GatehouseCore
import Hummingbird

/// The account page's passkeys: the list (rename, remove), and adding one. Listing for removal and
/// adding need a sign-in at most 5 minutes old (a stolen page session must neither tie the account
/// to the thief's authenticator nor take the user's away); renaming does not.
extension AccountRoutes {
    func registerPasskeys(on account: RouterGroup<GatehouseContext>) {
        account.get("passkeys") { request, context in try await self.page(request, context, self.passkeysPage) }
        account.get("passkeys/new") { request, context in try await self.page(request, context, self.newPasskeyPage) }
        account.post("passkeys/new") { request, context in try await self.form(request, context, self.addPasskey) }
        account.post("passkeys/rename") { request, context in try await self.form(request, context, self.renamePasskey) }
        account.post("passkeys/remove") { request, context in try await self.form(request, context, self.removePasskey) }
    }

    /// One passkey as the pages show it.
    func passkeyRow(_ passkey: Passkey, language: String) -> [String: Any] {
        let t = { (key: String) in pages.ui("account.\(key)", language) }
        return [
            "id": passkey.credentialID, "name": passkey.name, "kind": t(passkey.backupEligible ? "synced" : "deviceBound"),
            "created": Self.when(passkey.createdAt), "lastUsed": passkey.lastUsedAt.map(Self.when) ?? t("never"),
            "flagged": passkey.counterRegressed,
        ]
    }

    /// What the registration challenge is bound to: this page session (its cookie, hashed with the rest).
    static func passkeyBinding(_ call: Call) -> String { "account " + call.cookie }

    private func passkeysPage(_ call: Call) async throws -> Response {
        if let reauthenticate = requireRecent(call, path: "passkeys") { return reauthenticate }
        return try await passkeyList(call, error: nil)
    }

    private func passkeyList(_ call: Call, error: CatalogueError?) async throws -> Response {
        let language = call.language
        let t = { (key: String) in pages.ui("account.\(key)", language) }
        let rows = try await store.passkeys(tenant: call.tenant.name, userID: call.user.id).map { passkeyRow($0, language: language) }
        let done = call.request.uri.queryParameters["done"].map(String.init).flatMap { Self.notices.contains($0) ? $0 : nil }
        var view: [String: Any] = [
            "language": language, "title": t("passkeysTitle"), "heading": t("passkeysTitle"), "wide": true, "csrf": call.session.csrf,
            "base": homePath(call.tenant.name.value), "brand": pages.brand(call.tenant, language: language),
            "error": pages.alert(error, language: language, context: call.context) as Any, "passkeys": rows,
        ]
        for key in [
            "passkeyName", "passkeyKind", "created", "lastUsed", "rename", "removePasskey", "passkeyFlagged", "noPasskeys", "addPasskey",
            "back",
        ] {
            view["t_" + key] = t(key)
        }
        if let done { view["notice"] = t("done.\(done)") }
        return pages.html(
            pages.passkeys.render(view), status: error.map { .init(code: $0.entry.status == 401 ? 400 : $0.entry.status) } ?? .ok)
    }

    private func newPasskeyPage(_ call: Call) async throws -> Response {
        if let reauthenticate = requireRecent(call, path: "passkeys/new") { return reauthenticate }
        return try await addPage(call, name: SignInFlow.passkeyName(userAgent: call.request.headers[.userAgent]), error: nil)
    }

    /// The add page with a fresh challenge bound to this page session and the user.
    private func addPage(_ call: Call, name: String, error: CatalogueError?) async throws -> Response {
        let language = call.language
        let t = { (key: String) in pages.ui("account.\(key)", language) }
        let policy = call.tenant.passkeyPolicy
        let challenge = try await env.passkeys.newChallenge(binding: Self.passkeyBinding(call), userID: call.user.id)
        let existing = try await store.passkeys(tenant: call.tenant.name, userID: call.user.id)
        let nonce = env.random.token(byteCount: 16)
        let base = homePath(call.tenant.name.value)
        let body = pages.addPasskey.render([
            "language": language, "title": t("addPasskeyTitle"), "heading": t("addPasskeyTitle"), "intro": t("addPasskeyIntro"),
            "brand": pages.brand(call.tenant, language: language),
            "error": pages.alert(error, language: language, context: call.context) as Any,
            "action": base + "/passkeys/new", "csrf": call.session.csrf, "challenge": challenge,
            "rpID": env.configuration.passkeyRPID, "rpName": call.tenant.displayName, "userID": call.user.id,
            "userName": call.user.username.value, "userDisplay": call.user.displayName,
            "uv": policy.userVerification.rawValue, "attestation": policy.attestation == .required ? "direct" : "none",
            "exclude": existing.map(\.credentialID).joined(separator: " "), "failText": pages.ui("passkey.failed", language),
            "nameLabel": t("passkeyName"), "name": name, "submit": t("createPasskey"), "noScript": t("noScript"),
            "back": base, "backLabel": t("back"), "nonce": nonce, "script": PasskeyScript.source,
        ])
        return pages.html(
            body, status: error.map { .init(code: $0.entry.status == 401 ? 400 : $0.entry.status) } ?? .ok, scriptNonce: nonce)
    }

    private func addPasskey(_ call: Call) async throws -> Response {
        if let reauthenticate = requireRecent(call, path: "passkeys/new") { return reauthenticate }
        let name = Passkey.name(call.form["name"] ?? "") ?? "Passkey"
        do {
            guard
                let response = RegistrationResponse(
                    clientDataJSON: call.form["client_data"], attestationObject: call.form["attestation_object"],
                    transports: call.form["transports"])
            else {
                throw CatalogueError(Catalogue.passkeyResponseInvalid, detail: "registration fields missing or not base64url")
            }
            let passkey = try await env.passkeys.register(
                response, binding: Self.passkeyBinding(call), user: call.user, policy: call.tenant.passkeyPolicy, name: name)
            try await call.acting.passkeyAdded(passkey, user: call.user, tenant: call.tenant)
            record(call, failure: nil, detail: "user \(call.user.id) added a passkey (\(passkey.keyMethod), \(passkey.attestationFormat))")
            return redirect(homePath(call.tenant.name.value) + "/passkeys?done=passkeyAdded")
        } catch let error as CatalogueError {
            record(call, failure: error)
            return try await addPage(call, name: name, error: error)
        }
    }

    private func renamePasskey(_ call: Call) async throws -> Response {
        let id = String((call.form["id"] ?? "").prefix(1400))
        guard try await call.acting.renameOwnPasskey(user: call.user, credentialID: id, name: call.form["name"] ?? "") else {
            throw CatalogueError(Catalogue.adminObjectNotFound, ["reason": "no such passkey, or an empty name"])
        }
        return redirect(homePath(call.tenant.name.value) + "/passkeys?done=passkeyRenamed")
    }

    private func removePasskey(_ call: Call) async throws -> Response {
        if let reauthenticate = requireRecent(call, path: "passkeys") { return reauthenticate }
        let id = String((call.form["id"] ?? "").prefix(1400))
        let amr = try await currentAMR(call)
        let changed = try await call.acting.removePasskey(tenant: call.tenant, user: call.user, credentialID: id)
        record(call, failure: nil, detail: "user \(call.user.id) removed a passkey; every session ended, grants revoked")
        var response = redirect(homePath(call.tenant.name.value) + "/passkeys?done=passkeyRemoved")
        // Every other browser is signed out; this one goes on in a new session.
        try await continueSignedIn(call, user: changed, amr: amr, response: &response)
        return response
    }
}
