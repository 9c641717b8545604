import Foundation
import GatehouseCore
import SQLKit

/// The sign-in log: whole events and per-minute aggregates.
extension SQLStore {
    public func append(_ events: [SignInEvent]) async throws {
        for chunk in stride(from: 0, to: events.count, by: 500).map({ events[$0..<min($0 + 500, events.count)] }) {
            let insert = db.insert(into: "sign_ins").columns(
                "time", "tenant", "client_id", "grant_type", "scopes", "result", "error_code", "error", "detail",
                "trace_id", "correlation_id", "client_ip", "user_agent", "latency_us", "aggregated", "user_id", "credential")
            for event in chunk {
                insert.values([
                    SQLBind(event.time), SQLBind(event.tenant), SQLBind(event.clientID), SQLBind(event.grantType),
                    SQLBind(event.scopes), SQLBind(event.result.rawValue), SQLBind(event.errorCode), SQLBind(event.error),
                    SQLBind(event.detail),
                    SQLBind(event.traceID), SQLBind(event.correlationID), SQLBind(event.clientIP), SQLBind(event.userAgent),
                    SQLBind(event.latencyMicros), SQLBind(event.countedInAggregate), SQLBind(event.userID),
                    SQLBind(event.credential),
                ])
            }
            try await insert.run()
        }
    }

    public func signIns(_ query: SignInQuery) async throws -> [SignInEvent] {
        let select = db.select().column("*").from("sign_ins")
        if let traceID = query.traceID { select.where("trace_id", .equal, traceID) }
        if let correlationID = query.correlationID { select.where("correlation_id", .equal, correlationID) }
        if let tenant = query.tenant { select.where("tenant", .equal, tenant) }
        if let clientID = query.clientID { select.where("client_id", .equal, clientID) }
        if let userID = query.userID { select.where("user_id", .equal, userID) }
        if let errorCode = query.errorCode { select.where("error_code", .equal, errorCode) }
        if let result = query.result { select.where("result", .equal, result.rawValue) }
        if let since = query.since { select.where("time", .greaterThanOrEqual, since) }
        if let until = query.until { select.where("time", .lessThanOrEqual, until) }
        return try await select.orderBy("time", .descending).limit(query.limit).all().map { row in
            let traceID = try row.decode(column: "trace_id", as: String.self)
            return SignInEvent(
                time: try row.decode(column: "time", as: Date.self),
                tenant: try row.decode(column: "tenant", as: String.self),
                clientID: try row.decode(column: "client_id", as: String?.self),
                grantType: try row.decode(column: "grant_type", as: String?.self),
                scopes: try row.decode(column: "scopes", as: String?.self),
                result: try Self.parse(row, "result", table: "sign_ins", key: traceID, SignInEvent.Result.init(rawValue:)),
                errorCode: try row.decode(column: "error_code", as: Int?.self),
                error: try row.decode(column: "error", as: String?.self),
                detail: try row.decode(column: "detail", as: String?.self),
                traceID: traceID,
                correlationID: try row.decode(column: "correlation_id", as: String.self),
                clientIP: try row.decode(column: "client_ip", as: String?.self),
                userAgent: try row.decode(column: "user_agent", as: String?.self),
                latencyMicros: try row.decode(column: "latency_us", as: Int.self),
                countedInAggregate: try row.decode(column: "aggregated", as: Bool.self),
                userID: try row.decode(column: "user_id", as: String?.self),
                credential: try row.decode(column: "credential", as: String?.self))
        }
    }

    /// One bounded batch: the rows older than `cutoff` up to the time of the `limit`-th oldest.
    public func purgeSignIns(before cutoff: Date, limit: Int) async throws -> Int {
        let cut = cutoff
        return try await db.raw(
            """
            DELETE FROM sign_ins WHERE time < \(bind: cut) AND time <= COALESCE(
                (SELECT time FROM sign_ins WHERE time < \(bind: cut) ORDER BY time LIMIT 1 OFFSET \(bind: max(0, limit - 1))), \(bind: cut))
            RETURNING aggregated
            """
        ).all().count
    }

    static let bucketColumns = (0..<LatencyBuckets.count).map { "b\($0)" }

    public func addSignInAggregates(_ aggregates: [SignInAggregate]) async throws {
        let buckets = Self.bucketColumns
        let sums = buckets.map { "\($0) = sign_in_aggregates.\($0) + excluded.\($0)" }.joined(separator: ", ")
        for aggregate in aggregates {
            let key = aggregate.key
            var values: [any Encodable & Sendable] = [
                key.tenant, key.clientID, key.step, key.result.rawValue, key.errorCode, key.minute, aggregate.count,
            ]
            values += buckets.indices.map { aggregate.buckets.indices.contains($0) ? aggregate.buckets[$0] : 0 }
            values += [
                aggregate.latencySumMicros, aggregate.firstTime, aggregate.lastTime,
                aggregate.firstTraceID, aggregate.lastTraceID,
            ]
            let columns =
                ["tenant", "client_id", "step", "result", "error_code", "minute", "count"] + buckets
                + ["latency_sum_us", "first_time", "last_time", "first_trace_id", "last_trace_id"]
            // One statement per key: SET expressions read the row as it was, so concurrent
            // writers (other flushes, other nodes) add up.
            try await db.raw(
                """
                INSERT INTO sign_in_aggregates (\(unsafeRaw: columns.joined(separator: ", ")))
                VALUES (\(SQLList(values.map { SQLBind($0) })))
                ON CONFLICT (tenant, client_id, step, result, error_code, minute) DO UPDATE SET
                    count = sign_in_aggregates.count + excluded.count, \(unsafeRaw: sums),
                    latency_sum_us = sign_in_aggregates.latency_sum_us + excluded.latency_sum_us,
                    first_trace_id = CASE WHEN excluded.first_trace_id < sign_in_aggregates.first_trace_id
                        THEN excluded.first_trace_id ELSE sign_in_aggregates.first_trace_id END,
                    first_time = CASE WHEN excluded.first_time < sign_in_aggregates.first_time
                        THEN excluded.first_time ELSE sign_in_aggregates.first_time END,
                    last_trace_id = CASE WHEN excluded.last_trace_id > sign_in_aggregates.last_trace_id
                        THEN excluded.last_trace_id ELSE sign_in_aggregates.last_trace_id END,
                    last_time = CASE WHEN excluded.last_time > sign_in_aggregates.last_time
                        THEN excluded.last_time ELSE sign_in_aggregates.last_time END
                """
            ).run()
        }
    }

    public func signInAggregates(_ query: SignInAggregateQuery) async throws -> [SignInAggregate] {
        let select = db.select().column("*").from("sign_in_aggregates")
        if let tenant = query.tenant { select.where("tenant", .equal, tenant) }
        if let clientID = query.clientID { select.where("client_id", .equal, clientID) }
        if let from = query.fromMinute { select.where("minute", .greaterThanOrEqual, from) }
        if let to = query.toMinute { select.where("minute", .lessThanOrEqual, to) }
        return try await select.orderBy("minute", .descending).orderBy("last_time", .descending).limit(query.limit).all().map { row in
            let minute = try row.decode(column: "minute", as: Int.self)
            let parsed = try Self.parse(
                row, "result", table: "sign_in_aggregates", key: "minute \(minute)", SignInEvent.Result.init(rawValue:))
            return SignInAggregate(
                key: SignInAggregate.Key(
                    tenant: try row.decode(column: "tenant", as: String.self),
                    clientID: try row.decode(column: "client_id", as: String.self),
                    step: try row.decode(column: "step", as: String.self), result: parsed,
                    errorCode: try row.decode(column: "error_code", as: Int.self), minute: try row.decode(column: "minute", as: Int.self)),
                count: try row.decode(column: "count", as: Int.self),
                buckets: try Self.bucketColumns.map { try row.decode(column: $0, as: Int.self) },
                latencySumMicros: try row.decode(column: "latency_sum_us", as: Int.self),
                firstTime: try row.decode(column: "first_time", as: Date.self),
                lastTime: try row.decode(column: "last_time", as: Date.self),
                firstTraceID: try row.decode(column: "first_trace_id", as: String.self),
                lastTraceID: try row.decode(column: "last_trace_id", as: String.self))
        }
    }

    /// One bounded batch, like `purgeSignIns`: whole minutes, oldest first.
    public func purgeSignInAggregates(before cutoff: Date, limit: Int) async throws -> Int {
        let minute = Int((cutoff.timeIntervalSince1970 / 60).rounded(.down))
        return try await db.raw(
            """
            DELETE FROM sign_in_aggregates WHERE minute < \(bind: minute) AND minute <= COALESCE(
                (SELECT minute FROM sign_in_aggregates WHERE minute < \(bind: minute) ORDER BY minute LIMIT 1 OFFSET \(bind: max(0, limit - 1))),
                \(bind: minute))
            RETURNING count
            """
        ).all().count
    }
}
