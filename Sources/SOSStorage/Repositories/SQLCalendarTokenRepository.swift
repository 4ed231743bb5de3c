import Foundation
import SOSDomain
import SQLKit

/// `CalendarTokenRepository` over SQLKit.
public struct SQLCalendarTokenRepository: CalendarTokenRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func token(userId: UUID) async throws -> String? {
        try await self.database.read { sql in
            try await sql.raw("SELECT token FROM calendar_tokens WHERE user_id = \(bind: userId)").first()?.value("token", as: String.self)
        }
    }

    public func save(token: String, userId: UUID, at: Date) async throws {
        try await self.database.write { sql in
            try await sql.raw("""
                INSERT INTO calendar_tokens (user_id, token, created_at) VALUES (\(bind: userId), \(bind: token), \(bind: at))
                ON CONFLICT (user_id) DO UPDATE SET token = excluded.token, created_at = excluded.created_at
                """).run()
        }
    }

    public func user(forToken token: String) async throws -> UUID? {
        try await self.database.read { sql in
            try await sql.raw("SELECT user_id FROM calendar_tokens WHERE token = \(bind: token)").first()?.value("user_id", as: UUID.self)
        }
    }
}
