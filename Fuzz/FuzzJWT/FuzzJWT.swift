import Foundation
import GatehouseCore
import JWTKit

/// JWS compact parsing: a client assertion's unverified claims, and jwt-kit's parser with the
/// access token's and ID token's payloads.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? ClientAssertionVerifier().unverifiedClaims(text)
    let parser = DefaultJWTParser()
    _ = try? parser.parse(bytes, as: AccessTokenClaims.self)
    _ = try? parser.parse(bytes, as: IDTokenClaims.self)
    return 0
}
