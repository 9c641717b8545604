import GatehouseCore

/// Redirect URIs: parsing, exact and loopback matching, and building the error redirect.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    if let uri = try? RedirectURI(text) {
        _ = uri.matches(anyOf: [text, "http://127.0.0.1/callback", "https://app.example.com/cb"], anyLoopbackPort: true)
        _ = uri.appendingQuery([("error", "invalid_request"), ("state", text)])
        _ = uri.appendingFragment([("code", "c")])
    }
    return 0
}
