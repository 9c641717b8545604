import Foundation
import GatehouseCore
import Hummingbird
import NIOCore

/// `GET /metrics`: everything recorded, in the Prometheus text format (version 0.0.4), after
/// reading the values that are only known when asked (each tenant's signing key age). Served on
/// the management port (`--metrics-port`); on the main port only to a request that presents the
/// management token (`gatehouse.metrics_token`) as a Bearer token, and not at all without one:
/// its series name every tenant and what fails in it.
struct MetricsRoute {
    let telemetry: Telemetry
    let store: any GatehouseStore
    let keyRings: KeyRingRegistry
    let time: TimeSource

    /// The main port: only for the management token's bearer; anyone else gets 401.
    func register(on router: some RouterMethods<GatehouseContext>, access: ManagementAccess) {
        router.get("/metrics") { request, _ in
            guard access.admits(request) else {
                return Response(
                    status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"gatehouse-metrics\"", .cacheControl: "no-store"])
            }
            return await exposition()
        }
    }

    func exposition() async -> Response {
        if let tenants = try? await store.tenants() {
            var ages: [(tenant: String, age: TimeInterval?)] = []
            let now = time.now()
            for tenant in tenants {
                let ring = try? await keyRings.keyRing(for: tenant.name)
                ages.append((tenant.name.value, ring.map { now.timeIntervalSince($0.activeCreatedAt) }))
            }
            telemetry.signingKeys(ages)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: telemetry.exposition())))
    }
}
