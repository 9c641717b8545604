import Foundation
import GatehouseCore
import GatehouseStore
import Testing

/// Security finding 4: the database holds the signing keys and the secret-hashing key, so it is
/// created for its owner only, and a more open existing file is reported.
@Suite struct FilePermissionTests {
    func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func finding04_newDataFolderAndDatabaseFilesAreOwnerOnly() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-perm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("data/gatehouse.sqlite").path
        let database = try await SQLiteDatabase.open(path: file)
        try await database.store.createTenant(try sampleTenant())  // a write, so the WAL and SHM files exist
        #expect(try mode(root.appendingPathComponent("data").path) == 0o700)
        for path in [file, file + "-wal", file + "-shm"] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path)")
            #expect(try mode(path) == 0o600, "\(path)")
        }
        #expect(SQLiteDatabase.permissionWarnings(file).isEmpty)
        try await database.close()
    }

    @Test func finding04_existingOpenFilesAreReported() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-perm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let file = root.appendingPathComponent("gatehouse.sqlite").path
        #expect(FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o644]))
        let warnings = SQLiteDatabase.permissionWarnings(file)
        #expect(warnings.count == 2, "\(warnings)")
        #expect(warnings.contains { $0.contains("'\(file)' is mode 644") && $0.contains("chmod 600") })
        #expect(warnings.contains { $0.contains("'\(root.path)' is mode 755") && $0.contains("chmod 700") })
    }
}
