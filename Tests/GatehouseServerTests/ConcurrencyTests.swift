import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseStore
import HummingbirdTesting
import Testing

/// Parallel refreshes with one refresh token and parallel redemptions of one code, on the
/// in-memory store, on SQLite (a file, WAL) and on PostgreSQL (when `GATEHOUSE_TEST_POSTGRES_URL`
/// names a server, as in `.ci/run`): exactly what the grace rule defines, never two live grants,
/// never a 5xx.
@Suite struct ConcurrencyTests {
    enum Store: String, CaseIterable, Sendable {
        case memory, sqlite, postgres
        static var allCases: [Store] { postgresURL == nil ? [.memory, .sqlite] : [.memory, .sqlite, .postgres] }
        static var postgresURL: String? { ProcessInfo.processInfo.environment["GATEHOUSE_TEST_POSTGRES_URL"] }
    }

    func harness(_ kind: Store, grace: TimeInterval) async throws -> (Harness, @Sendable () async throws -> Void) {
        switch kind {
        case .postgres:
            let schema = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let database = try await PostgresDatabase.open(url: Store.postgresURL ?? "", poolSize: 16, searchPath: schema)
            return (
                try await Harness.make(store: database.store) {
                    $0.signIn.refreshReuseGrace = grace
                    $0.signIn.refreshRetryWindow = grace
                },
                {
                    try await database.store.db.raw("DROP SCHEMA \(ident: schema) CASCADE").run()
                    await database.close()
                }
            )
        case .memory:
            return (
                try await Harness.make {
                    $0.signIn.refreshReuseGrace = grace
                    $0.signIn.refreshRetryWindow = grace
                }, {}
            )
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-concurrency-\(UUID().uuidString)")
            let database = try await SQLiteDatabase.open(path: folder.appendingPathComponent("db.sqlite").path)
            return (
                try await Harness.make(store: database.store) {
                    $0.signIn.refreshReuseGrace = grace
                    $0.signIn.refreshRetryWindow = grace
                },
                {
                    try await database.close()
                    try? FileManager.default.removeItem(at: folder)
                }
            )
        }
    }

    struct Outcome: Sendable {
        let status: Int
        let code: Int?
        let refreshToken: String?
        let accessToken: String?
        init(_ response: TestResponse) {
            let body = json(response)
            status = response.status.code
            code = (body["error_codes"] as? [Int])?.first
            refreshToken = body["refresh_token"] as? String
            accessToken = body["access_token"] as? String
        }
    }

    /// Sends `count` requests at once and collects their outcomes.
    func parallel(_ count: Int, _ send: @escaping @Sendable () async throws -> TestResponse) async throws -> [Outcome] {
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            for _ in 0..<count { group.addTask { Outcome(try await send()) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    func grant(of accessToken: String, in harness: Harness) async throws -> AuthorizationGrant? {
        guard let id = claims(accessToken)["grant_id"] as? String else { return nil }
        return try await harness.store.grant(id: id)
    }

    @Test(arguments: Store.allCases)
    func parallelRefreshesWithinGraceAllSucceedWithOneSuccessor(store: Store) async throws {
        let (harness, close) = try await harness(store, grace: 30)
        defer { Task { try? await close() } }
        try await harness.withClient { client in
            let tokens = try await harness.tokens(client)
            let refresh = try #require(tokens["refresh_token"] as? String)
            let results = try await parallel(40) { try await harness.refresh(client, refresh) }
            #expect(results.allSatisfy { $0.status == 200 }, "statuses \(results.map(\.status))")
            let grant = try #require(try await grant(of: tokens["access_token"] as? String ?? "", in: harness))
            #expect(grant.generation == 1 && grant.revokedAt == nil)
            // Every request got the same successor (issue 12: exactly one live refresh token per
            // grant; before, each retry minted another), at the grant's current generation, each
            // with its own access token.
            let issued = results.compactMap(\.refreshToken)
            #expect(issued.count == 40 && Set(issued).count == 1)
            #expect(Set(results.compactMap(\.accessToken)).count == 40)
            for token in issued {
                let record = try #require(try await harness.store.refreshToken(hash: harness.gatehouse.hasher.hash(token)))
                #expect(record.grantID == grant.id && record.generation == 1)
            }
            // The next rotation from any of them advances the grant; the others become replaced tokens.
            #expect(try await harness.refresh(client, issued[0]).status == .ok)
            #expect(try await harness.store.grant(id: grant.id)?.generation == 2)
        }
    }

    /// After the grace period the replaced token is reuse: invalid_grant, and the grant (with
    /// its live successor) is revoked.
    @Test(arguments: Store.allCases)
    func theReplacedTokenAfterTheGracePeriodRevokesTheGrant(store: Store) async throws {
        let (harness, close) = try await harness(store, grace: 1)
        defer { Task { try? await close() } }
        try await harness.withClient { client in
            let tokens = try await harness.tokens(client)
            let original = try #require(tokens["refresh_token"] as? String)
            let results = try await parallel(50) { try await harness.refresh(client, original) }
            #expect(results.allSatisfy { $0.status == 200 }, "statuses \(results.map(\.status))")
            let successor = try #require(results.first?.refreshToken)
            #expect(Set(results.compactMap(\.refreshToken)) == [successor])
            try await Task.sleep(for: .milliseconds(1_200))
            let late = try await harness.refresh(client, original)
            #expect(late.status == .badRequest && json(late)["error"] as? String == "invalid_grant")
            #expect((json(late)["error_codes"] as? [Int])?.first == 9900154)
            let grant = try #require(try await grant(of: tokens["access_token"] as? String ?? "", in: harness))
            #expect(grant.revokedAt != nil)
            #expect(try await harness.refresh(client, successor).status == .badRequest)
        }
    }

    @Test(arguments: Store.allCases)
    func parallelRefreshesWithoutGraceLetOneWinAndRevokeTheGrant(store: Store) async throws {
        let (harness, close) = try await harness(store, grace: 0)
        defer { Task { try? await close() } }
        try await harness.withClient { client in
            let tokens = try await harness.tokens(client)
            let refresh = try #require(tokens["refresh_token"] as? String)
            let results = try await parallel(40) { try await harness.refresh(client, refresh) }
            #expect(results.allSatisfy { $0.status == 200 || $0.status == 400 }, "no 5xx: \(results.map(\.status))")
            let winners = results.filter { $0.status == 200 }
            #expect(winners.count == 1)
            let codes = Set(results.filter { $0.status == 400 }.compactMap(\.code))
            #expect(codes.isSubset(of: [9900154, 50173]) && !codes.isEmpty)
            let grant = try #require(try await grant(of: tokens["access_token"] as? String ?? "", in: harness))
            #expect(grant.revokedAt != nil)
            // The winner's token died with the grant.
            let winnerToken = winners.first?.refreshToken ?? ""
            #expect(try await harness.refresh(client, winnerToken).status == .badRequest)
        }
    }

    @Test(arguments: Store.allCases)
    func parallelRedemptionsOfOneCodeYieldOneSuccess(store: Store) async throws {
        let (harness, close) = try await harness(store, grace: 10)
        defer { Task { try? await close() } }
        try await harness.withClient { client in
            let pkce = PKCEPair()
            let reply = try await harness.signIn(Browser(client), uri: harness.authorizeURI(pkce: pkce))
            let code = try #require(redirectParameters(reply)["code"])
            let results = try await parallel(30) { try await harness.redeem(client, code: code, pkce: pkce) }
            // One request redeemed the code; each of the others found it redeemed (54005) and revoked
            // the grant. The redeemer answers 200 if it finished first, else 50173 (revoked meanwhile).
            #expect(results.count == 30)
            #expect(results.filter { $0.code == 54005 }.count == 29, "codes \(results.map { $0.code ?? $0.status })")
            let redeemer = try #require(results.first { $0.code != 54005 })
            #expect(redeemer.status == 200 || redeemer.code == 50173)
            let grantID = try #require(
                try await harness.store.redeemCode(hash: harness.gatehouse.hasher.hash(code), now: Date()).redeemedGrantID)
            #expect(try await harness.store.grant(id: grantID)?.revokedAt != nil)
        }
    }
}

extension CodeRedemption {
    var redeemedGrantID: String? {
        switch self {
        case .redeemed(let grant), .alreadyRedeemed(let grant): grant.id
        case .unknown: nil
        }
    }
}
