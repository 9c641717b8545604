import GatehouseCore

/// The Authorization header with the form: client credentials, exactly one method.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    _ = try? PresentedClientCredentials(authorization: text, form: FormParameters())
    _ = try? PresentedClientCredentials(authorization: "Basic " + text, form: FormParameters(["client_id": ["x"]]))
    if let credentials = try? PresentedClientCredentials(authorization: "Basic " + text, form: FormParameters()) {
        _ = try? credentials.clientIDForTenantDiscovery()
    }
    return 0
}
