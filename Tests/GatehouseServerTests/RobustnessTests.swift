import Foundation
import GatehouseCore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Bad input never crashes and never answers 5xx.
@Suite struct RobustnessTests {
    /// A small deterministic generator, so that a failure can be replayed.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func randomBodiesAndHeadersNeverCauseServerErrors() async throws {
        let harness = try await Harness.make()
        let pieces = [
            "grant_type", "client_credentials", "client_id", "svc", "client_secret", "scope", "resource", "=", "&", "%", "%2", "%zz", "%00",
            "+", "api.read", "client_assertion", "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "eyJhbGciOiJFUzI1NiJ9", ".", "é", "\u{0}", "https://api.example.com", "#", " ", "ui_locales", "vi", harness.secret("svc"),
        ]
        let authorizations = [
            nil, "Basic", "Basic Og==", "Basic \(Data("svc:\(harness.secret("svc"))".utf8).base64EncodedString())", "Bearer x", "basic %%%",
            "Digest a=b",
        ]
        try await harness.withClient { client in
            var generator = SplitMix64(state: 20261125)
            for _ in 0..<400 {
                var body = ""
                for _ in 0..<Int.random(in: 0...12, using: &generator) { body += pieces.randomElement(using: &generator) ?? "" }
                var headers: HTTPFields = [
                    .contentType: ["application/x-www-form-urlencoded", "application/json", "text/plain"].randomElement(using: &generator)!
                ]
                if let authorization = authorizations.randomElement(using: &generator)! { headers[.authorization] = authorization }
                let response = try await client.execute(
                    uri: Harness.tokenPath, method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(response.status.code < 500, "body: \(body)")
                if response.status != .ok {
                    #expect(json(response)["error_codes"] is [Int], "body: \(body)")
                }
            }
        }
    }

    @Test func randomBytesNeverCauseServerErrors() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            var generator = SplitMix64(state: 7)
            for _ in 0..<200 {
                let bytes = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let response = try await client.execute(
                    uri: Harness.tokenPath, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(bytes: bytes))
                #expect(response.status.code < 500)
            }
        }
    }
}
