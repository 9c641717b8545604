import Foundation
import GatehouseCore
import Testing

@Suite struct OutboundGuardTests {
    @Test func onlyHTTPSURLsWithAHostAndNoCredentialsAreFetched() throws {
        let target = try OutboundGuard.target("https://client.example.com:8443/oauth/metadata.json")
        #expect(target.host == "client.example.com" && target.port == 8443)
        #expect(try OutboundGuard.target("https://[::1]/x").host == "::1")
        for refused in [
            "http://client.example.com/metadata", "ftp://client.example.com/x", "https:///nohost", "https://user:pw@client.example.com/x",
            "https://client.example.com/x#fragment", "not a url", "file:///etc/passwd",
        ] {
            #expect(throws: CatalogueError.self, "\(refused)") { try OutboundGuard.target(refused) }
            do { _ = try OutboundGuard.target(refused) } catch { #expect(error.entry == Catalogue.outboundURLRefused) }
        }
    }

    @Test func localAddressesAreRefusedUnlessAllowed() throws {
        let local = [
            "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "0.0.0.0",
            "100.64.0.1", "224.0.0.1", "255.255.255.255", "198.18.0.1", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
            "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "fe80::1%eth0", "garbage",
        ]
        for address in local {
            #expect(OutboundGuard.isLocal(address), "\(address)")
            do {
                try OutboundGuard.check(address: address, host: "h.example", policy: OutboundPolicy())
                Issue.record("\(address) was not refused")
            } catch {
                #expect(error.entry == Catalogue.outboundAddressRefused)
                #expect(error.parameters["address"] == nil, "never told to the caller")
                #expect(error.detail?.contains(address) == true)
            }
            try OutboundGuard.check(address: address, host: "h.example", policy: OutboundPolicy(allowLocalAddresses: true))
        }
        // Leading zeros are octal to inet_aton: not literals here, so they are resolved and checked.
        #expect(!OutboundGuard.isIPAddress("012.0.0.1") && !OutboundGuard.isIPAddress("172.032.0.1"))
        #expect(OutboundGuard.isIPAddress("10.0.0.1") && OutboundGuard.isIPAddress("0.0.0.0"))
        for address in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "2001:4860:4860::8888"] {
            #expect(!OutboundGuard.isLocal(address), "\(address)")
            try OutboundGuard.check(address: address, host: "h.example", policy: OutboundPolicy())
        }
    }

    @Test func cacheLifetimeFollowsCacheControlWithinBounds() {
        #expect(OutboundCacheLifetime.seconds(cacheControl: "max-age=600") == 600)
        #expect(OutboundCacheLifetime.seconds(cacheControl: "public, max-age=5") == 60)
        #expect(OutboundCacheLifetime.seconds(cacheControl: "max-age=9999999") == 86_400)
        #expect(OutboundCacheLifetime.seconds(cacheControl: "no-store") == 0)
        #expect(OutboundCacheLifetime.seconds(cacheControl: "no-cache, max-age=600") == 0)
        #expect(OutboundCacheLifetime.seconds(cacheControl: nil) == 300)
    }

    @Test func metadataDocumentURLs() {
        #expect(ClientIDMetadataDocument.isCandidate("https://app.example.com/oauth/client.json"))
        #expect(!ClientIDMetadataDocument.isCandidate("https://app.example.com/"))
        #expect(!ClientIDMetadataDocument.isCandidate("https://app.example.com"))
        #expect(!ClientIDMetadataDocument.isCandidate("http://app.example.com/client.json"))
        #expect(!ClientIDMetadataDocument.isCandidate("https://app.example.com/a/../client.json"))
        #expect(!ClientIDMetadataDocument.isCandidate("https://u@app.example.com/client.json"))
        #expect(!ClientIDMetadataDocument.isCandidate("my-client"))
        #expect(ClientIDMetadataDocument.host(of: "https://App.Example.com/c") == "app.example.com")
    }

    @Test func aDocumentDescribesAPublicClientAtItsOwnURL() throws {
        let url = "https://app.example.com/client.json"
        let tenant = try TenantName("contoso")
        func document(_ object: [String: Any]) throws -> FetchedDocument {
            FetchedDocument(
                body: Array(try JSONSerialization.data(withJSONObject: object)), contentType: "application/json", cacheControl: nil)
        }
        let good: [String: Any] = [
            "client_id": url, "client_name": "Example App", "redirect_uris": ["http://127.0.0.1:33418/callback"],
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"], "token_endpoint_auth_method": "none",
        ]
        let client = try ClientIDMetadataDocument.client(document: try document(good), url: url, tenant: tenant, now: Date())
        #expect(client.type == .public && client.authMethods == [.none] && client.source == .metadataDocument)
        #expect(client.grantTypes == [.authorizationCode, .refreshToken])
        #expect(client.unverifiedHost(redirectURI: nil) == "app.example.com")
        #expect(client.shownName(redirectURI: "http://127.0.0.1:1/cb") == "app.example.com")
        func refusal(_ object: [String: Any]) throws -> String? {
            do {
                _ = try ClientIDMetadataDocument.client(document: try document(object), url: url, tenant: tenant, now: Date())
                return nil
            } catch let error as CatalogueError {
                #expect(error.entry == Catalogue.clientMetadataDocumentInvalid)
                return error.parameters["reason"]
            }
        }
        var other = good
        other["client_id"] = "https://evil.example.com/client.json"
        #expect(try refusal(other)?.contains("is not its URL") == true)
        other = good
        other["token_endpoint_auth_method"] = "client_secret_basic"
        #expect(try refusal(other)?.contains("must be none") == true)
        other = good
        other["redirect_uris"] = ["http://evil.example.com/callback"]
        #expect(try refusal(other) != nil)
        other = good
        other["client_secret"] = "x"
        #expect(try refusal(other) != nil)
        other = good
        other.removeValue(forKey: "client_id")
        #expect(try refusal(other)?.contains("no client_id") == true)
        #expect(throws: CatalogueError.self) {
            try ClientIDMetadataDocument.client(
                document: FetchedDocument(body: Array("[1]".utf8), contentType: nil, cacheControl: nil), url: url, tenant: tenant,
                now: Date())
        }
    }
}
