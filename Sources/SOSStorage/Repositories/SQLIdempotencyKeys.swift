import Foundation
import SOSDomain
import SQLKit

/// The `idempotency_keys` table: written inside the transaction that creates the resource, read before a retry.
public enum SQLIdempotencyKeys {
    /// Records `key` as having created `resourceId`. A concurrent request with the same key makes this throw a unique
    /// violation, which rolls the whole transaction back (see `isTaken`).
    static func record(_ key: IdempotencyKey, resourceId: UUID, at now: Date, in sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO idempotency_keys (owner_id, idempotency_key, endpoint, fingerprint, resource_id, created_at)
            VALUES (\(bind: key.owner), \(bind: key.key), \(bind: key.endpoint), \(bind: key.fingerprint), \(bind: resourceId), \(bind: now))
            """).run()
    }

    static func exists(_ key: IdempotencyKey, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.raw("""
            SELECT 1 AS found FROM idempotency_keys WHERE owner_id = \(bind: key.owner) AND idempotency_key = \(bind: key.key)
            """).first() != nil
    }

    static func find(owner: UUID, key: String, database: Database) async throws -> IdempotencyRecord? {
        try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT endpoint, fingerprint, resource_id FROM idempotency_keys
                WHERE owner_id = \(bind: owner) AND idempotency_key = \(bind: key)
                """).first() else { return nil }
            return IdempotencyRecord(
                endpoint: try row.value("endpoint"), fingerprint: try row.value("fingerprint"),
                resourceId: try row.value("resource_id")
            )
        }
    }

    /// Deletes keys recorded before `cutoff`; returns how many.
    public static func purge(before cutoff: Date, database: Database) async throws -> Int {
        try await database.write { sql in
            try await sql.raw("DELETE FROM idempotency_keys WHERE created_at < \(bind: cutoff) RETURNING owner_id").all().count
        }
    }
}
