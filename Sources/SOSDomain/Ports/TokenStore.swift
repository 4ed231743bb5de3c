import Foundation

/// Storage of refresh tokens and of revoked access tokens; survives restarts.
public protocol TokenStore: Sendable {
    func insert(_ record: RefreshTokenRecord) async throws
    /// Atomically spends the live token with `tokenHash` and stores `replacement` in its family.
    /// `replacement` is built from the user id of the spent token.
    func rotate(
        tokenHash: String,
        now: Date,
        replacement: @Sendable (_ userId: UUID, _ familyId: UUID) async throws -> RefreshTokenRecord
    ) async throws -> RefreshRotation
    /// Revokes an access token until it would have expired anyway.
    func revokeAccessToken(key: String, userId: UUID, expiresAt: Date, now: Date) async throws
    /// Revokes every refresh token issued together with the access token `key`, with the rest of their families.
    func revokeFamilies(ofAccessToken key: String, now: Date) async throws
    /// Revokes the family of the refresh token with `tokenHash` when it belongs to `userId`.
    func revokeFamily(ofRefreshToken tokenHash: String, userId: UUID, now: Date) async throws
    /// Revokes every refresh token and live access token of a user (account blocked or deleted).
    func revokeAll(userId: UUID, now: Date) async throws
    /// Drops records that expired; keeps the tables small.
    func purgeExpired(now: Date) async throws
}
