import Foundation

/// What happens when someone proves they own an email address that an existing account lists without having
/// verified it. Registration does not verify addresses, so that account may have been set up by anyone who typed
/// the address — possibly to wait for its owner ("pre-hijacking"). The owner gets the account, and every way in
/// that the earlier party could have set up — the password, linked social accounts, open sessions — is removed,
/// so they cannot come back. The owner signs in from then on with email codes (or the social account that proved
/// the address).
///
/// Phone numbers are not claimed this way: they are recycled and mistyped, and a number is not how password
/// accounts sign in, so proving a number only reaches an account that had already verified it (`OTPService`).
public struct AccountClaims: Sendable {
    let users: any UserRepository
    let tokens: any TokenStore
    let accounts: any SocialAccountRepository

    public init(users: any UserRepository, tokens: any TokenStore, accounts: any SocialAccountRepository) {
        self.users = users
        self.tokens = tokens
        self.accounts = accounts
    }

    /// `user`'s email has just been proven by its owner: marks it verified and, when it was not, removes the
    /// other credentials. Refuses blocked accounts before changing anything.
    func claimEmail(_ user: User, now: Date) async throws -> User {
        guard user.status != .blocked else {
            throw DomainError.forbidden("This account is blocked. Contact the clinic to have it unblocked.")
        }
        guard !user.isEmailVerified else { return user }
        var claimed = user
        claimed.isEmailVerified = true
        claimed.updatedAt = now
        try await self.users.update(claimed)
        try await self.users.setPasswordHash(userId: user.id, hash: nil)
        try await self.accounts.unlinkAll(userId: user.id)
        try await self.tokens.revokeAll(userId: user.id, now: now, reason: .emailClaimed)
        return claimed
    }
}
