import GatehouseCore

/// CBOR as an authenticator sends it (attestation objects, COSE keys): the strict decoder, its
/// prefix form, COSE keys made of what it decoded, and authenticator data.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    if let item = try? CBORDecoder().decode(bytes) {
        _ = item.int
        _ = item[3]
        _ = item["fmt"]
        if let key = try? COSEKey(item) { _ = key.verify(signature: Array(bytes.prefix(64)), over: bytes) }
    }
    if let (item, end) = try? CBORDecoder().decodePrefix(bytes, from: min(1, bytes.count)) {
        precondition(end <= bytes.count)
        _ = item.byteString
    }
    if let data = try? AuthenticatorData(bytes) {
        _ = data.attestedCredential?.publicKey.algorithm
        _ = data.extensions?["credProtect"]
    }
    return 0
}
