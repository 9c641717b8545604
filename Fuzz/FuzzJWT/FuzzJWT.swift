import Foundation
import GatehouseCore
import JWTKit

/// JWS compact parsing: a client assertion's unverified claims, jwt-kit's parser with the
/// access token's and ID token's payloads; a request object's claims read as JSON (RFC 9101); a
/// DPoP proof (RFC 9449) through every check that needs no store.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? ClientAssertionVerifier().unverifiedClaims(text)
    let parser = DefaultJWTParser()
    _ = try? parser.parse(bytes, as: AccessTokenClaims.self)
    _ = try? parser.parse(bytes, as: IDTokenClaims.self)
    if let tenant = try? TenantName("t") {
        for token in [nil, "at"] as [String?] {
            _ = try? DPoPVerifier.check(
                text,
                expecting: DPoPExpectation(
                    method: "POST", url: "https://login.test/t/oauth2/token", tenant: tenant, accessToken: token, requireNonce: false),
                now: 1_800_000_000)
        }
    }
    // A request object's claims (after its signature), both ways, and their assembly with a query.
    if let claims = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] {
        let verifier = RequestObjectVerifier()
        for strict in [false, true] {
            if let object = try? verifier.parameters(
                claims: claims, clientID: "c", issuers: ["https://login.test/t"], now: Date(timeIntervalSince1970: 1_800_000_000),
                strict: strict)
            {
                _ = try? RequestObjectVerifier.assemble(object: object, query: FormParameters(["scope": ["openid"]]), strict: strict)
            }
        }
    }
    return 0
}
