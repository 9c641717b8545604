import ArgumentParser
import Foundation
import GatehouseCore

struct SignIns: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signins", abstract: "Search the sign-in log: every token request, success or failure.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("trace-id")) var traceID: String?
    @Option(name: .customLong("correlation-id")) var correlationID: String?
    @Option var tenant: String?
    @Option(name: .customLong("client")) var clientID: String?
    @Option(help: "Error code (from error_codes).") var code: Int?
    @Flag(help: "Failures only.") var failures = false
    @Option(help: "From: ISO 8601 time or an age like 30m, 2h, 7d.") var since: String?
    @Option(help: "Until: ISO 8601 time or an age.") var until: String?
    @Option var limit: Int = 50
    @Flag var json = false

    func run() async throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000") }
        let query = SignInQuery(
            traceID: traceID, correlationID: correlationID, tenant: tenant, clientID: clientID, errorCode: code,
            result: failures ? .failure : nil, since: try since.map(Self.parseTime), until: try until.map(Self.parseTime), limit: limit)
        try await withStore(global) { store, _ in
            let events = try await store.signIns(query)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(events), as: UTF8.self))
                return
            }
            if events.isEmpty {
                print("No matching sign-ins.")
                return
            }
            let formatter = ISO8601DateFormatter()
            for event in events {
                let outcome = event.result == .success ? "success" : "\(event.errorCode.map(String.init) ?? "-") \(event.error ?? "")"
                print(
                    "\(formatter.string(from: event.time))  \(event.tenant)  \(event.clientID ?? "-")  \(event.grantType ?? "-")  \(outcome)  trace=\(event.traceID) correlation=\(event.correlationID)  \(event.latencyMicros)µs  ip=\(event.clientIP ?? "-")"
                )
                if let detail = event.detail { print("    detail: \(detail)") }
            }
        }
    }

    static func parseTime(_ raw: String) throws -> Date {
        if let date = ISO8601DateFormatter().date(from: raw) { return date }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = raw.last, let factor = units[unit], let amount = Double(raw.dropLast()), amount >= 0 {
            return Date().addingTimeInterval(-amount * factor)
        }
        throw ValidationError("'\(raw)' is neither an ISO 8601 time nor an age like 30m, 2h or 7d")
    }
}
