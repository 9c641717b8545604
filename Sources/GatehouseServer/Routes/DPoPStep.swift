import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    /// RFC 9449 §4.1: the proof a request carries.
    static let dpop = HTTPField.Name("DPoP")!
    /// RFC 9449 §8.1: the nonce the server asks proofs to carry.
    static let dpopNonce = HTTPField.Name("DPoP-Nonce")!
}

/// DPoP (RFC 9449) where Gatehouse's endpoints meet it: the token endpoint (a proof binds the
/// tokens it issues) and userinfo (a bound token needs a proof with `ath`). The request's URL is
/// the public base URL and the request's path, so a proof made for the URL in discovery matches
/// behind a proxy too.
struct DPoPStep: Sendable {
    let configuration: ServerConfiguration
    let verifier: DPoPVerifier

    /// The binding of the request's proof, nil without a `DPoP` header. Where the tenant requires
    /// nonces, every answer (success or error) carries the current one (`RenderContext.dpopNonce`).
    func binding(_ request: Request, tenant: Tenant, context: inout GatehouseContext, accessToken: String? = nil) async throws
        -> TokenBinding?
    {
        if tenant.requireDPoPNonce {
            context.rendering.dpopNonce = verifier.nonces.current(
                tenant: tenant.name, now: Int(verifier.time.now().timeIntervalSince1970))
        }
        // Most token requests carry no proof: only a present header costs an array of its values.
        guard request.headers.contains(.dpop) else { return nil }
        let values = request.headers[values: .dpop]
        let proof = try await verifier.verify(
            values,
            expecting: DPoPExpectation(
                method: request.method.rawValue, url: configuration.baseURL + request.uri.path, tenant: tenant.name,
                accessToken: accessToken, requireNonce: tenant.requireDPoPNonce))
        context.notes.update { $0.credential = [$0.credential, "dpop \(proof.jkt)"].compactMap { $0 }.joined(separator: ", ") }
        return proof.binding
    }
}
