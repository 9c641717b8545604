import GatehouseCore

/// The scope parameter (RFC 6749 §3.3).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    if let scope = try? Scope(parsing: text) {
        _ = scope.description
        _ = Scope(tokens: scope.tokens).description
    }
    return 0
}
