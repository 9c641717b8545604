import Foundation
import GatehouseCore
import Hummingbird
import NIOCore

/// `GET /metrics`: everything recorded, in the Prometheus text format (version 0.0.4), after
/// reading the values that are only known when asked (each tenant's signing key age). Served on
/// the main port, or only on a port of its own when one is configured (`--metrics-port`).
struct MetricsRoute {
    let telemetry: Telemetry
    let store: any GatehouseStore
    let keyRings: KeyRingRegistry
    let time: TimeSource

    func register(on router: some RouterMethods<GatehouseContext>) {
        router.get("/metrics") { _, _ in await exposition() }
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
