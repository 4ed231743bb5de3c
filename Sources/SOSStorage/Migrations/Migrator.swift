import Foundation
import Logging
import SQLKit

/// Applies pending migrations in order, each in its own transaction, and records them in `schema_migrations`.
///
/// A failing migration rolls back completely, leaving the schema at the previous version. On PostgreSQL an
/// advisory lock makes concurrent starts of several nodes apply each migration once.
public struct Migrator: Sendable {
    let database: Database
    let migrations: [Migration]
    let logger: Logger

    public init(database: Database, migrations: [Migration] = Migration.all, logger: Logger) {
        self.database = database
        self.migrations = migrations
        self.logger = logger
    }

    /// Returns the versions applied by this call.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await self.database.write { sql in
            try await sql.raw(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            ).run()
        }
        let known = Set(self.migrations.map(\.version))
        let applied = try await self.appliedVersions()
        if let newer = applied.first(where: { !known.contains($0) && $0 > (known.max() ?? 0) }) {
            throw DatabaseSetupError(
                "The database is at schema version \(newer), newer than this server knows (\(known.max() ?? 0)). Run a newer server; migrations are forward-only."
            )
        }
        var done: [Int] = []
        for migration in self.migrations.sorted(by: { $0.version < $1.version }) where !applied.contains(migration.version) {
            // a migration may wait for another node's and build indexes on big tables: no statement timeout here
            let ran = try await self.database.transaction(unbounded: true) { [kind = self.database.kind] sql in
                if kind == .postgres {
                    // one lock per schema: nodes sharing a schema take turns; separate schemas (tests) do not wait
                    try await sql.raw("SELECT pg_advisory_xact_lock(727274201, hashtext(current_schema()))").run()
                }
                let already = try await sql.raw("SELECT version FROM schema_migrations WHERE version = \(bind: migration.version)").first()
                guard already == nil else { return false }
                for statement in migration.sql(for: kind) {
                    try await sql.raw(SQLQueryString(statement)).run()
                }
                let now = ISO8601DateFormatter().string(from: Date())
                try await sql.raw(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: now))"
                ).run()
                return true
            }
            if ran {
                self.logger.info("Applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                done.append(migration.version)
            }
        }
        return done
    }

    /// Versions recorded in `schema_migrations`, ascending.
    public func appliedVersions() async throws -> [Int] {
        try await self.database.read { sql in
            try await sql.raw("SELECT version FROM schema_migrations ORDER BY version").all().map {
                try $0.decode(column: "version", as: Int.self)
            }
        }
    }
}
