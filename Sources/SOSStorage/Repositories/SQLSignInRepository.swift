import Foundation
import SOSDomain
import SQLKit

/// One-time codes, pending OAuth authorizations and social account links over SQLKit.
public struct SQLSignInRepository: OTPRepository, SocialAccountRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    // MARK: - One-time codes

    public func replace(_ record: OTPRecord, message: OutboxMessage) async throws {
        try await self.database.transaction { sql in
            // step: one statement, so two sends racing for one destination both succeed (the later code wins)
            try await sql.raw("""
                INSERT INTO otp_codes (channel, destination, code_hash, attempts, expires_at, created_at)
                VALUES (\(bind: record.channel.rawValue), \(bind: record.destination), \(bind: record.codeHash), \(bind: record.attempts),
                    \(bind: record.expiresAt), \(bind: record.createdAt))
                ON CONFLICT (channel, destination) DO UPDATE SET code_hash = excluded.code_hash, attempts = excluded.attempts,
                    expires_at = excluded.expires_at, created_at = excluded.created_at
                """).run()
            try await SQLNotificationRepository.insert(message, in: sql)
        }
    }

    public func find(channel: OTPChannel, destination: String) async throws -> OTPRecord? {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT code_hash, attempts, expires_at, created_at FROM otp_codes
                WHERE channel = \(bind: channel.rawValue) AND destination = \(bind: destination)
                """).first().map { row in
                OTPRecord(channel: channel, destination: destination, codeHash: try row.value("code_hash"), attempts: try row.value("attempts"),
                          expiresAt: try row.value("expires_at"), createdAt: try row.value("created_at"))
            }
        }
    }

    public func reserveTry(channel: OTPChannel, destination: String, maxTries: Int) async throws -> Int? {
        try await self.database.transaction { sql in
            if let row = try await sql.raw("""
                UPDATE otp_codes SET attempts = attempts + 1
                WHERE channel = \(bind: channel.rawValue) AND destination = \(bind: destination) AND attempts < \(bind: maxTries)
                RETURNING attempts
                """).first() {
                return try row.value("attempts", as: Int.self)
            }
            try await sql.raw("DELETE FROM otp_codes WHERE channel = \(bind: channel.rawValue) AND destination = \(bind: destination)").run()
            return nil
        }
    }

    public func consume(channel: OTPChannel, destination: String, codeHash: String) async throws -> Bool {
        try await self.database.write { sql in
            try await sql.raw("""
                DELETE FROM otp_codes WHERE channel = \(bind: channel.rawValue) AND destination = \(bind: destination) AND code_hash = \(bind: codeHash)
                RETURNING destination
                """).first() != nil
        }
    }

    // MARK: - OAuth

    public func savePending(_ pending: OAuthPending) async throws {
        try await self.database.write { sql in
            try await sql.raw("DELETE FROM oauth_pending WHERE expires_at < \(bind: Date().addingTimeInterval(-3600))").run()
            try await sql.raw("""
                INSERT INTO oauth_pending (id, provider, code_verifier, expires_at, client_binding)
                VALUES (\(bind: pending.id), \(bind: pending.provider.rawValue), \(bind: pending.codeVerifier), \(bind: pending.expiresAt),
                    \(bind: pending.clientBinding))
                """).run()
        }
    }

    public func takePending(id: String) async throws -> OAuthPending? {
        try await self.database.write { sql in
            try await sql.raw("""
                DELETE FROM oauth_pending WHERE id = \(bind: id) RETURNING provider, code_verifier, expires_at, client_binding
                """).first().flatMap { row in
                guard let provider = SocialProvider(rawValue: try row.value("provider")) else { return nil }
                return OAuthPending(id: id, provider: provider, codeVerifier: try row.optional("code_verifier"), expiresAt: try row.value("expires_at"),
                                    clientBinding: try row.optional("client_binding"))
            }
        }
    }

    public func userId(provider: SocialProvider, subject: String) async throws -> UUID? {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT user_id FROM social_accounts WHERE provider = \(bind: provider.rawValue) AND subject = \(bind: subject)
                """).first()?.value("user_id", as: UUID.self)
        }
    }

    public func link(provider: SocialProvider, subject: String, userId: UUID, email: String?, at: Date) async throws {
        try await self.database.write { sql in
            try await sql.raw("""
                INSERT INTO social_accounts (provider, subject, user_id, email, created_at)
                VALUES (\(bind: provider.rawValue), \(bind: subject), \(bind: userId), \(bind: email), \(bind: at))
                ON CONFLICT (provider, subject) DO NOTHING
                """).run()
        }
    }

    public func unlinkAll(userId: UUID) async throws {
        try await self.database.write { sql in
            try await sql.raw("DELETE FROM social_accounts WHERE user_id = \(bind: userId)").run()
        }
    }
}
