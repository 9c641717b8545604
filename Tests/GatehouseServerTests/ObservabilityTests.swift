import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// `/metrics` through the real router, the bounds on label values, and the JSON log line format.
@Suite struct ObservabilityTests {
    static let managementToken = "management-token-for-the-tests"

    static func exposition(_ client: any TestClientProtocol) async throws -> String {
        let response = try await client.execute(
            uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(managementToken)"])
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
        return String(buffer: response.body)
    }

    @Test func metricsCountOutcomesWithBoundedLabels() async throws {
        let harness = try await Harness.make { $0.metricsToken = Self.managementToken }
        try await harness.withClient { client in
            let good = [("grant_type", "client_credentials")]
            _ = try await harness.token(client, good, headers: [.authorization: basic("svc", harness.secret("svc"))])
            _ = try await harness.token(client, good, headers: [.authorization: basic("svc", "not-the-secret")])
            // A made-up grant type and tenant, and an unknown method, are not label values.
            _ = try await harness.token(
                client, [("grant_type", "urn:made-up:\(UUID())")], headers: [.authorization: basic("svc", harness.secret("svc"))])
            _ = try await client.execute(
                uri: "/tenant-\(UUID().uuidString.prefix(8).lowercased())/oauth2/token", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: "grant_type=x"))
            _ = try await client.execute(uri: "/contoso/oauth2/token", method: HTTPRequest.Method("BREW")!)
            let text = try await Self.exposition(client)
            #expect(
                text.contains(
                    #"gatehouse_token_requests_total{tenant="contoso",grant_type="client_credentials",result="success",code="0"} 1"#))
            #expect(
                text.contains(
                    #"gatehouse_token_requests_total{tenant="contoso",grant_type="client_credentials",result="failure",code="7000215"} 1"#
                ))
            #expect(text.contains(#"grant_type="other""#))
            #expect(!text.contains("urn:made-up"))
            #expect(text.contains(#"tenant="(unknown)""#) && !text.contains("tenant-"))
            #expect(text.contains(#"method="other""#) && !text.contains("BREW"))
            #expect(text.contains(#"gatehouse_http_requests_total{route="/{tenant}/oauth2/token",method="POST",status="200"} 1"#))
            #expect(text.contains(#"gatehouse_signing_key_age_seconds{tenant="contoso"}"#))
            #expect(text.contains(#"gatehouse_signing_key_missing{tenant="contoso"} 0"#))
            // Every family has help text, and no client ID is a label value.
            let lines = text.split(separator: "\n")
            let typed = Set(lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
            let helped = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
            #expect(!typed.isEmpty && typed.isSubset(of: helped))
            #expect(!text.contains("svc"))
        }
    }

    /// Second probe, finding 5: `/metrics` names every tenant and what fails in it, and readiness
    /// named the tenants without a key. The main port serves neither to anyone but the bearer of
    /// the management token (and `/metrics` not at all without one); the management port serves
    /// both; readiness on the main port is a bare status.
    @Test func metricsAndDetailedReadinessAreOffThePublicPort() async throws {
        let closed = try await Harness.make()
        try await closed.withClient { client in
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .notFound && !String(buffer: metrics.body).contains("gatehouse_"))
            let ready = try await client.execute(uri: "/health/ready", method: .get)
            #expect(ready.status == .ok && json(ready)["status"] as? String == "ready" && json(ready)["checks"] == nil)
            #expect(!String(buffer: ready.body).contains("contoso") && !String(buffer: ready.body).contains("tenants"))
        }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        try await Application(router: closed.gatehouse.buildMetricsRouter(), logger: logger).test(.router) { client in
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok && String(buffer: metrics.body).contains(#"gatehouse_signing_key_age_seconds{tenant="contoso"}"#))
            let ready = try await client.execute(uri: "/health/ready", method: .get)
            #expect((json(ready)["checks"] as? [String: String])?["keys"] == "ok (1 tenants)")
            #expect(try await client.execute(uri: "/health/live", method: .get).status == .ok)
        }
        let tokened = try await Harness.make { $0.metricsToken = Self.managementToken }
        try await tokened.withClient { client in
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .unauthorized)
            let wrong = try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer not-the-token"])
            #expect(wrong.status == .unauthorized && !String(buffer: wrong.body).contains("gatehouse_"))
            _ = try await Self.exposition(client)
            let ready = try await client.execute(
                uri: "/health/ready", method: .get, headers: [.authorization: "Bearer \(Self.managementToken)"])
            #expect((json(ready)["checks"] as? [String: String])?["database"] == "ok")
        }
    }

    /// Second probe, finding 5: 1,000 requests to made-up tenant names filled the tenant labels,
    /// after which a real tenant's failures counted as `other`, which a tenant named `other` would
    /// also be. Only resolved tenants take a label; the overflow label cannot be a tenant's name.
    @Test func madeUpTenantsLeaveTheRealTenantsSeriesIntact() async throws {
        let harness = try await Harness.make { $0.metricsToken = Self.managementToken }
        try await harness.withClient { client in
            for index in 0..<1_050 {
                _ = try await client.execute(uri: "/made-up-\(index)/oauth2/token", method: .get)
            }
            _ = try await harness.token(
                client, [("grant_type", "client_credentials")], headers: [.authorization: basic("svc", "not-the-secret")])
            let text = try await Self.exposition(client)
            #expect(
                text.contains(
                    #"gatehouse_token_requests_total{tenant="contoso",grant_type="client_credentials",result="failure",code="7000215"} 1"#
                ))
            #expect(
                text.contains(#"gatehouse_token_requests_total{tenant="(unknown)",grant_type="none",result="failure",code="900561"} 1050"#))
            #expect(!text.contains("made-up") && !text.contains(#"tenant="other""#) && !text.contains(#"tenant="(other)""#))
        }
    }

    @Test func tenantLabelsStopAtTheirLimit() {
        let telemetry = Telemetry()
        for index in 0..<1_050 { telemetry.outcome(.step, tenant: "t\(index)", step: "authorize", code: nil) }
        // A tenant named `other` keeps its own series.
        telemetry.outcome(.step, tenant: "other", step: "authorize", code: nil)
        let text = String(decoding: telemetry.exposition(), as: UTF8.self)
        let series = text.split(separator: "\n").filter { $0.hasPrefix("gatehouse_signin_steps_total{") }
        #expect(series.count == 1_001)
        #expect(text.contains(#"gatehouse_signin_steps_total{tenant="(other)",step="authorize",result="success",code="0"} 51"#))
    }

    @Test func jsonLinesEscapeEveryControlCharacter() throws {
        let hostile = "x\n{\"level\":\"critical\"}\u{1b}[31m\r\t\\\u{2028}\u{85}é"
        let line = JSONLogLine.line(
            time: Date(timeIntervalSince1970: 1_800_000_000.25), level: .info, label: "gatehouse", message: "request",
            metadata: ["tenant": .string(hostile), "status": .stringConvertible(401), "list": .array([.string("a\u{0}")])])
        #expect(line.last == UInt8(ascii: "\n"))
        #expect(line.dropLast().allSatisfy { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") && $0 >= 0x20 || $0 >= 0x80 })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        #expect(object["tenant"] as? String == hostile)
        #expect(object["status"] as? Int == 401)
        #expect(object["time"] as? String == "2027-01-15T08:00:00.250000Z")
        #expect(object["level"] as? String == "info" && object["message"] as? String == "request")
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.contains(#"\u001b"#) && text.contains(#"\u2028"#) && text.contains(#"\u0085"#) && text.contains(#"\u0000"#))
    }
}

/// The request line written directly says what the logger's line says.
@Suite struct RequestLogTests {
    final class Sink: LogSink {
        func write(_ line: [UInt8], urgent: Bool) {}
    }

    static let line = RequestLog.Line(
        traceID: "01a235ab-6b94-79c0-b4c0-ed8978fa2ac4", correlationID: "corr\n1", method: "POST", route: "/{tenant}/oauth2/token",
        status: 401, elapsed: .microseconds(3_804), notes: RequestNotes.Fields(tenant: "x\u{1b}y", clientID: "svc", code: 7_000_215),
        parentTraceID: "4bf92f3577b34da6a3ce929d0e0e4736")

    static var loggerMetadata: Logger.Metadata {
        var metadata = TraceMiddleware.lineMetadata(line)
        metadata["trace_id"] = .string(line.traceID)
        metadata["correlation_id"] = .string(line.correlationID)
        return metadata
    }

    @Test func textMatchesTheLoggerLine() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let direct = RequestLog(sink: Sink(), format: .text).text(Self.line, now: now)
        let logged = TextLogLine.line(
            time: now, level: .info, label: "gatehouse", source: "GatehouseServer", message: "request", metadata: Self.loggerMetadata)
        #expect(String(decoding: direct, as: UTF8.self) == String(decoding: logged, as: UTF8.self))
    }

    /// A client ID with spaces cannot add fields of its own to a text line, and a right-to-left
    /// override cannot make the line read differently from what it holds.
    @Test func valuesThatCouldPassForFieldsAreQuotedAndBidirectionalControlsEscaped() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let line = RequestLog.Line(
            traceID: "01a235ab-6b94-79c0-b4c0-ed8978fa2ac4", correlationID: "c", method: "POST", route: "/{tenant}/oauth2/token",
            status: 401, elapsed: .microseconds(1_000),
            notes: RequestNotes.Fields(
                tenant: "a\u{202E}b", clientID: "x code=0 status=200 [GatehouseServer] request \"q\"", code: 7_000_215),
            parentTraceID: nil)
        let text = String(decoding: RequestLog(sink: Sink(), format: .text).text(line, now: now), as: UTF8.self)
        #expect(text.contains(#"client_id="x code=0 status=200 [GatehouseServer] request \"q\"""#), "\(text)")
        #expect(text.contains(#"tenant=a\u{202e}b"#) && !text.unicodeScalars.contains { $0.value == 0x202E }, "\(text)")
        var metadata = TraceMiddleware.lineMetadata(line)
        metadata["trace_id"] = .string(line.traceID)
        metadata["correlation_id"] = .string(line.correlationID)
        let logged = TextLogLine.line(
            time: now, level: .info, label: "gatehouse", source: "GatehouseServer", message: "request", metadata: metadata)
        #expect(String(decoding: logged, as: UTF8.self) == text)
        // An empty value is visible too.
        let empty = TextLogLine.line(time: now, level: .info, label: "g", source: "S", message: "m", metadata: ["k": ""])
        #expect(String(decoding: empty, as: UTF8.self).contains(#" k="" [S] m"#))
    }

    @Test func jsonMatchesTheLoggerLine() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000.5)
        let direct = RequestLog(sink: Sink(), format: .json).json(Self.line, now: now)
        let logged = JSONLogLine.line(time: now, level: .info, label: "gatehouse", message: "request", metadata: Self.loggerMetadata)
        let a = try #require(try JSONSerialization.jsonObject(with: Data(direct)) as? NSDictionary)
        let b = try #require(try JSONSerialization.jsonObject(with: Data(logged)) as? NSDictionary)
        #expect(a == b)
        #expect(a["status"] as? Int == 401 && a["code"] as? Int == 7_000_215 && a["tenant"] as? String == "x\u{1b}y")
    }
}
