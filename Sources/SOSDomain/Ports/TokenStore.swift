import Foundation

/// Why a session ended before its time; its `message` is what the user is told (REST `details`, WebSocket close reason).
public enum RevocationReason: String, Sendable, CaseIterable {
    case signedOut = "signed_out"
    case blocked
    case roleChanged = "role_changed"
    case accessChanged = "access_changed"
    case emailClaimed = "email_claimed"
    case deleted

    public var message: String {
        switch self {
        case .signedOut: "This token was revoked (signed out). Sign in again."
        case .blocked: "This account is blocked. Contact the clinic to have it unblocked."
        case .roleChanged: "Your role changed; sign in again to continue with your new access."
        case .accessChanged: "Your access changed (the doctors you work for); sign in again."
        case .emailClaimed: "The owner of this account's email proved it and signed in; earlier sessions ended. Sign in again."
        case .deleted: "This account was deleted."
        }
    }

    /// The message for a session that ended for this reason, told to `user` as he is now: a session ended by a
    /// block that has since been lifted just needs a new sign-in.
    public func message(for user: User?) -> String {
        if self == .blocked, let user, user.status != .blocked { return "This session ended when the account was blocked. Sign in again." }
        return self.message
    }

    /// The WebSocket close reason (at most 123 bytes).
    public var closeReason: String {
        switch self {
        case .signedOut: "Session revoked"
        case .blocked: "Account blocked"
        case .roleChanged: "Role changed; sign in again"
        case .accessChanged: "Access changed; sign in again"
        case .emailClaimed: "Session revoked: email claimed"
        case .deleted: "Account deleted"
        }
    }
}

/// Storage of refresh tokens and of revoked access tokens; survives restarts.
public protocol TokenStore: Sendable {
    func insert(_ record: RefreshTokenRecord) async throws
    /// Atomically spends the live token with `tokenHash` and stores `replacement` in its family.
    /// `replacement` is built from the user id of the spent token.
    func rotate(
        tokenHash: String,
        now: Date,
        replacement: @escaping @Sendable (_ userId: UUID, _ familyId: UUID) async throws -> RefreshTokenRecord
    ) async throws -> RefreshRotation
    /// Revokes an access token until it would have expired anyway.
    func revokeAccessToken(key: String, userId: UUID, expiresAt: Date, now: Date) async throws
    /// Revokes every refresh token issued together with the access token `key`, with the rest of their families.
    func revokeFamilies(ofAccessToken key: String, now: Date) async throws
    /// Revokes the family of the refresh token with `tokenHash` when it belongs to `userId`.
    func revokeFamily(ofRefreshToken tokenHash: String, userId: UUID, now: Date) async throws
    /// Revokes every refresh token and live access token of a user, remembering why.
    func revokeAll(userId: UUID, now: Date, reason: RevocationReason) async throws
    /// Drops records that expired; keeps the tables small.
    func purgeExpired(now: Date) async throws
}
