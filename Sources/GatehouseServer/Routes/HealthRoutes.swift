import Crypto
import Foundation
import GatehouseCore
import Hummingbird
import NIOCore

/// `/health/live`: the process answers (`/health` stays, as live, for the scripts and tests that
/// use it). `/health/ready`: the database answers (within the store's statement deadline, 5 s on
/// PostgreSQL), its schema is at this build's migration version, and every tenant has an active
/// signing key; 200 or 503, never cached. A load balancer sends traffic by readiness and restarts
/// by liveness.
///
/// Which check failed, and why (the tenants without a key, the database's error), is said only
/// on the management port (`--metrics-port`), or on the main port to a request that presents the
/// management token (`gatehouse.metrics_token`) as a Bearer token; anyone else gets the bare status.
struct HealthRoutes {
    let store: any GatehouseStore
    let keyRings: KeyRingRegistry

    /// The main port: readiness in detail only for the management token's bearer (`access`).
    func register(on router: Router<GatehouseContext>, access: ManagementAccess) {
        router.get("/health") { _, _ in "ok" }
        router.get("/health/live") { _, _ in "ok" }
        router.get("/health/ready") { request, _ in await ready(detailed: access.admits(request)) }
    }

    /// The management port: readiness in detail.
    func register<Context: RequestContext>(management router: Router<Context>) {
        router.get("/health") { _, _ in "ok" }
        router.get("/health/live") { _, _ in "ok" }
        router.get("/health/ready") { _, _ in await ready(detailed: true) }
    }

    func ready(detailed: Bool) async -> Response {
        var checks: [String: String] = [:]
        var failed = false
        do {
            _ = try await store.changeCounter()
            checks["database"] = "ok"
        } catch {
            checks["database"] = error is StoreUnavailable ? "unreachable: \(error)" : "error: \(type(of: error))"
            failed = true
        }
        if !failed, let schema = store as? any SchemaVersionStore {
            do {
                let (applied, expected) = try await schema.schemaVersion()
                checks["migrations"] = applied >= expected ? "ok (version \(applied))" : "behind: version \(applied) of \(expected)"
                failed = failed || applied < expected
            } catch {
                checks["migrations"] = "unreadable"
                failed = true
            }
        }
        if !failed {
            do {
                var missing: [String] = []
                let tenants = try await store.tenants()
                for tenant in tenants where (try? await keyRings.keyRing(for: tenant.name)) == nil { missing.append(tenant.name.value) }
                checks["keys"] = missing.isEmpty ? "ok (\(tenants.count) tenants)" : "no active key: \(missing.joined(separator: ", "))"
                failed = !missing.isEmpty
            } catch {
                checks["keys"] = "unreadable"
                failed = true
            }
        }
        var body: [String: Any] = ["status": failed ? "unavailable" : "ready"]
        if detailed { body["checks"] = checks }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(
            status: failed ? .serviceUnavailable : .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Who may read what the management port serves (metrics, readiness in detail) on the main port:
/// a request whose `Authorization` is `Bearer` and the management token. The SHA-256 digests are
/// compared, in constant time, so that neither the token nor its length shows in the timing.
/// Without a configured token, nobody.
struct ManagementAccess: Sendable {
    let digest: [UInt8]?

    init(token: String?) {
        self.digest = token.flatMap { $0.isEmpty ? nil : Array(SHA256.hash(data: Data($0.utf8))) }
    }

    var isOpen: Bool { digest != nil }

    func admits(_ request: Request) -> Bool {
        guard let digest, let token = AuthorizationHeader.bearer(request) else { return false }
        return constantTimeEquals(Array(SHA256.hash(data: Data(token.utf8))), digest)
    }
}
