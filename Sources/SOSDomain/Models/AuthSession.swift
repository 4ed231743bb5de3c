import Foundation

/// What a successful sign-in hands to the client.
public struct AuthSession: Sendable {
    public var user: User
    public var accessToken: String
    public var refreshToken: String

    public init(user: User, accessToken: String, refreshToken: String) {
        self.user = user
        self.accessToken = accessToken
        self.refreshToken = refreshToken
    }
}

/// A refresh token as stored: only its hash, its rotation family and the access token issued with it.
public struct RefreshTokenRecord: Sendable, Equatable {
    public var id: UUID
    public var userId: UUID
    /// All tokens rotated from one sign-in share a family; reuse of a rotated token revokes the family.
    public var familyId: UUID
    public var tokenHash: String
    public var accessTokenKey: String
    public var accessExpiresAt: Date
    public var expiresAt: Date
    public var createdAt: Date

    public init(id: UUID = UUID(), userId: UUID, familyId: UUID, tokenHash: String, accessTokenKey: String, accessExpiresAt: Date, expiresAt: Date, createdAt: Date) {
        self.id = id
        self.userId = userId
        self.familyId = familyId
        self.tokenHash = tokenHash
        self.accessTokenKey = accessTokenKey
        self.accessExpiresAt = accessExpiresAt
        self.expiresAt = expiresAt
        self.createdAt = createdAt
    }
}

/// The outcome of presenting a refresh token for rotation.
public enum RefreshRotation: Sendable, Equatable {
    /// The token was live; it is now spent and `record` replaces it.
    case rotated(userId: UUID)
    /// No such token.
    case unknown
    /// The token expired.
    case expired
    /// The token was already spent: a sign of theft; its family is now revoked.
    case reused(userId: UUID)
    /// The token was revoked on purpose (the account was blocked, its role changed…), not spent.
    case revoked(userId: UUID, reason: RevocationReason)
}
