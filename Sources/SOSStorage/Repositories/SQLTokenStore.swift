import Foundation
import SOSDomain
import SQLKit

/// `TokenStore` over SQLKit: refresh tokens (hashed) and revoked access-token keys.
public struct SQLTokenStore: TokenStore {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func insert(_ record: RefreshTokenRecord) async throws {
        try await self.database.write { sql in
            try await Self.insert(record, in: sql)
        }
    }

    public func rotate(
        tokenHash: String,
        now: Date,
        replacement: @escaping @Sendable (_ userId: UUID, _ familyId: UUID) async throws -> RefreshTokenRecord
    ) async throws -> RefreshRotation {
        try await self.database.transaction { sql in
            // step: spend the token only if it is live; the conditional update makes concurrent refreshes race safely
            if let spent = try await sql.raw("""
                UPDATE refresh_tokens SET revoked_at = \(bind: now)
                WHERE token_hash = \(bind: tokenHash) AND revoked_at IS NULL AND expires_at > \(bind: now)
                RETURNING user_id, family_id
                """).first() {
                let userId = try spent.value("user_id", as: UUID.self)
                let record = try await replacement(userId, try spent.value("family_id", as: UUID.self))
                try await Self.insert(record, in: sql)
                return .rotated(userId: userId)
            }
            guard let row = try await sql.raw("""
                SELECT user_id, family_id, revoked_at, revoked_reason FROM refresh_tokens WHERE token_hash = \(bind: tokenHash)
                """).first()
            else { return .unknown }
            let userId = try row.value("user_id", as: UUID.self)
            if try row.decodeNil(column: "revoked_at") {
                return .expired
            }
            if let raw: String = try row.optional("revoked_reason"), let reason = RevocationReason(rawValue: raw) {
                return .revoked(userId: userId, reason: reason)
            }
            try await Self.revokeFamily(try row.value("family_id", as: UUID.self), now: now, in: sql)
            return .reused(userId: userId)
        }
    }

    public func revokeAccessToken(key: String, userId: UUID, expiresAt: Date, now: Date) async throws {
        try await self.database.write { sql in
            try await sql.raw("""
                INSERT INTO revoked_tokens (token_key, user_id, expires_at, revoked_at)
                VALUES (\(bind: key), \(bind: userId), \(bind: expiresAt), \(bind: now))
                ON CONFLICT (token_key) DO NOTHING
                """).run()
        }
    }

    public func revokeFamilies(ofAccessToken key: String, now: Date) async throws {
        try await self.database.transaction { sql in
            let families = try await sql.raw("SELECT DISTINCT family_id FROM refresh_tokens WHERE access_token_key = \(bind: key)").all()
            for family in families {
                try await Self.revokeFamily(try family.value("family_id", as: UUID.self), now: now, in: sql)
            }
        }
    }

    public func revokeFamily(ofRefreshToken tokenHash: String, userId: UUID, now: Date) async throws {
        try await self.database.transaction { sql in
            guard let row = try await sql.raw("""
                SELECT family_id FROM refresh_tokens WHERE token_hash = \(bind: tokenHash) AND user_id = \(bind: userId)
                """).first()
            else { return }
            try await Self.revokeFamily(try row.value("family_id", as: UUID.self), now: now, in: sql)
        }
    }

    public func revokeAll(userId: UUID, now: Date, reason: RevocationReason) async throws {
        try await self.database.transaction { sql in
            try await sql.raw("""
                INSERT INTO revoked_tokens (token_key, user_id, expires_at, revoked_at, reason)
                SELECT DISTINCT access_token_key, user_id, access_expires_at, \(bind: now), \(bind: reason.rawValue) FROM refresh_tokens
                WHERE user_id = \(bind: userId) AND access_expires_at > \(bind: now)
                ON CONFLICT (token_key) DO NOTHING
                """).run()
            try await sql.raw("""
                UPDATE refresh_tokens SET revoked_at = \(bind: now), revoked_reason = \(bind: reason.rawValue)
                WHERE user_id = \(bind: userId) AND revoked_at IS NULL
                """).run()
        }
    }

    public func purgeExpired(now: Date) async throws {
        try await self.database.write { sql in
            try await sql.raw("DELETE FROM revoked_tokens WHERE expires_at < \(bind: now)").run()
            try await sql.raw("DELETE FROM refresh_tokens WHERE expires_at < \(bind: now)").run()
        }
    }

    static func insert(_ record: RefreshTokenRecord, in sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, access_token_key, access_expires_at, expires_at, created_at)
            VALUES (\(bind: record.id), \(bind: record.userId), \(bind: record.familyId), \(bind: record.tokenHash),
                \(bind: record.accessTokenKey), \(bind: record.accessExpiresAt), \(bind: record.expiresAt), \(bind: record.createdAt))
            """).run()
    }

    /// Revokes every refresh token of a family and every access token issued with them that is still live.
    static func revokeFamily(_ familyId: UUID, now: Date, in sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO revoked_tokens (token_key, user_id, expires_at, revoked_at)
            SELECT DISTINCT access_token_key, user_id, access_expires_at, \(bind: now) FROM refresh_tokens
            WHERE family_id = \(bind: familyId) AND access_expires_at > \(bind: now)
            ON CONFLICT (token_key) DO NOTHING
            """).run()
        try await sql.raw("""
            UPDATE refresh_tokens SET revoked_at = \(bind: now) WHERE family_id = \(bind: familyId) AND revoked_at IS NULL
            """).run()
    }
}
