import Foundation

/// Failures by catalogue code over time, for the console's chart and its table: the period is
/// cut into equal buckets, and each bucket counts the failures of each code. Expected device
/// polls (`authorization_pending`, `slow_down`) are not failures of anyone and are left out.
public struct FailureChart: Sendable, Equatable {
    /// The periods the console offers.
    public enum Period: String, Sendable, CaseIterable {
        case hour, day, week

        /// The length of the period and of one bucket.
        public var span: (total: TimeInterval, bucket: TimeInterval) {
            switch self {
            case .hour: (3_600, 300)
            case .day: (86_400, 3_600)
            case .week: (7 * 86_400, 6 * 3_600)
            }
        }
    }

    public struct Bucket: Sendable, Equatable {
        public let start: Date
        /// Failures per code in this bucket (codes absent count 0).
        public let counts: [Int: Int]
        public var total: Int { counts.values.reduce(0, +) }
    }

    public let period: Period
    public let buckets: [Bucket]
    /// The codes that occur, most frequent first (ties by number).
    public let codes: [Int]
    /// Failures per code over the whole period.
    public let totals: [Int: Int]

    public var total: Int { totals.values.reduce(0, +) }
    public var largestBucket: Int { buckets.map(\.total).max() ?? 0 }

    /// Counts `events` (failures kept whole) in the `period` ending at `end`. Buckets are aligned
    /// to whole multiples of their length, so two charts drawn a minute apart agree on the bars
    /// they share.
    public init(events: [SignInEvent], period: Period, end: Date) {
        let (total, length) = period.span
        let count = Int(total / length)
        let lastStart = (end.timeIntervalSince1970 / length).rounded(.down) * length
        let firstStart = lastStart - Double(count - 1) * length
        var counts = Array(repeating: [Int: Int](), count: count)
        var totals: [Int: Int] = [:]
        for event in events where event.result == .failure {
            guard let code = event.errorCode, !SignInAggregator.aggregatedPollCodes.contains(code) else { continue }
            let index = Int(((event.time.timeIntervalSince1970 - firstStart) / length).rounded(.down))
            guard index >= 0, index < count else { continue }
            counts[index][code, default: 0] += 1
            totals[code, default: 0] += 1
        }
        self.period = period
        self.buckets = counts.enumerated().map { index, counts in
            Bucket(start: Date(timeIntervalSince1970: firstStart + Double(index) * length), counts: counts)
        }
        self.totals = totals
        self.codes = totals.keys.sorted { (totals[$0] ?? 0, -$0) > (totals[$1] ?? 0, -$1) }
    }

    /// When the first bucket starts: the query's `since`.
    public var start: Date { buckets.first?.start ?? Date(timeIntervalSince1970: 0) }
}
