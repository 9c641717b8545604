import ArgumentParser
import Foundation
import GatehouseCore

struct SignIns: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signins",
        abstract: "Search the sign-in log: failures and interactive steps kept whole, repeated machine successes counted per minute.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("trace-id"), help: "The trace_id of an error response or the X-Trace-Id header.") var traceID: String?
    @Option(name: .customLong("correlation-id"), help: "The correlation_id (the client-request-id the client sent).") var correlationID:
        String?
    @Option(help: "Only this tenant's requests.") var tenant: String?
    @Option(name: .customLong("client")) var clientID: String?
    @Option(help: "Error code (from error_codes).") var code: Int?
    @Option(help: "A username or user ID (with --tenant): the requests made for that user once it was known.") var user: String?
    @Flag(help: "Failures only.") var failures = false
    @Option(help: "From: ISO 8601 time or an age like 30m, 2h, 7d.") var since: String?
    @Option(help: "Until: ISO 8601 time or an age.") var until: String?
    @Option(help: "At most this many rows (1-10000).") var limit: Int = 50
    @Flag(help: "Counts per hour, client, step and code (aggregates and whole rows) instead of rows; --since defaults to 24h.")
    var summary = false
    var json: Bool { global.json }

    func run() async throws {
        guard (1...10_000).contains(limit) else { throw CLIError("--limit must be between 1 and 10000") }
        if user != nil && tenant == nil { throw CLIError("--user needs --tenant") }
        var query = SignInQuery(
            traceID: traceID, correlationID: correlationID, tenant: tenant, clientID: clientID, errorCode: code,
            result: failures ? .failure : nil, since: try since.map(Self.parseTime), until: try until.map(Self.parseTime), limit: limit)
        if let user, let tenant {
            let tenantName = try parseTenant(tenant)
            query.userID = try await withAdministration(global) { admin, _ in try await admin.findUser(tenant: tenantName, user).id }
        }
        if summary {
            try await printSummary()
            return
        }
        try await withStore(global) { store, _ in
            let events = try await store.signIns(query)
            if events.isEmpty, let traceID {
                // Not kept whole: it may have been counted in an aggregate of its minute.
                let aggregates = try await SignInLookup.aggregates(containing: traceID, in: store)
                if !aggregates.isEmpty {
                    if json {
                        try printJSON(aggregates.map(Self.json))
                    } else {
                        for aggregate in aggregates { print(Self.explain(aggregate)) }
                    }
                    return
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                // The CLI's JSON is snake_case throughout (trace_id, client_id, ...).
                encoder.keyEncodingStrategy = .convertToSnakeCase
                print(String(decoding: try encoder.encode(events), as: UTF8.self))
                return
            }
            // One row per request; what varies in length (scopes, detail) comes last.
            printTable(
                ["TIME", "TENANT", "CLIENT", "USER", "STEP", "RESULT", "CREDENTIAL", "TRACE ID", "LATENCY", "IP", "SCOPES / DETAIL"],
                events.map { event in
                    let outcome = event.result == .success ? "success" : "\(event.errorCode.map(String.init) ?? "-") \(event.error ?? "")"
                    let scopesAndDetail = [event.scopes.map { "scopes: \($0)" }, event.detail].compactMap { $0 }.joined(separator: "; ")
                    return [
                        printedTime(event.time), event.tenant, event.clientID ?? "-", event.userID ?? "-", event.grantType ?? "-", outcome,
                        event.credential ?? "-", event.traceID, String(format: "%.1f ms", Double(event.latencyMicros) / 1000),
                        event.clientIP ?? "-",
                        scopesAndDetail.isEmpty ? "-" : scopesAndDetail,
                    ]
                }, empty: "No matching sign-ins.")
        }
    }

    /// "aggregated: client C, grant G, 1,234 successes in 12:03 (UTC) …".
    static func explain(_ aggregate: SignInAggregate) -> String {
        let key = aggregate.key
        let formatter = ISO8601DateFormatter()
        let minute = formatter.string(from: key.start).dropLast(4)  // yyyy-MM-ddTHH:mm
        let outcome = key.result == .success ? "successes" : "refusals with code \(key.errorCode)"
        let number = NumberFormatter.localizedString(from: NSNumber(value: aggregate.count), number: .decimal)
        return
            "aggregated: tenant \(key.tenant), client \(key.clientID), grant \(key.step), \(number) \(outcome) in \(minute) UTC "
            + "(first \(formatter.string(from: aggregate.firstTime)) trace \(aggregate.firstTraceID), last \(formatter.string(from: aggregate.lastTime)) trace \(aggregate.lastTraceID)); "
            + "this request was counted there, not kept whole"
    }

    static func json(_ aggregate: SignInAggregate) -> [String: Any] {
        let key = aggregate.key
        let formatter = ISO8601DateFormatter()
        return [
            "aggregated": true, "tenant": key.tenant, "client_id": key.clientID, "grant_type": key.step, "result": key.result.rawValue,
            "error_code": key.errorCode, "minute": formatter.string(from: key.start), "count": aggregate.count,
            // In bucket order, fastest first (a JSON object would be printed sorted by its keys' text).
            "latency_buckets": aggregate.buckets.enumerated().map { ["le": LatencyBuckets.label($0.offset), "count": $0.element] },
            "latency_mean_us": aggregate.count > 0 ? aggregate.latencySumMicros / aggregate.count : 0,
            "first_time": formatter.string(from: aggregate.firstTime), "last_time": formatter.string(from: aggregate.lastTime),
            "first_trace_id": aggregate.firstTraceID, "last_trace_id": aggregate.lastTraceID,
        ]
    }

    private func printSummary() async throws {
        let from = try since.map(Self.parseTime) ?? Date().addingTimeInterval(-86400)
        let to = try until.map(Self.parseTime) ?? Date()
        let cap = 100_000
        try await withStore(global) { store, _ in
            let aggregates = try await store.signInAggregates(
                SignInAggregateQuery(
                    tenant: tenant, clientID: clientID, fromMinute: Int(from.timeIntervalSince1970 / 60),
                    toMinute: Int(to.timeIntervalSince1970 / 60), limit: cap))
            let events = try await store.signIns(
                SignInQuery(tenant: tenant, clientID: clientID, errorCode: code, since: from, until: to, limit: cap))
            var rows = SignInSummaryRow.hourly(aggregates: aggregates, events: events)
            if let code { rows = rows.filter { $0.errorCode == code } }
            if failures { rows = rows.filter { $0.result == .failure } }
            let formatter = ISO8601DateFormatter()
            if json {
                try printJSON(
                    rows.map {
                        [
                            "hour": formatter.string(from: $0.hour), "tenant": $0.tenant, "client_id": $0.clientID, "grant_type": $0.step,
                            "result": $0.result.rawValue, "error_code": $0.errorCode, "count": $0.count,
                        ] as [String: Any]
                    })
            } else {
                printTable(
                    ["HOUR (UTC)", "TENANT", "CLIENT", "STEP", "RESULT", "CODE", "COUNT"],
                    rows.map { row in
                        [
                            String(formatter.string(from: row.hour).dropLast(4)), row.tenant, row.clientID, row.step, row.result.rawValue,
                            row.errorCode == 0 ? "-" : String(row.errorCode), String(row.count),
                        ]
                    }, empty: "No sign-ins between \(formatter.string(from: from)) and \(formatter.string(from: to)).")
            }
            if aggregates.count == cap || events.count == cap {
                print("(more than \(cap) rows in the window: the counts above are incomplete; narrow --since/--until)")
            }
        }
    }

    static func parseTime(_ raw: String) throws -> Date {
        if let date = ISO8601DateFormatter().date(from: raw) { return date }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = raw.last, let factor = units[unit], let amount = Double(raw.dropLast()), amount >= 0 {
            return Date().addingTimeInterval(-amount * factor)
        }
        throw CLIError("'\(raw)' is neither an ISO 8601 time nor an age like 30m, 2h or 7d")
    }
}
