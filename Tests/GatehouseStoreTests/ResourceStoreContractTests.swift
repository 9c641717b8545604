import Foundation
import GatehouseCore
import GatehouseStore
import Testing

/// What every backend does with APIs: identifiers unique in a tenant, lookup by identifier,
/// permissions and roles kept with their descriptions, and each client's access to them.
@Suite struct ResourceStoreContractTests {
    static func orders(_ tenant: TenantName, identifiers: [String] = ["api://orders", "https://orders.example.com"]) throws -> API {
        API(
            tenant: tenant, applicationID: try ClientID("orders-api"), displayName: "Orders",
            identifiers: try identifiers.map(ResourceIndicator.init),
            permissions: [
                APIPermission(name: "Orders.Read", descriptions: ["en": "Read your orders", "vi": "Đọc đơn hàng của bạn"]),
                APIPermission(name: "Orders.Write"),
            ],
            roles: [APIPermission(name: "Orders.Admin", descriptions: ["en": "Manage every order"])], accessTokenLifetime: 600,
            createdAt: epoch)
    }

    @Test(arguments: Backend.allCases)
    func apisAreKeptWithTheirIdentifiersPermissionsAndRoles(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            let orders = try Self.orders(tenant.name)
            try await store.createAPI(orders)
            #expect(try await store.api(tenant: tenant.name, applicationID: orders.applicationID) == orders)
            #expect(try await store.api(tenant: tenant.name, identifier: "https://orders.example.com") == orders)
            #expect(try await store.api(tenant: tenant.name, identifier: "api://Orders") == nil, "identifiers match exactly")
            #expect(try await store.apis(tenant: tenant.name) == [orders])
            // The application ID and each identifier are the API's alone in its tenant.
            await #expect(throws: StoreError.self) { try await store.createAPI(orders) }
            var other = API(
                tenant: tenant.name, applicationID: try ClientID("billing-api"), displayName: "Billing",
                identifiers: [try ResourceIndicator("api://billing"), try ResourceIndicator("api://orders")], createdAt: epoch)
            await #expect(throws: StoreError.self) { try await store.createAPI(other) }
            #expect(try await store.api(tenant: tenant.name, identifier: "api://billing") == nil, "nothing of a refused API is kept")
            other.identifiers = [try ResourceIndicator("api://billing")]
            try await store.createAPI(other)
            // Another tenant may use the same identifiers.
            let fabrikam = try sampleTenant("fabrikam")
            try await store.createTenant(fabrikam)
            try await store.createAPI(try Self.orders(fabrikam.name))
            #expect(try await store.apis(tenant: tenant.name).map(\.applicationID.value) == ["billing-api", "orders-api"])

            var changed = orders
            changed.displayName = "Orders (v2)"
            changed.identifiers = [try ResourceIndicator("api://orders-v2"), try ResourceIndicator("api://orders")]
            changed.permissions.append(APIPermission(name: "Orders.Cancel", descriptions: ["en": "Cancel orders"]))
            changed.accessTokenLifetime = nil
            #expect(try await store.updateAPI(changed))
            #expect(try await store.api(tenant: tenant.name, applicationID: orders.applicationID) == changed)
            #expect(try await store.api(tenant: tenant.name, identifier: "https://orders.example.com") == nil)
            #expect(try await store.api(tenant: tenant.name, identifier: "api://orders-v2")?.displayName == "Orders (v2)")
            var stealing = other
            stealing.identifiers.append(try ResourceIndicator("api://orders-v2"))
            await #expect(throws: StoreError.self) { _ = try await store.updateAPI(stealing) }
            #expect(try await store.api(tenant: tenant.name, identifier: "api://billing")?.applicationID == other.applicationID)
            var missing = orders
            missing = API(
                tenant: tenant.name, applicationID: try ClientID("nobody"), displayName: "x",
                identifiers: [try ResourceIndicator("api://x")],
                createdAt: epoch)
            #expect(try await store.updateAPI(missing) == false)
        }
    }

    @Test(arguments: Backend.allCases)
    func aClientsAccessToAnAPIIsSetReplacedAndRemoved(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            try await store.createClient(try sampleClient("app"))
            let orders = try Self.orders(tenant.name)
            try await store.createAPI(orders)
            let app = try ClientID("app")
            let access = APIAccess(tenant: tenant.name, clientID: app, api: orders.applicationID, permissions: ["Orders.Read"])
            #expect(try await store.setAccess(access))
            #expect(try await store.access(tenant: tenant.name, clientID: app) == [access])
            let wider = APIAccess(
                tenant: tenant.name, clientID: app, api: orders.applicationID, permissions: ["Orders.Read", "Orders.Write"],
                roles: ["Orders.Admin"])
            #expect(try await store.setAccess(wider))
            #expect(try await store.access(tenant: tenant.name, clientID: app) == [wider])
            #expect(try await store.setAccess(APIAccess(tenant: tenant.name, clientID: app, api: try ClientID("nobody"))) == false)
            #expect(try await store.removeAccess(tenant: tenant.name, clientID: app, api: orders.applicationID))
            #expect(try await store.removeAccess(tenant: tenant.name, clientID: app, api: orders.applicationID) == false)
            #expect(try await store.access(tenant: tenant.name, clientID: app).isEmpty)
            // Removing the API, or the client, removes the access with it.
            #expect(try await store.setAccess(wider))
            #expect(try await store.removeAPI(tenant: tenant.name, applicationID: orders.applicationID))
            #expect(try await store.access(tenant: tenant.name, clientID: app).isEmpty)
            #expect(try await store.api(tenant: tenant.name, identifier: "api://orders") == nil)
            #expect(try await store.removeAPI(tenant: tenant.name, applicationID: orders.applicationID) == false)
            try await store.createAPI(orders)
            #expect(try await store.setAccess(wider))
            #expect(try await store.removeClient(tenant: tenant.name, id: app))
            #expect(try await store.access(tenant: tenant.name, clientID: app).isEmpty)
            // Removing the client that backs an API removes the API: a client made later with
            // that ID must not inherit what the API's credential could see.
            try await store.createClient(try sampleClient("orders-api"))
            #expect(try await store.removeClient(tenant: tenant.name, id: orders.applicationID))
            #expect(try await store.api(tenant: tenant.name, applicationID: orders.applicationID) == nil)
            #expect(try await store.api(tenant: tenant.name, identifier: "api://orders") == nil)
        }
    }

    /// A client's grants come back in the order they were made (the first is the audience of a
    /// token whose request names no API); changing one keeps its place.
    @Test(arguments: Backend.allCases)
    func aClientsGrantsKeepTheirOrder(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            try await store.createClient(try sampleClient("app"))
            let app = try ClientID("app")
            // Application IDs that sort against the order of the grants.
            let ids = ["z-api", "m-api", "a-api"]
            for (index, id) in ids.enumerated() {
                try await store.createAPI(
                    API(
                        tenant: tenant.name, applicationID: try ClientID(id), displayName: id,
                        identifiers: [try ResourceIndicator("api://\(index)")], createdAt: epoch))
                #expect(try await store.setAccess(APIAccess(tenant: tenant.name, clientID: app, api: try ClientID(id))))
            }
            #expect(try await store.access(tenant: tenant.name, clientID: app).map(\.api.value) == ids)
            #expect(
                try await store.setAccess(APIAccess(tenant: tenant.name, clientID: app, api: try ClientID("m-api"), permissions: ["P"])))
            #expect(try await store.access(tenant: tenant.name, clientID: app).map(\.api.value) == ids)
            #expect(try await store.removeAccess(tenant: tenant.name, clientID: app, api: try ClientID("z-api")))
            #expect(try await store.setAccess(APIAccess(tenant: tenant.name, clientID: app, api: try ClientID("z-api"))))
            #expect(try await store.access(tenant: tenant.name, clientID: app).map(\.api.value) == ["m-api", "a-api", "z-api"])
        }
    }
}
