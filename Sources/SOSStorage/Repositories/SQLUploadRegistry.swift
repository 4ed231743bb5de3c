import Foundation
import SOSDomain
import SQLKit

/// `UploadRegistry` over SQLKit (table `stored_files`).
public struct SQLUploadRegistry: UploadRegistry {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func record(area: String, key: String, owner: UUID, size: Int, at: Date) async throws {
        try await self.database.write { sql in
            try await sql.raw("""
                INSERT INTO stored_files (area, storage_key, owner_id, size, created_at)
                VALUES (\(bind: area), \(bind: key), \(bind: owner), \(bind: size), \(bind: at))
                """).run()
        }
    }

    public func usage(owner: UUID) async throws -> Int {
        try await self.database.read { sql in
            try await sql.raw("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS used FROM stored_files WHERE owner_id = \(bind: owner)").first()?
                .value("used", as: Int.self) ?? 0
        }
    }

    public func owner(area: String, key: String) async throws -> UUID? {
        try await self.database.read { sql in
            try await sql.raw("SELECT owner_id FROM stored_files WHERE area = \(bind: area) AND storage_key = \(bind: key)").first()?
                .value("owner_id", as: UUID.self)
        }
    }

    public func remove(area: String, key: String) async throws {
        try await self.database.write { sql in
            try await sql.raw("DELETE FROM stored_files WHERE area = \(bind: area) AND storage_key = \(bind: key)").run()
        }
    }
}
