import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

/// A store whose client lookups fail, as a broken database would; or, with `clientsFail` off,
/// one whose grants and refresh tokens become unreachable (`StoreUnavailable`) while `down` is set.
final class FailingClientStore: GatehouseStore {
    struct DatabaseDown: Error, CustomStringConvertible { var description: String { "database is down (secret-ish internal detail)" } }
    let inner = InMemoryStore()
    let clientsFail: Bool
    let down = Mutex(false)

    init(clientsFail: Bool = true) { self.clientsFail = clientsFail }

    func checkReachable() throws { if down.withLock({ $0 }) { throw StoreUnavailable("no answer within 5 s (test)") } }

    func createTenant(_ tenant: Tenant) async throws { try await inner.createTenant(tenant) }
    func tenant(named name: TenantName) async throws -> Tenant? { try await inner.tenant(named: name) }
    func tenants() async throws -> [Tenant] { try await inner.tenants() }
    func tenant(id: UUID) async throws -> Tenant? { try await inner.tenant(id: id) }
    func tenantsWithClient(id: ClientID) async throws -> [TenantName] { try await inner.tenantsWithClient(id: id) }
    func setCertificates(tenant: TenantName, id: ClientID, certificates: [String]) async throws -> Bool {
        try await inner.setCertificates(tenant: tenant, id: id, certificates: certificates)
    }
    func updateClient(_ client: Client) async throws -> Bool { try await inner.updateClient(client) }
    func appendAudit(_ entry: AuditEntry) async throws { try await inner.appendAudit(entry) }
    func putSession(_ session: BrowserSession, cookieHash: String) async throws {
        try await inner.putSession(session, cookieHash: cookieHash)
    }
    func session(cookieHash: String, now: Date) async throws -> BrowserSession? {
        try await inner.session(cookieHash: cookieHash, now: now)
    }
    func touchSession(cookieHash: String, at: Date) async throws { try await inner.touchSession(cookieHash: cookieHash, at: at) }
    func deleteSession(cookieHash: String) async throws -> Bool { try await inner.deleteSession(cookieHash: cookieHash) }
    func sessions(tenant: String, userID: String, now: Date) async throws -> [BrowserSession] {
        try await inner.sessions(tenant: tenant, userID: userID, now: now)
    }
    func endSessions(tenant: String, userID: String, sid: String?) async throws -> Int {
        try await inner.endSessions(tenant: tenant, userID: userID, sid: sid)
    }
    func purgeSessions(now: Date, limit: Int) async throws -> Int { try await inner.purgeSessions(now: now, limit: limit) }
    func noteParticipant(_ participant: SessionParticipant) async throws { try await inner.noteParticipant(participant) }
    func takeParticipants(tenant: String, userID: String, sid: String?) async throws -> [SessionParticipant] {
        try await inner.takeParticipants(tenant: tenant, userID: userID, sid: sid)
    }
    func purgeParticipants(now: Date, limit: Int) async throws -> Int { try await inner.purgeParticipants(now: now, limit: limit) }
    func putConsent(_ consent: Consent) async throws { try await inner.putConsent(consent) }
    func consent(tenant: String, userID: String, clientID: String, now: Date) async throws -> Consent? {
        try await inner.consent(tenant: tenant, userID: userID, clientID: clientID, now: now)
    }
    func consents(tenant: String, userID: String, now: Date) async throws -> [Consent] {
        try await inner.consents(tenant: tenant, userID: userID, now: now)
    }
    func deleteConsent(tenant: String, userID: String, clientID: String) async throws -> Bool {
        try await inner.deleteConsent(tenant: tenant, userID: userID, clientID: clientID)
    }
    func purgeConsents(now: Date, limit: Int) async throws -> Int { try await inner.purgeConsents(now: now, limit: limit) }
    func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry] { try await inner.auditEntries(query) }
    func assignRole(_ assignment: RoleAssignment) async throws -> Bool { try await inner.assignRole(assignment) }
    func unassignRole(_ assignment: RoleAssignment) async throws -> Bool { try await inner.unassignRole(assignment) }
    func roleAssignments(tenant: TenantName, userID: String) async throws -> [RoleAssignment] {
        try await inner.roleAssignments(tenant: tenant, userID: userID)
    }
    func createClient(_ client: Client) async throws { try await inner.createClient(client) }
    func client(tenant: TenantName, id: ClientID) async throws -> Client? {
        if clientsFail { throw DatabaseDown() }
        try checkReachable()
        return try await inner.client(tenant: tenant, id: id)
    }
    func clients(tenant: TenantName) async throws -> [Client] { try await inner.clients(tenant: tenant) }
    func removeClient(tenant: TenantName, id: ClientID) async throws -> Bool { try await inner.removeClient(tenant: tenant, id: id) }
    func addSecret(_ secret: ClientSecretRecord) async throws { try await inner.addSecret(secret) }
    func secrets(tenant: TenantName, clientID: ClientID) async throws -> [ClientSecretRecord] {
        try await inner.secrets(tenant: tenant, clientID: clientID)
    }
    func removeSecret(tenant: TenantName, clientID: ClientID, secretID: String) async throws -> Bool {
        try await inner.removeSecret(tenant: tenant, clientID: clientID, secretID: secretID)
    }
    func noteSecretUse(_ uses: [SecretUse]) async throws { try await inner.noteSecretUse(uses) }
    func addKey(_ key: SigningKeyRecord) async throws { try await inner.addKey(key) }
    func keys(tenant: TenantName) async throws -> [SigningKeyRecord] { try await inner.keys(tenant: tenant) }
    func setKeyStatus(tenant: TenantName, kid: String, status: KeyStatus) async throws -> Bool {
        try await inner.setKeyStatus(tenant: tenant, kid: kid, status: status)
    }
    func removeKey(tenant: TenantName, kid: String) async throws -> Bool { try await inner.removeKey(tenant: tenant, kid: kid) }
    func rotateKeys(tenant: TenantName, promote kid: String, newNext: SigningKeyRecord) async throws -> Bool {
        try await inner.rotateKeys(tenant: tenant, promote: kid, newNext: newNext)
    }
    func consumeOnce(key: String, expiresAt: Date, now: Date) async throws -> Bool {
        try await inner.consumeOnce(key: key, expiresAt: expiresAt, now: now)
    }
    func purgeExpired(now: Date, limit: Int) async throws -> Int { try await inner.purgeExpired(now: now, limit: limit) }
    func append(_ events: [SignInEvent]) async throws { try await inner.append(events) }
    func signIns(_ query: SignInQuery) async throws -> [SignInEvent] { try await inner.signIns(query) }
    func changeCounter() async throws -> Int {
        try checkReachable()
        return try await inner.changeCounter()
    }
    func purgeSignIns(before cutoff: Date, limit: Int) async throws -> Int { try await inner.purgeSignIns(before: cutoff, limit: limit) }
    func addSignInAggregates(_ aggregates: [SignInAggregate]) async throws { try await inner.addSignInAggregates(aggregates) }
    func signInAggregates(_ query: SignInAggregateQuery) async throws -> [SignInAggregate] { try await inner.signInAggregates(query) }
    func purgeSignInAggregates(before cutoff: Date, limit: Int) async throws -> Int {
        try await inner.purgeSignInAggregates(before: cutoff, limit: limit)
    }
    func setRegistration(_ policy: RegistrationPolicy, domains: [String], tenant: TenantName) async throws -> Bool {
        try await inner.setRegistration(policy, domains: domains, tenant: tenant)
    }
    func setBranding(displayName: String, primaryColor: String?, supportContact: String?, tenant: TenantName) async throws -> Bool {
        try await inner.setBranding(displayName: displayName, primaryColor: primaryColor, supportContact: supportContact, tenant: tenant)
    }
    func setLogo(_ logo: TenantLogo?, tenant: TenantName) async throws -> Bool { try await inner.setLogo(logo, tenant: tenant) }
    func logo(tenant: TenantName) async throws -> TenantLogo? { try await inner.logo(tenant: tenant) }
    func setVerifyEmail(_ on: Bool, tenant: TenantName) async throws -> Bool { try await inner.setVerifyEmail(on, tenant: tenant) }
    func setRequireDPoPNonce(_ on: Bool, tenant: TenantName) async throws -> Bool {
        try await inner.setRequireDPoPNonce(on, tenant: tenant)
    }
    func setRequirePushedAuthorizationRequests(_ on: Bool, tenant: TenantName) async throws -> Bool {
        try await inner.setRequirePushedAuthorizationRequests(on, tenant: tenant)
    }
    func setClientRegistration(_ settings: ClientRegistrationSettings, tenant: TenantName) async throws -> Bool {
        try await inner.setClientRegistration(settings, tenant: tenant)
    }
    func atomically<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T { try await inner.atomically(body) }
    func enqueue(_ message: OutboxMessage) async throws { try await inner.enqueue(message) }
    func resetPassword(
        tenant: TenantName, id: String, passwordHash: String, address: String, issuedAt: Date, now: Date
    ) async throws -> Bool {
        try await inner.resetPassword(tenant: tenant, id: id, passwordHash: passwordHash, address: address, issuedAt: issuedAt, now: now)
    }
    func markEmailVerified(tenant: TenantName, id: String, address: String, now: Date) async throws -> Bool {
        try await inner.markEmailVerified(tenant: tenant, id: id, address: address, now: now)
    }
    func discardDue(kind: String, now: Date) async throws -> Int { try await inner.discardDue(kind: kind, now: now) }
    func replaceRecoveryCodes(tenant: TenantName, userID: String, hashes: [String], now: Date) async throws {
        try await inner.replaceRecoveryCodes(tenant: tenant, userID: userID, hashes: hashes, now: now)
    }
    func useRecoveryCode(tenant: TenantName, userID: String, hash: String) async throws -> Bool {
        try await inner.useRecoveryCode(tenant: tenant, userID: userID, hash: hash)
    }
    func recoveryCodesLeft(tenant: TenantName, userID: String) async throws -> Int {
        try await inner.recoveryCodesLeft(tenant: tenant, userID: userID)
    }
    func addPasskey(_ passkey: Passkey) async throws -> Bool { try await inner.addPasskey(passkey) }
    func passkey(tenant: TenantName, credentialID: String) async throws -> Passkey? {
        try await inner.passkey(tenant: tenant, credentialID: credentialID)
    }
    func passkeys(tenant: TenantName, userID: String) async throws -> [Passkey] { try await inner.passkeys(tenant: tenant, userID: userID) }
    func recordPasskeyUse(
        tenant: TenantName, credentialID: String, previousCount: UInt32, signCount: UInt32, backedUp: Bool, counterRegressed: Bool,
        at: Date
    ) async throws -> Bool {
        try await inner.recordPasskeyUse(
            tenant: tenant, credentialID: credentialID, previousCount: previousCount, signCount: signCount, backedUp: backedUp,
            counterRegressed: counterRegressed, at: at)
    }
    func renamePasskey(tenant: TenantName, userID: String, credentialID: String, name: String) async throws -> Bool {
        try await inner.renamePasskey(tenant: tenant, userID: userID, credentialID: credentialID, name: name)
    }
    func removePasskey(tenant: TenantName, userID: String, credentialID: String) async throws -> Bool {
        try await inner.removePasskey(tenant: tenant, userID: userID, credentialID: credentialID)
    }
    func addClientRegistration(_ record: ClientRegistrationRecord) async throws { try await inner.addClientRegistration(record) }
    func clientRegistration(tenant: TenantName, clientID: ClientID) async throws -> ClientRegistrationRecord? {
        try await inner.clientRegistration(tenant: tenant, clientID: clientID)
    }
    func clientRegistrations(tenant: TenantName) async throws -> [ClientRegistrationRecord] {
        try await inner.clientRegistrations(tenant: tenant)
    }
    func replaceClientRegistration(_ record: ClientRegistrationRecord, expectedTokenHash: String) async throws -> Bool {
        try await inner.replaceClientRegistration(record, expectedTokenHash: expectedTokenHash)
    }
    func addInitialAccessToken(_ token: InitialAccessToken) async throws { try await inner.addInitialAccessToken(token) }
    func initialAccessTokens(tenant: TenantName) async throws -> [InitialAccessToken] {
        try await inner.initialAccessTokens(tenant: tenant)
    }
    func spendInitialAccessToken(tenant: TenantName, hash: String, now: Date) async throws -> InitialAccessToken? {
        try await inner.spendInitialAccessToken(tenant: tenant, hash: hash, now: now)
    }
    func removeInitialAccessToken(tenant: TenantName, id: String) async throws -> Bool {
        try await inner.removeInitialAccessToken(tenant: tenant, id: id)
    }
    func passkeyCount(tenant: TenantName, userID: String) async throws -> Int {
        try await inner.passkeyCount(tenant: tenant, userID: userID)
    }
    func setPasskeyPolicy(_ policy: PasskeyPolicy, tenant: TenantName) async throws -> Bool {
        try await inner.setPasskeyPolicy(policy, tenant: tenant)
    }
    func updateUser(_ user: User, ifCredentialsOf previous: User) async throws -> Bool {
        try await inner.updateUser(user, ifCredentialsOf: previous)
    }
    func setUserLanguage(tenant: TenantName, id: String, language: String) async throws {
        try await inner.setUserLanguage(tenant: tenant, id: id, language: language)
    }
    func dueMessages(now: Date, limit: Int, kind: String?) async throws -> [OutboxMessage] {
        try await inner.dueMessages(now: now, limit: limit, kind: kind)
    }
    func completeMessage(id: String) async throws -> Bool { try await inner.completeMessage(id: id) }
    func deferMessage(id: String, attempts: Int, nextAttemptAt: Date?, lastError: String) async throws {
        try await inner.deferMessage(id: id, attempts: attempts, nextAttemptAt: nextAttemptAt, lastError: lastError)
    }
    func outboxMessages(tenant: String?, limit: Int) async throws -> [OutboxMessage] {
        try await inner.outboxMessages(tenant: tenant, limit: limit)
    }
    func outboxDepth() async throws -> (pending: Int, abandoned: Int) { try await inner.outboxDepth() }
    func purgeOutbox(createdBefore cutoff: Date, limit: Int) async throws -> Int {
        try await inner.purgeOutbox(createdBefore: cutoff, limit: limit)
    }
    func setSignInLogMode(_ mode: SignInLogMode, tenant: TenantName) async throws -> Bool {
        try await inner.setSignInLogMode(mode, tenant: tenant)
    }
    func setKeyRotation(_ interval: TimeInterval?, tenant: TenantName) async throws -> Bool {
        try await inner.setKeyRotation(interval, tenant: tenant)
    }
    func setTokenSettings(tenant: TenantName, algorithm: SigningAlgorithm?, accessTokenLifetime: Int?) async throws -> Bool {
        try await inner.setTokenSettings(tenant: tenant, algorithm: algorithm, accessTokenLifetime: accessTokenLifetime)
    }
    func acquireLease(_ name: String, holder: String, until: Date, now: Date) async throws -> Bool {
        try await inner.acquireLease(name, holder: holder, until: until, now: now)
    }
    func setting(_ key: String) async throws -> String? { try await inner.setting(key) }
    func setting(_ key: String, insertingIfAbsent proposed: String) async throws -> String {
        try await inner.setting(key, insertingIfAbsent: proposed)
    }
    func createUser(_ user: User) async throws { try await inner.createUser(user) }
    func user(tenant: TenantName, username: Username) async throws -> User? { try await inner.user(tenant: tenant, username: username) }
    func user(tenant: TenantName, id: String) async throws -> User? { try await inner.user(tenant: tenant, id: id) }
    func user(tenant: TenantName, signInEmail: String) async throws -> User? {
        try await inner.user(tenant: tenant, signInEmail: signInEmail)
    }
    func setEmailSignIn(_ on: Bool, tenant: TenantName) async throws -> EmailSignInChange {
        try await inner.setEmailSignIn(on, tenant: tenant)
    }
    func users(tenant: TenantName) async throws -> [User] { try await inner.users(tenant: tenant) }
    func updateUser(_ user: User) async throws -> Bool { try await inner.updateUser(user) }
    func countSignInAttempt(key: String, limit: Int, now: Date, resetBefore: Date) async throws -> Int {
        try await inner.countSignInAttempt(key: key, limit: limit, now: now, resetBefore: resetBefore)
    }
    func signInFailures(key: String, since: Date) async throws -> Int { try await inner.signInFailures(key: key, since: since) }
    func clearSignInFailures(key: String) async throws { try await inner.clearSignInFailures(key: key) }
    func purgeSignInFailures(before: Date, limit: Int) async throws -> Int {
        try await inner.purgeSignInFailures(before: before, limit: limit)
    }
    func putState(kind: String, key: String, value: String, expiresAt: Date) async throws {
        try await inner.putState(kind: kind, key: key, value: value, expiresAt: expiresAt)
    }
    func state(kind: String, key: String, now: Date) async throws -> String? { try await inner.state(kind: kind, key: key, now: now) }
    func takeState(kind: String, key: String, now: Date) async throws -> String? {
        try await inner.takeState(kind: kind, key: key, now: now)
    }
    func deleteState(kind: String, key: String) async throws -> Bool { try await inner.deleteState(kind: kind, key: key) }
    func purgeState(now: Date, limit: Int) async throws -> Int { try await inner.purgeState(now: now, limit: limit) }
    func createGrant(_ grant: AuthorizationGrant) async throws { try await inner.createGrant(grant) }
    func grant(id: String) async throws -> AuthorizationGrant? {
        try checkReachable()
        return try await inner.grant(id: id)
    }
    func redeemCode(hash: String, now: Date, binding: TokenBinding?) async throws -> CodeRedemption {
        try await inner.redeemCode(hash: hash, now: now, binding: binding)
    }
    func revokeGrant(id: String, now: Date) async throws -> Bool { try await inner.revokeGrant(id: id, now: now) }
    func revokeGrants(tenant: TenantName, userID: String, clientID: ClientID, now: Date) async throws -> Int {
        try await inner.revokeGrants(tenant: tenant, userID: userID, clientID: clientID, now: now)
    }
    func revokeGrants(tenant: TenantName, userID: String, now: Date) async throws -> Int {
        try await inner.revokeGrants(tenant: tenant, userID: userID, now: now)
    }
    func refreshToken(hash: String) async throws -> RefreshTokenRecord? {
        try checkReachable()
        return try await inner.refreshToken(hash: hash)
    }
    func addRefreshToken(hash: String, grantID: String, generation: Int, now: Date) async throws -> Bool {
        try await inner.addRefreshToken(hash: hash, grantID: grantID, generation: generation, now: now)
    }
    func rotate(grantID: String, from generation: Int, newHash: String, now: Date, origin: String?) async throws -> Bool {
        try await inner.rotate(grantID: grantID, from: generation, newHash: newHash, now: now, origin: origin)
    }
    func purgeGrants(now: Date, endedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await inner.purgeGrants(now: now, endedBefore: cutoff, limit: limit)
    }
}

extension FailingClientStore {
    func createAPI(_ api: API) async throws { try await inner.createAPI(api) }
    func api(tenant: TenantName, applicationID: ClientID) async throws -> API? {
        try await inner.api(tenant: tenant, applicationID: applicationID)
    }
    func api(tenant: TenantName, identifier: String) async throws -> API? { try await inner.api(tenant: tenant, identifier: identifier) }
    func apis(tenant: TenantName) async throws -> [API] { try await inner.apis(tenant: tenant) }
    func updateAPI(_ api: API) async throws -> Bool { try await inner.updateAPI(api) }
    func removeAPI(tenant: TenantName, applicationID: ClientID) async throws -> Bool {
        try await inner.removeAPI(tenant: tenant, applicationID: applicationID)
    }
    func setAccess(_ access: APIAccess) async throws -> Bool { try await inner.setAccess(access) }
    func access(tenant: TenantName, clientID: ClientID) async throws -> [APIAccess] {
        try await inner.access(tenant: tenant, clientID: clientID)
    }
    func removeAccess(tenant: TenantName, clientID: ClientID, api: ClientID) async throws -> Bool {
        try await inner.removeAccess(tenant: tenant, clientID: clientID, api: api)
    }
}

@Suite struct InternalFaultTests {
    @Test func faultAnswers50000WithoutItsCauseAndLogsIt() async throws {
        let store = FailingClientStore()
        let gatehouse = Gatehouse(
            configuration: ServerConfiguration(baseURL: Harness.baseURL), store: store, hasher: SecretHasher(key: Data("k".utf8)))
        // Made on the store behind the failing one (its client lookups fail; making a tenant looks one up).
        try await Administration(store: store.inner, hasher: gatehouse.hasher).createTenant(name: try TenantName("contoso"))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let app = Application(router: try gatehouse.buildRouter(), logger: logger)
        let trace = try await app.test(.router) { client in
            let response = try await client.execute(
                uri: Harness.tokenPath, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "grant_type=client_credentials&client_id=svc&client_secret=x"))
            #expect(response.status == .internalServerError)
            let body = json(response)
            #expect(body["error"] as? String == "server_error")
            #expect(body["error_codes"] as? [Int] == [50000])
            #expect(!String(buffer: response.body).contains("database is down"))
            return body["trace_id"] as? String ?? ""
        }
        await gatehouse.signIns.flush()
        let event = try #require(try await store.signIns(SignInQuery(traceID: trace)).first)
        #expect(event.errorCode == 50000)
        #expect(event.detail?.contains("database is down") == true)
    }

    /// One fallback for every endpoint (issue 10, part 1): 50000 in the request's language, the
    /// cause only in the log (against the trace ID) and the sign-in record.
    @Test func everyEndpointFallsBackTheSameWay() async throws {
        let store = FailingClientStore()
        let gatehouse = Gatehouse(
            configuration: ServerConfiguration(baseURL: Harness.baseURL), store: store, hasher: SecretHasher(key: Data("k".utf8)))
        // Made on the store behind the failing one (its client lookups fail; making a tenant looks one up).
        try await Administration(store: store.inner, hasher: gatehouse.hasher).createTenant(name: try TenantName("contoso"))
        let capture = CapturedLog()
        let app = Application(router: try gatehouse.buildRouter(), logger: capture.logger(level: .info))
        let english = try #require(CatalogueTexts.bundled.text(for: 50000, language: "en")?.message)
        let traces = try await app.test(.router) { client in
            var traces: [String] = []
            for path in ["/contoso/oauth2/token", "/contoso/oauth2/devicecode", "/contoso/oauth2/introspect", "/contoso/oauth2/revoke"] {
                let response = try await client.execute(
                    uri: path, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "grant_type=client_credentials&client_id=svc&client_secret=x&token=t&ui_locales=vi"))
                let body = json(response)
                #expect(response.status == .internalServerError, "\(path)")
                #expect(body["error_codes"] as? [Int] == [50000], "\(path)")
                #expect(!String(buffer: response.body).contains("database is down"), "\(path)")
                #expect((body["error_description"] as? String).map { !$0.isEmpty && $0 != english } == true, "\(path): in Vietnamese")
                traces.append(body["trace_id"] as? String ?? "")
            }
            return traces
        }
        await gatehouse.signIns.flush()
        let lines = capture.lines.withLock { $0 }
        for trace in traces {
            #expect(
                lines.contains { $0.hasPrefix("error internal fault") && $0.contains("database is down") && $0.contains(trace) }, "\(trace)"
            )
            #expect(try await store.signIns(SignInQuery(traceID: trace)).first?.detail?.contains("database is down") == true)
        }
    }

    /// `/health/live` answers whatever the database does; `/health/ready` turns 503 with the reason
    /// when the database goes away and 200 when it returns, never cached (the reason only for the
    /// management token's bearer).
    @Test func readinessFollowsTheDatabase() async throws {
        let store = FailingClientStore(clientsFail: false)
        let harness = try await Harness.make(store: store) { $0.metricsToken = "readiness-token" }
        let bearer: HTTPFields = [.authorization: "Bearer readiness-token"]
        try await harness.withClient { client in
            let ready = try await client.execute(uri: "/health/ready", method: .get, headers: bearer)
            #expect(ready.status == .ok && ready.headers[.cacheControl] == "no-store")
            #expect(json(ready)["status"] as? String == "ready")
            let checks = json(ready)["checks"] as? [String: String] ?? [:]
            #expect(checks["database"] == "ok" && checks["keys"]?.hasPrefix("ok (") == true, "\(checks)")
            store.down.withLock { $0 = true }
            let away = try await client.execute(uri: "/health/ready", method: .get, headers: bearer)
            #expect(away.status == .serviceUnavailable && json(away)["status"] as? String == "unavailable")
            #expect((json(away)["checks"] as? [String: String])?["database"]?.hasPrefix("unreachable") == true)
            let bare = try await client.execute(uri: "/health/ready", method: .get)
            #expect(bare.status == .serviceUnavailable && json(bare)["checks"] == nil)
            #expect(try await client.execute(uri: "/health/live", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            store.down.withLock { $0 = false }
            #expect(try await client.execute(uri: "/health/ready", method: .get).status == .ok)
        }
    }

    /// With the database away, a request that needs it gets 503 with `Retry-After` and catalogue
    /// 9900190 (not a 500, not a hang), in either dialect, while client credentials for a cached
    /// client keep getting tokens.
    @Test func anUnreachableDatabaseIs503WhileCachedClientsGoOn() async throws {
        let store = FailingClientStore(clientsFail: false)
        let harness = try await Harness.make(store: store) { $0.cacheTTL = 60 }
        try await harness.withClient { client in
            let tokens = try await harness.tokens(client)
            let refresh = try #require(tokens["refresh_token"] as? String)
            let credentials = [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))]
            #expect(try await harness.token(client, credentials).status == .ok)
            store.down.withLock { $0 = true }
            #expect(try await harness.token(client, credentials).status == .ok, "a cached client needs no database")
            let refused = try await harness.refresh(client, refresh)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "5")
            #expect(json(refused)["error"] as? String == "temporarily_unavailable")
            #expect(json(refused)["error_codes"] as? [Int] == [9900190])
            #expect(!String(buffer: refused.body).contains("(test)"))
            let entra = try await harness.token(
                client,
                [
                    ("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", "web"),
                    ("client_secret", harness.secret("web")),
                ],
                path: "/contoso/oauth2/v2.0/token")
            #expect(entra.status == .serviceUnavailable && entra.headers[.retryAfter] == "5")
            #expect((json(entra)["error_description"] as? String)?.hasPrefix("AADSTS9900190:") == true)
            store.down.withLock { $0 = false }
            #expect(try await harness.refresh(client, refresh).status == .ok, "back once the database answers")
        }
    }
}
