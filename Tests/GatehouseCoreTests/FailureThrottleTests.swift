import Foundation
import GatehouseCore
import Synchronization
import Testing

@Suite struct FailureThrottleTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aParallelBurstGetsNoMoreAttemptsThanTheLimit() async {
        let throttle = FailureThrottle(limit: .init(failures: 5, window: 60))
        let admitted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 { group.addTask { throttle.admit("1.2.3.4|t|svc", now: start).ticket != nil } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 5)
        let refused = throttle.admit("1.2.3.4|t|svc", now: start.addingTimeInterval(10))
        #expect(refused.ticket == nil && refused.retryAfter == 50)
        // Another key is untouched; the window's end frees the key.
        #expect(throttle.admit("5.6.7.8|t|svc", now: start).ticket != nil)
        #expect(throttle.admit("1.2.3.4|t|svc", now: start.addingTimeInterval(60)).ticket != nil)
    }

    @Test func successesAreGivenBackAndNeverCount() {
        let throttle = FailureThrottle(limit: .init(failures: 3, window: 60))
        for _ in 0..<100 {
            guard let ticket = throttle.admit("k", now: start).ticket else {
                Issue.record("a success was throttled")
                return
            }
            throttle.settle(ticket, failed: false)
        }
        for _ in 0..<3 {
            if let ticket = throttle.admit("k", now: start).ticket { throttle.settle(ticket, failed: true) }
        }
        #expect(throttle.failures("k", now: start) == 3)
        #expect(throttle.admit("k", now: start).ticket == nil)
    }

    @Test func aTicketFromAnEndedWindowGivesNothingBack() {
        let throttle = FailureThrottle(limit: .init(failures: 2, window: 60))
        let old = throttle.admit("k", now: start).ticket
        _ = throttle.admit("k", now: start.addingTimeInterval(61))
        if let old { throttle.settle(old, failed: false) }
        #expect(throttle.failures("k", now: start.addingTimeInterval(62)) == 1)
    }

    @Test func keysAreBounded() {
        let throttle = FailureThrottle(limit: .init(failures: 1, window: 60), capacity: 100)
        for index in 0..<1_000 { _ = throttle.admit("k\(index)", now: start) }
        // The newest key is kept; memory stays bounded (old keys went).
        #expect(throttle.failures("k999", now: start) == 1)
        #expect((0..<1_000).filter { throttle.failures("k\($0)", now: start) > 0 }.count <= 100)
    }

    @Test func forwardedForIsReadOnlyFromTrustedProxies() {
        let source = SourceAddress(trustedProxies: ["10.0.0.1", "10.0.0.2"])
        #expect(source.resolve(peer: "203.0.113.9", forwardedFor: "1.1.1.1") == "203.0.113.9")
        #expect(source.resolve(peer: "10.0.0.1", forwardedFor: "1.1.1.1, 198.51.100.7, 10.0.0.2") == "198.51.100.7")
        #expect(source.resolve(peer: "10.0.0.1", forwardedFor: nil) == "10.0.0.1")
        #expect(source.resolve(peer: nil, forwardedFor: "1.1.1.1") == "unknown")
    }

    /// Behind a dual-stack listener (`--host ::`) an IPv4 peer is `::ffff:a.b.c.d`: it is the IPv4
    /// address, for the trusted list as for the key; a forwarded header from an untrusted peer is noted.
    @Test func ipv4MappedAddressesAreTheirIPv4Address() {
        let source = SourceAddress(trustedProxies: ["127.0.0.1", "::FFFF:10.0.0.1"])
        #expect(source.resolve(peer: "::ffff:127.0.0.1", forwardedFor: "203.0.113.5") == "203.0.113.5")
        #expect(source.resolve(peer: "10.0.0.1", forwardedFor: "::ffff:198.51.100.7") == "198.51.100.7")
        #expect(source.resolve(peer: "::ffff:192.0.2.1", forwardedFor: nil) == "192.0.2.1")
        #expect(source.resolve(peer: "::ffff:1:2", forwardedFor: nil) == "::ffff:1:2")
        #expect(source.resolveNoting(peer: "192.0.2.9", forwardedFor: "1.1.1.1") == ("192.0.2.9", true))
        #expect(source.resolveNoting(peer: "127.0.0.1", forwardedFor: "1.1.1.1") == ("1.1.1.1", false))
    }
}
