import Foundation

/// The resource owner password credentials grant (RFC 6749 §4.3). Off unless a client has the
/// `password` grant type. Same checks as the sign-in page: lockout, disabled accounts, and an
/// unknown username answered like a wrong password (50126). A user with a second factor (TOTP or a passkey) gets
/// 50076 (`suberror` basic_action): this grant cannot ask for it.
public struct PasswordGrant: GrantHandler {
    public let grantType = GrantType.password
    public let parameters: Set<String> = ["username", "password", "scope", "resource"]
    public let passwords: PasswordSignIn
    public let issuer: DirectGrantIssuer
    /// The sign-in throttle: a password checked here counts under source address, tenant and
    /// username, as on the sign-in page (`Guess.password`), before the check runs.
    public let gate: ThrottleGate?
    /// The per-source password throttle: the same guess also counts under source address and
    /// tenant, whatever the username, so that one address cannot spray a common password over
    /// every account (each account would see fewer guesses than its own limit and the lockout).
    public let sprayGate: ThrottleGate?
    /// Registered passkeys are a second factor too: their users get 50076 like TOTP users.
    public let passkeys: any PasskeyStore

    public init(
        passwords: PasswordSignIn, issuer: DirectGrantIssuer, passkeys: any PasskeyStore, gate: ThrottleGate? = nil,
        sprayGate: ThrottleGate? = nil
    ) {
        self.passkeys = passkeys
        self.passwords = passwords
        self.issuer = issuer
        self.gate = gate
        self.sprayGate = sprayGate
    }

    public func exchange(_ request: TokenRequest) async throws -> GrantOutcome {
        let username = try request.form.require("username")
        let password = try request.form.require("password")
        let (scope, audience) = try DirectGrantIssuer.delegatedScope(request)
        let user: User
        let source = request.origin.source
        let attempt = try CheckAdmission(
            [
                (gate, "\(source)|\(PasswordSignIn.attemptKey(tenant: request.tenant.name, username: username))"),
                (sprayGate, "\(source)|\(request.tenant.name.value)"),
            ], now: passwords.time.now())
        do {
            user = try await attempt.check(guesses: Guess.password) {
                try await passwords.verify(tenant: request.tenant.name, username: username, password: password)
            }
        } catch let error as CatalogueError {
            let shown = PasswordSignIn.shownEntry(for: error.entry)
            throw CatalogueError(shown, error.parameters, detail: error.detail)
        }
        let hasPasskey = try await passkeys.passkeyCount(tenant: request.tenant.name, userID: user.id) > 0
        guard !user.requiresSecondFactor && !hasPasskey else {
            throw CatalogueError(
                Catalogue.strongAuthRequired,
                detail: "user \(user.id) has a second factor (\(hasPasskey ? "a passkey" : "TOTP")); the password grant cannot ask for it")
        }
        return try await issuer.issue(
            user: user, scope: scope, audience: audience, amr: ["pwd"], authTime: passwords.time.now(), sessionID: nil, request: request)
    }
}
