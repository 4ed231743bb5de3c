import Foundation

/// Storage of user accounts. Implementations throw `DomainError.conflict` on a duplicate email.
public protocol UserRepository: Sendable {
    func create(_ user: User, passwordHash: String?) async throws
    func find(id: UUID) async throws -> User?
    func find(email: String) async throws -> User?
    /// The account with this phone number: the one that verified it, else the oldest.
    func find(phone: String) async throws -> User?
    /// Remembers the language a user reads (`en`, `fr`, `es`) for outside messages.
    func setLanguage(userId: UUID, language: String) async throws
    func languages(ids: [UUID]) async throws -> [UUID: String]
    /// The user and its password hash, for sign-in.
    func credentials(email: String) async throws -> (user: User, passwordHash: String?)?
    /// The user behind a token and whether that token was revoked, in one round trip.
    func authSnapshot(id: UUID, tokenKey: String) async throws -> (user: User?, revoked: RevocationReason?)
    /// Saves every field of `user`, its associated doctors included, if the stored version is still `user.version`
    /// (else throws `DomainError.stale`); returns the user as stored, with its new version.
    @discardableResult
    func update(_ user: User) async throws -> User
    /// Sets the bcrypt hash; nil removes the password (the account then signs in by code or social account only).
    func setPasswordHash(userId: UUID, hash: String?) async throws
    /// Returns false when there was no such user.
    func delete(id: UUID) async throws -> Bool
    func list(_ query: UserQuery) async throws -> Page<User>
    func count(role: Role) async throws -> Int
    /// Which of `ids` are users with `role`.
    func existing(ids: [UUID], role: Role) async throws -> Set<UUID>
    /// Secretaries who work for a doctor.
    func secretaryIds(forDoctor doctorId: UUID) async throws -> [UUID]
    func find(ids: [UUID]) async throws -> [UUID: User]
}
