import GatehouseCore

/// The form parser (token endpoint, sign-in pages): any bytes give parameters or a catalogue error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: count)
    if let form = try? FormParameters(parsing: bytes) {
        for name in ["grant_type", "client_id", "scope", "resource"] {
            _ = form[name]
            _ = form.all(name)
        }
        _ = try? form.require("grant_type")
    }
    return 0
}
