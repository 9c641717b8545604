import Foundation
import GatehouseCore
import Logging
import ServiceLifecycle

/// Automatic signing-key rotation (`KeyRotationPolicy`). Once a minute, on the node holding the
/// `key-rotation` lease: rotates every tenant whose rotation is due (the published next key
/// becomes active, a new next key is published) and removes retired keys whose tokens have all
/// expired. Exactly one node rotates: the lease picks one, and the rotation itself is one
/// conditional change, so two rotators that both believed they held it would still rotate once.
/// `gatehouse keys rotate` stays for emergencies.
public struct KeyRotator: Service {
    let administration: Administration
    let policy: SignInPolicy
    let interval: Duration
    let node: String
    let logger: Logger

    public init(
        administration: Administration, policy: SignInPolicy, interval: Duration = .seconds(60), node: String = UUID().uuidString,
        logger: Logger = Logger(label: "gatehouse.keys")
    ) {
        self.administration = administration
        self.policy = policy
        self.interval = interval
        self.node = node
        self.logger = logger
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval) { _ = await pass() }
    }

    /// What one pass did: "rotated T: active K" and "removed T: K" lines; nil without the lease.
    @discardableResult
    public func pass() async -> [String]? {
        let store = administration.store
        let now = administration.time.now()
        var done: [String] = []
        do {
            let lease = leaseExpiry(from: now, every: interval)
            guard try await store.acquireLease("key-rotation", holder: node, until: lease, now: now) else { return nil }
            for tenant in try await store.tenants() {
                let plan = KeyRotationPolicy.plan(
                    tenant: tenant, keys: try await store.keys(tenant: tenant.name), now: now,
                    longestTokenLifetime: KeyRotationPolicy.longestTokenLifetime(tenant: tenant, policy: policy))
                if plan.promote != nil {
                    let rotation = try await administration.rotateKeys(tenant: tenant.name)
                    logger.notice(
                        "signing keys rotated",
                        metadata: ["tenant": "\(tenant.name)", "active": "\(rotation.activated)", "next": "\(rotation.next)"])
                    done.append("rotated \(tenant.name): active \(rotation.activated)")
                }
                for kid in plan.remove {
                    try await administration.removeRetiredKey(tenant: tenant.name, kid: kid)
                    logger.notice("retired signing key removed from the JWKS", metadata: ["tenant": "\(tenant.name)", "kid": "\(kid)"])
                    done.append("removed \(tenant.name): \(kid)")
                }
            }
        } catch {
            logger.warning("key rotation pass failed", metadata: ["error": "\(error)"])
        }
        return done
    }
}
