import GatehouseCore

/// `Accept-Language` (RFC 9110 §12.5.4) and the language negotiation behind every error page.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    let ranges = parseAcceptLanguage(text)
    _ = CatalogueTexts.bundled.negotiate(ranges)
    return 0
}
