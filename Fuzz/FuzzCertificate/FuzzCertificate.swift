import GatehouseCore

/// Client certificates (private_key_jwt by certificate): PEM bundles and DER.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let text = String(decoding: bytes, as: UTF8.self)
    for block in ClientCertificate.pemBlocks(text) { _ = try? ClientCertificate(pem: block) }
    _ = try? ClientCertificate(pem: text)
    _ = try? ClientCertificate(der: bytes)
    return 0
}
