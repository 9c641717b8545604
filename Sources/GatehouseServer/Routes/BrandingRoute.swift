import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A tenant's logo (`/{tenant}/branding/logo/{sha256}`): the digest in the path names the bytes,
/// so a new logo is a new URL and the answer may be cached for a year. Only PNG and JPEG are ever
/// stored (`TenantLogo` reads the bytes); the answer says exactly which, with `nosniff` and a
/// sandboxing CSP, so that a browser never treats it as anything else. Each node keeps the logos
/// it served in memory (bounded), keyed by tenant and digest, and serves only the digest its
/// tenant record names.
struct BrandingRoute: Sendable {
    let tenants: TenantDirectory
    let store: any GatehouseStore
    let renderer: ErrorRenderer
    private let cache = Cache()

    init(tenants: TenantDirectory, store: any GatehouseStore, renderer: ErrorRenderer) {
        self.tenants = tenants
        self.store = store
        self.renderer = renderer
    }

    final class Cache: Sendable {
        let logos = Mutex<[String: TenantLogo]>([:])
        static let limit = 256
    }

    func register(on router: some RouterMethods<GatehouseContext>) {
        router.get("/:tenant/branding/logo/:digest") { request, context in
            do {
                return try await self.logo(context)
            } catch {
                return renderer.response(catching: error, context: context, step: "branding")
            }
        }
    }

    private func logo(_ context: GatehouseContext) async throws -> Response {
        let tenant = try await tenants.resolve(context.parameters.get("tenant") ?? "", for: context)
        let digest = context.parameters.get("digest") ?? ""
        let key = "\(tenant.name.value)|\(digest)"
        // Only the tenant's current logo (a removed or replaced one is gone at once from every
        // node whose tenant cache has seen the change, within its cache time elsewhere); any other
        // digest is answered without a look at the store.
        guard tenant.branding.logoDigest == digest else {
            throw CatalogueError(Catalogue.endpointNotFound, ["method": "GET", "path": "/\(tenant.name.value)/branding/logo/…"])
        }
        var logo = cache.logos.withLock { $0[key] }
        if logo == nil, let stored = try await store.logo(tenant: tenant.name), stored.digest == digest {
            logo = stored
            cache.logos.withLock { logos in
                if logos.count >= Cache.limit { logos.removeAll() }
                logos[key] = stored
            }
        }
        guard let logo else {
            throw CatalogueError(Catalogue.endpointNotFound, ["method": "GET", "path": "/\(tenant.name.value)/branding/logo/…"])
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: logo.contentType, .xContentTypeOptions: "nosniff",
                .cacheControl: "public, max-age=31536000, immutable",
                .contentSecurityPolicy: "default-src 'none'; sandbox",
                // Mail programs in a browser show the logo from another origin.
                .crossOriginResourcePolicy: "cross-origin",
            ], body: .init(byteBuffer: ByteBuffer(bytes: logo.data)))
    }
}
