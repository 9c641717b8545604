import Crypto
import Foundation
import Testing

@testable import GatehouseCore

/// A software authenticator (P-256) that answers the ceremonies as a browser would send them.
struct SoftAuthenticator {
    let key = P256.Signing.PrivateKey()
    let credentialID: [UInt8] = (0..<16).map { _ in UInt8.random(in: 0...255) }
    var counter: UInt32 = 0

    var coseKey: [UInt8] {
        let point = Array(key.publicKey.x963Representation)
        return CBORTests.encode(
            CBORTests.coseMap([
                (1, .unsigned(2)), (3, CBORTests.int(-7)), (-1, .unsigned(1)), (-2, .bytes(Array(point[1...32]))),
                (-3, .bytes(Array(point[33...]))),
            ]))
    }

    static func clientData(type: String, challenge: [UInt8], origin: String, crossOrigin: Bool = false) -> [UInt8] {
        Array(
            #"{"type":"\#(type)","challenge":"\#(Base64URL.encode(challenge))","origin":"\#(origin)","crossOrigin":\#(crossOrigin)}"#.utf8)
    }

    func authData(rpID: String, flags: UInt8, withCredential: Bool) -> [UInt8] {
        var bytes = Array(SHA256.hash(data: Array(rpID.utf8)))
        bytes.append(flags | (withCredential ? 0x40 : 0))
        bytes += [24, 16, 8, 0].map { UInt8((counter >> UInt32($0)) & 0xff) }
        if withCredential {
            bytes += [UInt8](repeating: 0, count: 16) + [0, UInt8(credentialID.count)] + credentialID + coseKey
        }
        return bytes
    }

    /// navigator.credentials.create(): clientDataJSON and the attestation object.
    func register(challenge: [UInt8], origin: String, rpID: String, flags: UInt8 = 0x05, format: String = "none") -> ([UInt8], [UInt8]) {
        let clientData = Self.clientData(type: "webauthn.create", challenge: challenge, origin: origin)
        let data = authData(rpID: rpID, flags: flags, withCredential: true)
        var statement: CBOR = .map([])
        if format == "packed" {
            let signature = Array(try! key.signature(for: data + Array(SHA256.hash(data: clientData))).derRepresentation)
            statement = .map([.init(.text("alg"), CBORTests.int(-7)), .init(.text("sig"), .bytes(signature))])
        }
        let object = CBOR.map([
            .init(.text("fmt"), .text(format)), .init(.text("attStmt"), statement), .init(.text("authData"), .bytes(data)),
        ])
        return (clientData, CBORTests.encode(object))
    }

    /// navigator.credentials.get(): clientDataJSON, authenticator data, signature.
    mutating func assert(challenge: [UInt8], origin: String, rpID: String, flags: UInt8 = 0x05) -> ([UInt8], [UInt8], [UInt8]) {
        counter += 1
        let clientData = Self.clientData(type: "webauthn.get", challenge: challenge, origin: origin)
        let data = authData(rpID: rpID, flags: flags, withCredential: false)
        let signature = Array(try! key.signature(for: data + Array(SHA256.hash(data: clientData))).derRepresentation)
        return (clientData, data, signature)
    }
}

@Suite struct WebAuthnVerifierTests {
    let verifier = WebAuthnVerifier(rpID: "localhost", origin: "http://localhost:8080")
    let challenge: [UInt8] = (0..<32).map { UInt8($0) }

    @Test func aRegistrationAndItsAssertionsVerify() throws {
        var authenticator = SoftAuthenticator()
        let (clientData, object) = authenticator.register(challenge: challenge, origin: verifier.origin, rpID: "localhost")
        let registration = try verifier.verifyRegistration(
            clientDataJSON: clientData, attestationObject: object, challenge: challenge, requireUserVerification: true)
        #expect(registration.credentialID == authenticator.credentialID && registration.format == "none" && !registration.attested)
        #expect(registration.publicKey.algorithm == .es256 && registration.signCount == 0)

        let (assertData, authData, signature) = authenticator.assert(challenge: challenge, origin: verifier.origin, rpID: "localhost")
        let assertion = try verifier.verifyAssertion(
            clientDataJSON: assertData, authenticatorData: authData, signature: signature, challenge: challenge,
            publicKey: registration.publicKey, storedSignCount: 0, requireUserVerification: true)
        #expect(assertion.signCount == 1 && !assertion.counterRegressed && assertion.flags.contains(.userVerified))
        // The same assertion again: its counter is not above the stored one.
        let replayed = try verifier.verifyAssertion(
            clientDataJSON: assertData, authenticatorData: authData, signature: signature, challenge: challenge,
            publicKey: registration.publicKey, storedSignCount: 1, requireUserVerification: true)
        #expect(replayed.counterRegressed)
    }

    @Test func packedSelfAttestationIsVerified() throws {
        let authenticator = SoftAuthenticator()
        let (clientData, object) = authenticator.register(
            challenge: challenge, origin: verifier.origin, rpID: "localhost", format: "packed")
        let registration = try verifier.verifyRegistration(
            clientDataJSON: clientData, attestationObject: object, challenge: challenge, requireUserVerification: false,
            requireAttestation: true)
        #expect(registration.attested && registration.format == "packed")
        // A none attestation where the tenant requires one: refused.
        let (noneData, noneObject) = authenticator.register(challenge: challenge, origin: verifier.origin, rpID: "localhost")
        #expect(throws: WebAuthnVerifier.Failure.attestation("the tenant requires a verified attestation")) {
            try verifier.verifyRegistration(
                clientDataJSON: noneData, attestationObject: noneObject, challenge: challenge, requireUserVerification: false,
                requireAttestation: true)
        }
    }

    @Test func eachCheckRefusesByName() throws {
        var authenticator = SoftAuthenticator()
        func register(origin: String = "http://localhost:8080", rpID: String = "localhost", flags: UInt8 = 0x05, challenge: [UInt8]? = nil)
            throws -> WebAuthnVerifier.Registration
        {
            let (clientData, object) = authenticator.register(
                challenge: challenge ?? self.challenge, origin: origin, rpID: rpID, flags: flags)
            return try verifier.verifyRegistration(
                clientDataJSON: clientData, attestationObject: object, challenge: self.challenge, requireUserVerification: true)
        }
        #expect(throws: WebAuthnVerifier.Failure.wrongOrigin("http://localhost:8081")) { try register(origin: "http://localhost:8081") }
        #expect(throws: WebAuthnVerifier.Failure.wrongOrigin("https://evil.example")) { try register(origin: "https://evil.example") }
        #expect(throws: WebAuthnVerifier.Failure.rpIDMismatch) { try register(rpID: "evil.example") }
        #expect(throws: WebAuthnVerifier.Failure.challengeMismatch) { try register(challenge: [1, 2, 3]) }
        #expect(throws: WebAuthnVerifier.Failure.userVerificationRequired) { try register(flags: 0x01) }
        #expect(throws: WebAuthnVerifier.Failure.userNotPresent) { try register(flags: 0x04) }
        // An assertion offered as a registration, and a cross-origin frame.
        let (getData, _, _) = authenticator.assert(challenge: challenge, origin: verifier.origin, rpID: "localhost")
        let (_, object) = authenticator.register(challenge: challenge, origin: verifier.origin, rpID: "localhost")
        #expect(throws: WebAuthnVerifier.Failure.wrongType("webauthn.get")) {
            try verifier.verifyRegistration(
                clientDataJSON: getData, attestationObject: object, challenge: challenge, requireUserVerification: false)
        }
        let framed = SoftAuthenticator.clientData(type: "webauthn.create", challenge: challenge, origin: verifier.origin, crossOrigin: true)
        #expect(throws: WebAuthnVerifier.Failure.crossOrigin) {
            try verifier.verifyRegistration(
                clientDataJSON: framed, attestationObject: object, challenge: challenge, requireUserVerification: false)
        }
        // A signature by another key.
        let other = SoftAuthenticator()
        let (clientData, registered) = authenticator.register(challenge: challenge, origin: verifier.origin, rpID: "localhost")
        let registration = try verifier.verifyRegistration(
            clientDataJSON: clientData, attestationObject: registered, challenge: challenge, requireUserVerification: false)
        var impostor = other
        let (assertData, authData, signature) = impostor.assert(challenge: challenge, origin: verifier.origin, rpID: "localhost")
        #expect(throws: WebAuthnVerifier.Failure.badSignature) {
            try verifier.verifyAssertion(
                clientDataJSON: assertData, authenticatorData: authData, signature: signature, challenge: challenge,
                publicKey: registration.publicKey, storedSignCount: 0, requireUserVerification: false)
        }
        // Bytes after the authenticator data's fields.
        #expect(throws: WebAuthnVerifier.Failure.authenticatorData("1 bytes after the authenticator data's fields")) {
            try verifier.verifyAssertion(
                clientDataJSON: assertData, authenticatorData: authData + [0], signature: signature, challenge: challenge,
                publicKey: registration.publicKey, storedSignCount: 0, requireUserVerification: false)
        }
    }
}
