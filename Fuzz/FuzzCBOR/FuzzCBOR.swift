import GatehouseCore

/// CBOR as an authenticator sends it (attestation objects, COSE keys): the strict decoder, its
/// prefix form, COSE keys made of what it decoded, authenticator data, a whole registration's
/// verification, and the passkey texts read back from storage and forms.
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
    // A whole registration with these bytes as the attestation object (and as clientDataJSON).
    let verifier = WebAuthnVerifier(rpID: "localhost", origin: "http://localhost:8080")
    let clientData = Array(#"{"type":"webauthn.create","challenge":"AAAA","origin":"http://localhost:8080"}"#.utf8)
    _ = try? verifier.verifyRegistration(
        clientDataJSON: clientData, attestationObject: bytes, challenge: [0, 0, 0], requireUserVerification: false)
    _ = try? verifier.verifyRegistration(
        clientDataJSON: bytes, attestationObject: bytes, challenge: [0, 0, 0], requireUserVerification: true, requireAttestation: true)
    // What the stores and forms read back as text.
    let text = String(decoding: bytes, as: UTF8.self)
    _ = PasskeyPolicy(stored: text)
    _ = Passkey.name(text)
    _ = Passkey.transports(text.split(separator: ",").map(String.init))
    return 0
}
