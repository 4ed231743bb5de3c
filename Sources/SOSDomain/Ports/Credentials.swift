import Foundation

/// Hashes and checks passwords (bcrypt at the edge), away from the event loops.
public protocol PasswordHasher: Sendable {
    func hash(_ password: String) async throws -> String
    func verify(_ password: String, hash: String) async throws -> Bool
    /// Spends the time one verification takes, so an unknown account answers as slowly as a known one.
    func burnVerification(_ password: String) async
}

/// What a verified access token says.
public struct VerifiedToken: Sendable, Equatable {
    public var userId: UUID
    /// Revocation key: the `jti`, or a hash of the token when it has none (Supabase tokens may not).
    public var key: String
    public var expiresAt: Date

    public init(userId: UUID, key: String, expiresAt: Date) {
        self.userId = userId
        self.key = key
        self.expiresAt = expiresAt
    }
}

/// Signs and verifies access tokens (HS256 JWT at the edge).
public protocol AccessTokenCodec: Sendable {
    /// Issues a token for `user` with the given id and lifetime.
    func issue(for user: User, key: String, issuedAt: Date, expiresAt: Date) async throws -> String
    /// Verifies signature, algorithm and expiry; throws `DomainError.unauthorized` when the token is not good.
    func verify(_ token: String) async throws -> VerifiedToken
}

/// Random secrets and their digests (CSPRNG and SHA-256 at the edge).
public protocol SecretSource: Sendable {
    /// A new unguessable token (at least 256 bits), URL-safe.
    func randomToken() -> String
    /// A one-way digest of a token, as stored in the database.
    func digest(_ token: String) -> String
}
