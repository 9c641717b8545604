import Foundation
import GatehouseCore
import Hummingbird
import NIOCore

/// `/health/live`: the process answers (`/health` stays, as live, for the scripts and tests that
/// use it). `/health/ready`: the database answers (within the store's statement deadline, 5 s on
/// PostgreSQL), its schema is at this build's migration version, and every tenant has an active
/// signing key; 200 with each check, or 503 with the reasons, never cached. A load balancer
/// sends traffic by readiness and restarts by liveness.
struct HealthRoutes {
    let store: any GatehouseStore
    let keyRings: KeyRingRegistry

    func register(on router: Router<GatehouseContext>) {
        router.get("/health") { _, _ in "ok" }
        router.get("/health/live") { _, _ in "ok" }
        router.get("/health/ready") { _, _ in await ready() }
    }

    func ready() async -> Response {
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
        let body: [String: Any] = ["status": failed ? "unavailable" : "ready", "checks": checks]
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(
            status: failed ? .serviceUnavailable : .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
