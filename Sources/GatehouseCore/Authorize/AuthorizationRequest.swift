import Foundation

/// How the authorization response travels back (OAuth 2.0 Multiple Response Type Encoding
/// Practices §2.1, Form Post Response Mode §2).
public enum ResponseMode: String, Sendable, Codable {
    case query, fragment
    case formPost = "form_post"
}

/// Where authorization errors may be sent once the client and redirect URI are trusted.
public struct AuthorizationReplyTarget: Sendable, Codable, Hashable {
    public let redirectURI: RedirectURI
    public let responseMode: ResponseMode
    public let state: String?

    public init(redirectURI: RedirectURI, responseMode: ResponseMode, state: String?) {
        self.redirectURI = redirectURI
        self.responseMode = responseMode
        self.state = state
    }
}

/// A `prompt` value (OpenID Connect Core §3.1.2.1).
public enum Prompt: String, Sendable, Codable, Hashable, CaseIterable {
    case none, login, consent
    case selectAccount = "select_account"
}

/// An authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID Connect Core §3.1.2.1),
/// parsed and checked against the client. Kept in the sign-in interaction while the user signs in.
public struct AuthorizationRequest: Sendable, Codable, Hashable {
    public let tenant: TenantName
    public let clientID: ClientID
    public let reply: AuthorizationReplyTarget
    /// Whether the request itself carried redirect_uri (then the token request must repeat it).
    public let redirectURIWasSent: Bool
    public let nonce: String?
    public let scope: Scope
    public let audience: [String]
    public let codeChallenge: CodeChallenge?
    public let prompt: Set<Prompt>
    public let maxAge: Int?
    public let loginHint: String?
    public let uiLocales: String?
    /// The issuer the request was made to (the `iss` of the reply, RFC 9207), in its dialect.
    public let issuer: String
    /// RFC 9449 §10 `dpop_jkt`: the thumbprint of the DPoP key the code must be redeemed with.
    public let dpopJKT: String?

    public init(
        tenant: TenantName, clientID: ClientID, reply: AuthorizationReplyTarget, redirectURIWasSent: Bool, nonce: String?, scope: Scope,
        audience: [String], codeChallenge: CodeChallenge?, prompt: Set<Prompt>, maxAge: Int?, loginHint: String?, uiLocales: String?,
        issuer: String, dpopJKT: String? = nil
    ) {
        self.dpopJKT = dpopJKT
        self.tenant = tenant
        self.clientID = clientID
        self.reply = reply
        self.redirectURIWasSent = redirectURIWasSent
        self.nonce = nonce
        self.scope = scope
        self.audience = audience
        self.codeChallenge = codeChallenge
        self.prompt = prompt
        self.maxAge = maxAge
        self.loginHint = loginHint
        self.uiLocales = uiLocales
        self.issuer = issuer
    }

    /// Whether `session` meets what this request demanded of the sign-in (OpenID Connect Core
    /// §3.1.2.1): a sign-in made for this request (at or after `startedAt`) always does; an
    /// earlier one only without `prompt=login`/`select_account` and within `max_age`.
    public func isSatisfied(by session: BrowserSession, startedAt: Date) -> Bool {
        if session.authTime >= startedAt { return true }
        if prompt.contains(.login) || prompt.contains(.selectAccount) { return false }
        if let maxAge, startedAt.timeIntervalSince(session.authTime) > Double(maxAge) { return false }
        return true
    }
}

/// Why an authorization request failed, and where the error may be shown.
public enum AuthorizationFailure: Error, Sendable {
    /// Shown on Gatehouse's own page: the client or redirect URI cannot be trusted (50011, 700016).
    case page(CatalogueError)
    /// Sent back to the client's redirect URI (RFC 6749 §4.1.2.1).
    case redirect(CatalogueError, AuthorizationReplyTarget)
}

/// Turns query parameters into an `AuthorizationRequest`.
public struct AuthorizationRequestParser: Sendable {
    public init() {}

    /// `origin`: how the parameters arrived (`AuthorizationRequestAssembler`); a client or tenant
    /// that requires pushed or signed requests gets its error at its redirect URI otherwise.
    public func parse(
        _ form: FormParameters, tenant: Tenant, issuer: String, dialect: any Dialect = Dialects.native,
        origin: AuthorizationRequestOrigin = .plain, client lookup: (ClientID) async throws -> ClientAccess?
    ) async throws -> (AuthorizationRequest, Client) {
        // Phase 1: until the client and redirect URI are known, errors are shown on a page.
        let access: ClientAccess
        let client: Client
        let redirect: RedirectURI
        let redirectWasSent: Bool
        do {
            let clientID = try ClientID(try form.require("client_id"))
            guard let found = try await lookup(clientID) else {
                throw CatalogueError(Catalogue.applicationNotFound, ["clientId": clientID.value, "tenant": tenant.name.value])
            }
            guard found.client.enabled else { throw CatalogueError(Catalogue.applicationDisabled, ["clientId": clientID.value]) }
            access = found
            client = found.client
            if let raw = form["redirect_uri"] {
                let presented = try RedirectURI(raw)
                // RFC 8252 §7.3's any-port rule is for native apps, which cannot hold a fixed port.
                guard presented.matches(anyOf: client.redirectURIs, anyLoopbackPort: client.type == .public) else {
                    throw CatalogueError(Catalogue.redirectURINotRegistered, ["uri": raw, "clientId": client.id.value])
                }
                redirect = presented
                redirectWasSent = true
            } else {
                // RFC 6749 §3.1.2.3: optional only when exactly one URI is registered.
                guard client.redirectURIs.count == 1, let only = try? RedirectURI(client.redirectURIs[0]) else {
                    throw CatalogueError(Catalogue.missingParameter, ["name": "redirect_uri"])
                }
                redirect = only
                redirectWasSent = false
            }
        } catch let error as CatalogueError {
            throw AuthorizationFailure.page(error)
        }
        // Phase 2: errors go back to the client.
        let state = form["state"]
        var mode = ResponseMode.query
        let modeError: CatalogueError?
        if let raw = form["response_mode"] {
            if let parsed = ResponseMode(rawValue: raw) {
                mode = parsed
                modeError = nil
            } else {
                modeError = CatalogueError(Catalogue.invalidParameterValue, ["name": "response_mode"])
            }
        } else {
            modeError = nil
        }
        let reply = AuthorizationReplyTarget(redirectURI: redirect, responseMode: mode, state: state)
        do {
            if let modeError { throw modeError }
            if (client.requirePushedAuthorizationRequests || tenant.requirePushedAuthorizationRequests) && !origin.isPushed {
                throw CatalogueError(Catalogue.pushedRequestRequired, ["clientId": client.id.value])
            }
            if client.requireSignedRequestObject && !origin.isSigned {
                throw CatalogueError(Catalogue.signedRequestObjectRequired, ["clientId": client.id.value])
            }
            let responseType = try form.require("response_type")
            guard responseType == "code" else {
                throw CatalogueError(Catalogue.unsupportedResponseType, ["responseType": String(responseType.prefix(64))])
            }
            guard client.grantTypes.contains(.authorizationCode) else {
                throw CatalogueError(Catalogue.grantNotAllowedForClient, ["clientId": client.id.value, "grantType": "authorization_code"])
            }
            let (scope, audience) = try dialect.delegatedAccess(
                requested: form["scope"], resources: form.all("resource"), access: access, fallback: issuer)
            var challenge: CodeChallenge? = nil
            if let raw = form["code_challenge"] {
                challenge = try CodeChallenge(challenge: raw, method: form["code_challenge_method"])
            } else if client.type == .public {
                throw CatalogueError(Catalogue.pkceRequired, ["clientId": client.id.value])
            }
            var prompt: Set<Prompt> = []
            for value in (form["prompt"] ?? "").split(separator: " ") {
                guard let parsed = Prompt(rawValue: String(value)) else {
                    throw CatalogueError(Catalogue.invalidParameterValue, ["name": "prompt"])
                }
                prompt.insert(parsed)
            }
            guard !(prompt.contains(.none) && prompt.count > 1) else {
                throw CatalogueError(Catalogue.invalidParameterValue, ["name": "prompt"])
            }
            var maxAge: Int? = nil
            if let raw = form["max_age"] {
                guard let value = Int(raw), value >= 0 else { throw CatalogueError(Catalogue.invalidParameterValue, ["name": "max_age"]) }
                maxAge = value
            }
            if let nonce = form["nonce"], nonce.utf8.count > 512 {
                throw CatalogueError(Catalogue.invalidParameterValue, ["name": "nonce"])
            }
            if let state, state.utf8.count > 2048 { throw CatalogueError(Catalogue.invalidParameterValue, ["name": "state"]) }
            // A SHA-256 JWK thumbprint: 43 base64url characters (RFC 9449 §10, RFC 7638).
            let dpopJKT = form["dpop_jkt"]
            if let dpopJKT {
                guard dpopJKT.utf8.count == 43, Base64URL.decode(Substring(dpopJKT))?.count == 32 else {
                    throw CatalogueError(Catalogue.invalidParameterValue, ["name": "dpop_jkt"])
                }
            }
            let request = AuthorizationRequest(
                tenant: tenant.name, clientID: client.id, reply: reply, redirectURIWasSent: redirectWasSent,
                nonce: form["nonce"], scope: scope, audience: audience, codeChallenge: challenge, prompt: prompt,
                maxAge: maxAge, loginHint: form["login_hint"].map { String($0.prefix(256)) }, uiLocales: form["ui_locales"],
                issuer: issuer, dpopJKT: dpopJKT)
            return (request, client)
        } catch let error as CatalogueError {
            throw AuthorizationFailure.redirect(error, reply)
        }
    }
}

/// Works out an authorization request's parameters before it is parsed: from a pushed request
/// (`request_uri`, RFC 9126 §4; the query's other parameters are ignored), from a signed
/// request object (`request`, RFC 9101, assembled with the query as OpenID Connect Core §6.3
/// says), or the query itself. Its errors are shown on Gatehouse's page: the redirect URI the
/// request names is not trusted until its parameters are.
public struct AuthorizationRequestAssembler: Sendable {
    public let pushed: PushedAuthorizationRequests
    public let verifier: RequestObjectVerifier

    public init(pushed: PushedAuthorizationRequests, verifier: RequestObjectVerifier = RequestObjectVerifier()) {
        self.pushed = pushed
        self.verifier = verifier
    }

    public func assemble(
        _ form: FormParameters, tenant: TenantName, issuers: Set<String>, now: Date,
        client lookup: (ClientID) async throws -> ClientRecord?
    ) async throws -> (FormParameters, AuthorizationRequestOrigin) {
        if let uri = form["request_uri"] {
            if form["request"] != nil { throw RequestObjectVerifier.invalid("request and request_uri may not both be sent") }
            let clientID = try ClientID(try form.require("client_id"))
            let (parameters, signed) = try await pushed.take(uri, tenant: tenant, clientID: clientID, now: now)
            return (parameters, signed ? .pushedSigned : .pushed)
        }
        guard let jwt = form["request"] else { return (form, .plain) }
        let clientID = try ClientID(try form.require("client_id"))
        guard let record = try await lookup(clientID) else {
            throw CatalogueError(Catalogue.applicationNotFound, ["clientId": clientID.value, "tenant": tenant.value])
        }
        guard record.client.enabled else { throw CatalogueError(Catalogue.applicationDisabled, ["clientId": clientID.value]) }
        let strict = record.client.requireSignedRequestObject
        let object = try await verifier.parameters(of: jwt, record: record, issuers: issuers, now: now, strict: strict)
        return (try RequestObjectVerifier.assemble(object: object, query: form, strict: strict), .signed)
    }
}
