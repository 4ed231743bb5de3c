import Foundation

/// The authenticated caller of a request: the current user record plus the token that proved it.
public struct Principal: Sendable, Equatable {
    public var user: User
    /// Key under which the presented access token is revoked (its `jti`, or a hash for tokens without one).
    public var tokenKey: String
    public var tokenExpiresAt: Date

    public init(user: User, tokenKey: String, tokenExpiresAt: Date) {
        self.user = user
        self.tokenKey = tokenKey
        self.tokenExpiresAt = tokenExpiresAt
    }

    public var id: UUID { self.user.id }
    public var role: Role { self.user.role }
}
