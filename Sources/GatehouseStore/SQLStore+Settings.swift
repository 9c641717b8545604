import Foundation
import GatehouseCore
import SQLKit

/// Server settings (sealed at rest).
extension SQLStore {
    public func setting(_ key: String) async throws -> String? {
        guard let row = try await db.raw("SELECT value FROM settings WHERE setting_key = \(bind: key)").first() else { return nil }
        return try opened(try row.decode(column: "value", as: String.self), Self.settingContext(key))
    }

    public func setting(_ key: String, insertingIfAbsent proposed: String) async throws -> String {
        let stored = try sealed(proposed, Self.settingContext(key))
        try await db.raw("INSERT INTO settings (setting_key, value) VALUES (\(bind: key), \(bind: stored)) ON CONFLICT DO NOTHING").run()
        guard let row = try await db.raw("SELECT value FROM settings WHERE setting_key = \(bind: key)").first() else { return proposed }
        return try opened(try row.decode(column: "value", as: String.self), Self.settingContext(key))
    }
}
