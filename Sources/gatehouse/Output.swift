import ArgumentParser
import Foundation
import GatehouseCore

// How every command prints: a table with a header, or a few lines of text, by default; JSON with
// `--json` (a `GlobalOptions` flag, so that every command takes it). The object a command acts on
// is named by a positional argument (`clients show --tenant T ID`), everything else by options.

/// Prints `object` as JSON with `--json`, else `text`.
func report(_ global: GlobalOptions, _ object: [String: Any], _ text: @autoclosure () -> String) throws {
    if global.json { try printJSON(object) } else { print(text()) }
}

/// Prints rows under a header, each column as wide as its widest cell (the last one unpadded);
/// `empty` stands in for no rows.
func printTable(_ header: [String], _ rows: [[String]], empty: String) {
    guard !rows.isEmpty else {
        print(empty)
        return
    }
    var widths = header.map(\.count)
    for row in rows {
        for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], max(cell.count, 1)) }
    }
    for row in [header] + rows.map({ $0.map { $0.isEmpty ? "-" : $0 } }) {
        let cells = row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }
        print(cells.joined(separator: "  "))
    }
}

/// An instant as the CLI prints it.
func printedTime(_ date: Date?) -> String {
    guard let date else { return "-" }
    return ISO8601DateFormatter().string(from: date)
}

/// A positional identifier, or the older option form of it (kept so that scripts written for it
/// go on working; the help shows the positional form only).
func positional(_ value: String?, legacy: String?, _ what: String, usage: String) throws -> String {
    if let value, let legacy, value != legacy { throw CLIError("two different \(what)s given: '\(value)' and '\(legacy)'") }
    guard let chosen = value ?? legacy else { throw CLIError("name the \(what): \(usage)") }
    return chosen
}
