import Foundation
import GatehouseCore
import Hummingbird

/// The sign-in log: failures by code over time (an SVG chart with the same numbers as a table),
/// a filtered list of requests, a search box that takes a trace ID, a correlation ID or a whole
/// pasted error (`PastedError`), and each request's full record. Only the target tenant's rows
/// are ever read.
extension ConsoleRoutes {
    /// The newest failures the chart counts; the caption says so when there were more.
    static let chartLimit = 10_000
    /// What the search box reads of a paste (an MSAL or azure-identity exception is a few KiB).
    static let searchLimit = 16 * 1024
    static let listLimit = 200

    func registerSignIns(on router: RouterGroup<GatehouseContext>) {
        router.get("signins") { request, context in
            try await self.page(request, context) { call in try await self.signIns(call) }
        }
        router.get("signins/:trace") { request, context in
            try await self.page(request, context) { call in try await self.signInRecord(call) }
        }
    }

    private func signIns(_ call: Call) async throws -> Outcome {
        let t = { (key: String, values: [String: String]) in self.views.text(key, call.language, values) }
        let query = call.query
        let tenant = call.target.name.value
        let period = query["period"].flatMap { FailureChart.Period(rawValue: $0) } ?? .day
        let now = time.now()
        let since = now.addingTimeInterval(-period.span.total)
        // Filters: client, user (a username, an address or an ID), code, result.
        let clientFilter = Self.field(query["client"])
        let userFilter = Self.field(query["user"])
        let codeFilter = Self.field(query["code"])
        let resultFilter = Self.field(query["result"]).flatMap(SignInEvent.Result.init(rawValue:))
        var userID: String? = nil
        if let userFilter {
            userID = try await store.user(tenant: call.target.name, signInName: userFilter)?.id ?? userFilter
        }
        var filter = SignInQuery(
            tenant: tenant, clientID: clientFilter, errorCode: codeFilter.flatMap { Int($0) }, result: resultFilter, since: since,
            limit: Self.listLimit, userID: userID)
        // The search box: whatever the user pasted.
        let pasted = String((query["q"] ?? "").prefix(Self.searchLimit))
        var found: String? = nil
        var entries: [[String: Any]] = []
        var events: [SignInEvent] = []
        var aggregates: [SignInAggregate] = []
        if !pasted.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            let parsed = PastedError.parse(pasted)
            entries = parsed.codes.compactMap(Catalogue.entry).map { entry in
                [
                    "code": entry.number, "name": entry.name,
                    "message": texts.text(for: entry.number, language: call.language)?.message ?? "",
                    "uri": configuration.errorURI(entry.number, traceID: parsed.traceID, language: call.language),
                ]
            }
            if let traceID = parsed.traceID {
                events = try await store.signIns(SignInQuery(traceID: traceID, tenant: tenant, limit: 10))
                if events.isEmpty {
                    aggregates = try await SignInLookup.aggregates(containing: traceID, in: store).filter { $0.key.tenant == tenant }
                }
            }
            if events.isEmpty && aggregates.isEmpty, let correlationID = parsed.correlationID {
                events = try await store.signIns(SignInQuery(correlationID: correlationID, tenant: tenant, limit: 50))
            }
            let picked = [
                parsed.codes.isEmpty ? nil : t("foundCodes", ["codes": parsed.codes.map(String.init).joined(separator: ", ")]),
                parsed.traceID.map { t("foundTrace", ["id": $0]) }, parsed.correlationID.map { t("foundCorrelation", ["id": $0]) },
            ].compactMap { $0 }
            if parsed.isEmpty {
                found = t("foundNothing", [:])
            } else {
                let outcome =
                    events.isEmpty && aggregates.isEmpty
                    ? t("noRecord", [:]) : t("records", ["count": "\(events.count + aggregates.count)"])
                found = picked.joined(separator: "; ") + ". " + outcome
            }
            filter.since = nil
        } else {
            // Older pages: the rows before the last one shown (`before`, microseconds since 1970).
            var page = filter
            if let raw = Self.field(query["before"]), let micros = Int64(raw) {
                page.until = Date(timeIntervalSince1970: Double(micros - 1) / 1_000_000)
            }
            events = try await store.signIns(page)
        }
        // The chart: failures of the period (with the same client, user and code filters).
        var chartQuery = filter
        chartQuery.result = .failure
        chartQuery.since = since
        chartQuery.limit = Self.chartLimit
        let failures = resultFilter == .success ? [] : try await store.signIns(chartQuery)
        let chart = FailureChart(events: failures, period: period, end: now)
        let drawing = FailureChartDrawing(chart: chart, language: call.language, views: views)
        var usernames: [String: String] = [:]
        for id in Set(events.compactMap(\.userID)) {
            usernames[id] = try await store.user(tenant: call.target.name, id: id)?.username.value
        }
        let rows = events.map { event -> [String: Any] in
            [
                "time": ConsoleViews.time(event.time), "client": event.clientID ?? "-",
                "user": event.userID.map { usernames[$0] ?? $0 } ?? "-", "step": event.grantType ?? "-",
                "failed": event.result == .failure, "code": event.errorCode.map(String.init) ?? "-", "error": event.error ?? "",
                "traceID": event.traceID, "href": "\(call.base)/signins/\(event.traceID)",
            ]
        }
        let view: [String: Any] = [
            "query": [
                "q": pasted, "client": clientFilter ?? "", "user": userFilter ?? "", "code": codeFilter ?? "",
            ],
            "periods": FailureChart.Period.allCases.map {
                ["value": $0.rawValue, "label": t("period.\($0.rawValue)", [:]), "selected": $0 == period] as [String: Any]
            },
            "results": [("", t("any", [:])), ("failure", t("failure", [:])), ("success", t("success", [:]))].map {
                ["value": $0.0, "label": $0.1, "selected": $0.0 == (resultFilter?.rawValue ?? "")] as [String: Any]
            },
            "found": orFalse(found),
            "older": orFalse(
                pasted.isEmpty && events.count >= Self.listLimit
                    ? events.last.map { last -> String in
                        var pairs = [("period", period.rawValue), ("before", "\(Int64(last.time.timeIntervalSince1970 * 1_000_000))")]
                        for (name, value) in [
                            ("client", clientFilter), ("user", userFilter), ("code", codeFilter), ("result", resultFilter?.rawValue),
                        ] {
                            if let value { pairs.append((name, value)) }
                        }
                        return "\(call.base)/signins?" + Self.encode(pairs)
                    } : nil), "entries": entries, "events": rows, "hasAggregates": !aggregates.isEmpty,
            "aggregates": aggregates.map { aggregate in
                t(
                    "aggregateLine",
                    [
                        "count": "\(aggregate.count)", "client": aggregate.key.clientID, "step": aggregate.key.step,
                        "code": aggregate.key.errorCode == 0 ? "-" : "\(aggregate.key.errorCode)",
                        "minute": ConsoleViews.time(aggregate.key.start),
                    ])
            },
            "chartHeading": t("chartHeading", ["period": t("period.\(period.rawValue)", [:]).lowercased()]),
            "chart": drawing.svg, "legend": drawing.legend, "rows": drawing.rows, "hasFailures": chart.total > 0,
            "chartCaption": failures.count >= Self.chartLimit
                ? t("chartCaptionLimited", ["limit": "\(Self.chartLimit)"]) : t("chartCaption", ["total": "\(chart.total)"]),
        ]
        return .page(section: "signins", title: t("section.signins", [:]), template: .signIns, view: view)
    }

    private func signInRecord(_ call: Call) async throws -> Outcome {
        let t = { (key: String, values: [String: String]) in self.views.text(key, call.language, values) }
        let traceID = call.context.parameters.get("trace") ?? ""
        guard traceID.utf8.count <= 64 else { throw Administration.AdministrationError.notFound("sign-in record", "(too long)") }
        let tenant = call.target.name.value
        let events = try await store.signIns(SignInQuery(traceID: traceID, tenant: tenant, limit: 10))
        guard let event = events.first else {
            let aggregates = try await SignInLookup.aggregates(containing: traceID, in: store).filter { $0.key.tenant == tenant }
            guard !aggregates.isEmpty else { throw Administration.AdministrationError.notFound("sign-in record", traceID) }
            let fields = aggregates.map { aggregate in
                [
                    "label": ConsoleViews.time(aggregate.key.start),
                    "value": t(
                        "aggregateLine",
                        [
                            "count": "\(aggregate.count)", "client": aggregate.key.clientID, "step": aggregate.key.step,
                            "code": aggregate.key.errorCode == 0 ? "-" : "\(aggregate.key.errorCode)",
                            "minute": ConsoleViews.time(aggregate.key.start),
                        ]),
                ]
            }
            return .page(
                section: "signins", title: t("recordTitle", ["id": traceID]), template: .record,
                view: ["fields": [["label": t("traceID", [:]), "value": traceID]] + fields])
        }
        var username = "-"
        if let id = event.userID, let user = try await store.user(tenant: call.target.name, id: id) {
            username = "\(user.username.value) (\(id))"
        } else if let id = event.userID {
            username = id
        }
        let fields: [(String, String?, String)] = [
            ("time", ConsoleViews.time(event.time), ""), ("tenant", event.tenant, ""), ("client", event.clientID, "mono"),
            ("user", username, ""), ("step", event.grantType, ""),
            ("result", event.result == .success ? t("success", [:]) : t("failure", [:]), event.result == .failure ? "fail" : "ok"),
            ("code", event.errorCode.map { "\($0) \(event.error ?? "")" }, ""), ("detail", event.detail, ""),
            ("scopes", event.scopes, "mono"), ("credentialUsed", event.credential, "mono"), ("traceID", event.traceID, "mono"),
            ("correlationID", event.correlationID, "mono"), ("sourceAddress", event.clientIP, "mono"),
            ("userAgent", event.userAgent, ""), ("latency", "\(event.latencyMicros / 1000) ms", ""),
            ("countedInAggregate", event.countedInAggregate ? t("yes", [:]) : t("no", [:]), ""),
        ]
        var view: [String: Any] = [
            "fields": fields.map { ["label": t($0.0, [:]), "value": $0.1 ?? "-", "class": $0.2] }
        ]
        if let code = event.errorCode, let entry = Catalogue.entry(code) {
            let text = texts.text(for: code, language: call.language)
            view["entry"] = [
                "code": code, "name": entry.name, "message": text?.message ?? "", "cause": text?.cause ?? "",
                "remediation": text?.remediation ?? "", "rule": t("rule.\(FailureRule(entry).rawValue)", [:]),
                "uri": configuration.errorURI(code, traceID: event.traceID, language: call.language),
            ]
        }
        return .page(section: "signins", title: t("recordTitle", ["id": traceID]), template: .record, view: view)
    }

    /// A query parameter as a filter: trimmed, bounded, nil when empty.
    static func field(_ raw: String?) -> String? {
        guard let raw else { return nil }
        let value = raw.trimmingCharacters(in: .whitespaces)
        return value.isEmpty ? nil : String(value.prefix(256))
    }
}

/// The chart as SVG (stacked bars per code per bucket, `role="img"` with a title and a
/// description that point to the table with the same numbers) and that table's rows.
struct FailureChartDrawing {
    let chart: FailureChart
    let language: String
    let views: ConsoleViews

    /// Up to this many codes get their own colour; the rest are drawn together.
    static let palette = ["#b00020", "#005fcc", "#9a6700", "#1a7f37", "#8250df", "#bf3989", "#0a7ea4", "#6e7781"]

    var shownCodes: [Int] { Array(chart.codes.prefix(Self.palette.count - 1)) }
    var hasOthers: Bool { chart.codes.count > shownCodes.count }

    func color(_ code: Int?) -> String {
        guard let code, let index = shownCodes.firstIndex(of: code) else { return Self.palette[Self.palette.count - 1] }
        return Self.palette[index]
    }

    var legend: [[String: Any]] {
        var items = shownCodes.map { code -> [String: Any] in
            ["code": "\(code)", "name": Catalogue.entry(code)?.name ?? "", "color": color(code)]
        }
        if hasOthers { items.append(["code": views.text("otherCodes", language), "name": "", "color": color(nil)]) }
        return items
    }

    func label(_ bucket: FailureChart.Bucket) -> String {
        let stamp = ErrorRenderer.timestamp(bucket.start)  // yyyy-MM-dd HH:mm:ssZ
        switch chart.period {
        case .hour, .day: return String(stamp.dropFirst(11).prefix(5))
        case .week: return String(stamp.dropFirst(5).prefix(11))
        }
    }

    var rows: [[String: Any]] {
        chart.buckets.map { bucket in
            var cells = shownCodes.map { bucket.counts[$0] ?? 0 }
            if hasOthers { cells.append(bucket.counts.filter { !shownCodes.contains($0.key) }.values.reduce(0, +)) }
            return ["label": label(bucket), "cells": cells, "total": bucket.total]
        }
    }

    var svg: String {
        let width = 1000.0
        let height = 220.0
        let left = 40.0
        let bottom = 30.0
        let top = 10.0
        let plotHeight = height - bottom - top
        let count = Double(max(chart.buckets.count, 1))
        let slot = (width - left - 10) / count
        let largest = max(chart.largestBucket, 1)
        let scale = plotHeight / Double(largest)
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        var parts: [String] = []
        let title = views.text("chartTitle", language, ["total": "\(chart.total)"])
        parts.append(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-labelledby=\"chart-title chart-desc\" id=\"chart\">"
        )
        parts.append("<title id=\"chart-title\">\(HTMLText.escape(title))</title>")
        parts.append("<desc id=\"chart-desc\">\(HTMLText.escape(views.text("chartDescription", language)))</desc>")
        // Axis and the largest value.
        parts.append(
            "<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(width - 10))\" y2=\"\(f(top + plotHeight))\" stroke=\"#767676\"/>"
        )
        parts.append("<text x=\"\(f(left - 6))\" y=\"\(f(top + 10))\" font-size=\"11\" text-anchor=\"end\" fill=\"#333\">\(largest)</text>")
        parts.append("<text x=\"\(f(left - 6))\" y=\"\(f(top + plotHeight))\" font-size=\"11\" text-anchor=\"end\" fill=\"#333\">0</text>")
        let labelEvery = max(1, chart.buckets.count / 8)
        for (index, bucket) in chart.buckets.enumerated() {
            let x = left + Double(index) * slot + slot * 0.15
            let barWidth = slot * 0.7
            var y = top + plotHeight
            var stacks: [(Int?, Int)] = shownCodes.compactMap { code in bucket.counts[code].map { (code, $0) } }
            let others = bucket.counts.filter { !shownCodes.contains($0.key) }.values.reduce(0, +)
            if others > 0 { stacks.append((nil, others)) }
            for (code, value) in stacks {
                let h = Double(value) * scale
                y -= h
                let name = code.map { "\($0) \(Catalogue.entry($0)?.name ?? "")" } ?? views.text("otherCodes", language)
                parts.append(
                    "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(barWidth))\" height=\"\(f(h))\" fill=\"\(color(code))\"><title>\(HTMLText.escape("\(label(bucket)): \(name) × \(value)"))</title></rect>"
                )
            }
            if index % labelEvery == 0 {
                parts.append(
                    "<text x=\"\(f(x + barWidth / 2))\" y=\"\(f(height - 10))\" font-size=\"10\" text-anchor=\"middle\" fill=\"#333\">\(HTMLText.escape(label(bucket)))</text>"
                )
            }
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }
}
