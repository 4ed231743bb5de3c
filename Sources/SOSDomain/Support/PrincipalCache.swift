import Foundation

/// Callers authenticated in the last `ttl` seconds, by bearer token: a burst of requests with one token costs
/// one signature check and one database read instead of one per request (measured hot path, see
/// Benchmarks/README.md).
///
/// Logout, blocking, role changes and deletion invalidate entries on this node at once; other nodes see such a
/// change within `ttl`. A `ttl` of 0 disables the cache.
public final class PrincipalCache: @unchecked Sendable {
    // @unchecked: every stored property below is read and written only while holding `lock`.
    private let lock = NSLock()
    private var entries: [String: (principal: Principal, storedAt: Date)] = [:]
    private var tokensByUser: [UUID: Set<String>] = [:]
    private var tokenByKey: [String: String] = [:]
    let ttl: TimeInterval
    let capacity: Int

    public init(ttl: TimeInterval, capacity: Int = 50_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    /// The cached caller for `token`, if fresh and the token has not expired.
    public func principal(for token: String, now: Date) -> Principal? {
        guard self.ttl > 0 else { return nil }
        self.lock.lock()
        defer { self.lock.unlock() }
        guard let entry = self.entries[token] else { return nil }
        guard now.timeIntervalSince(entry.storedAt) < self.ttl, entry.principal.tokenExpiresAt > now else {
            self.remove(token)
            return nil
        }
        return entry.principal
    }

    public func store(_ principal: Principal, for token: String, now: Date) {
        guard self.ttl > 0 else { return }
        self.lock.lock()
        defer { self.lock.unlock() }
        if self.entries.count >= self.capacity {
            // step: drop everything stale; if the cache is still full, start afresh rather than grow
            for (token, entry) in self.entries where now.timeIntervalSince(entry.storedAt) >= self.ttl { self.remove(token) }
            if self.entries.count >= self.capacity {
                self.entries.removeAll()
                self.tokensByUser.removeAll()
                self.tokenByKey.removeAll()
            }
        }
        self.entries[token] = (principal, now)
        self.tokensByUser[principal.id, default: []].insert(token)
        self.tokenByKey[principal.tokenKey] = token
    }

    /// Forgets every token of a user (blocked, deleted, role or profile changed, sessions revoked).
    public func invalidate(user: UUID) {
        self.lock.lock()
        defer { self.lock.unlock() }
        for token in self.tokensByUser[user] ?? [] { self.remove(token) }
        self.tokensByUser[user] = nil
    }

    /// Forgets one token by its revocation key (logout).
    public func invalidate(tokenKey: String) {
        self.lock.lock()
        defer { self.lock.unlock() }
        if let token = self.tokenByKey[tokenKey] { self.remove(token) }
    }

    private func remove(_ token: String) {
        guard let entry = self.entries.removeValue(forKey: token) else { return }
        self.tokenByKey[entry.principal.tokenKey] = nil
        self.tokensByUser[entry.principal.id]?.remove(token)
    }
}

/// A `UserRepository` that forgets cached callers whenever a user record is written, so role, status and
/// profile changes apply to the next request on this node; a deleted user's open sessions are revoked
/// (`session.revoked`, which the hub turns into closed sockets on every node).
public struct CacheInvalidatingUserRepository: UserRepository {
    let base: any UserRepository
    let cache: PrincipalCache
    let events: any EventPublisher

    public init(_ base: any UserRepository, cache: PrincipalCache, events: any EventPublisher = NoEventPublisher()) {
        self.base = base
        self.cache = cache
        self.events = events
    }

    public func create(_ user: User, passwordHash: String?) async throws { try await self.base.create(user, passwordHash: passwordHash) }
    public func find(id: UUID) async throws -> User? { try await self.base.find(id: id) }
    public func find(email: String) async throws -> User? { try await self.base.find(email: email) }
    public func find(phone: String) async throws -> User? { try await self.base.find(phone: phone) }
    public func setLanguage(userId: UUID, language: String) async throws { try await self.base.setLanguage(userId: userId, language: language) }
    public func languages(ids: [UUID]) async throws -> [UUID: String] { try await self.base.languages(ids: ids) }
    public func credentials(email: String) async throws -> (user: User, passwordHash: String?)? { try await self.base.credentials(email: email) }
    public func authSnapshot(id: UUID, tokenKey: String) async throws -> (user: User?, revoked: RevocationReason?) {
        try await self.base.authSnapshot(id: id, tokenKey: tokenKey)
    }
    public func list(_ query: UserQuery) async throws -> Page<User> { try await self.base.list(query) }
    public func count(role: Role) async throws -> Int { try await self.base.count(role: role) }
    public func existing(ids: [UUID], role: Role) async throws -> Set<UUID> { try await self.base.existing(ids: ids, role: role) }
    public func secretaryIds(forDoctor doctorId: UUID) async throws -> [UUID] { try await self.base.secretaryIds(forDoctor: doctorId) }
    public func find(ids: [UUID]) async throws -> [UUID: User] { try await self.base.find(ids: ids) }

    @discardableResult
    public func update(_ user: User) async throws -> User {
        let stored = try await self.base.update(user)
        self.cache.invalidate(user: user.id)
        return stored
    }

    public func setPasswordHash(userId: UUID, hash: String?) async throws {
        try await self.base.setPasswordHash(userId: userId, hash: hash)
        self.cache.invalidate(user: userId)
    }

    public func delete(id: UUID) async throws -> Bool {
        let deleted = try await self.base.delete(id: id)
        self.cache.invalidate(user: id)
        if deleted { await self.events.publish(.revoked(user: id, tokenKey: nil, reason: .deleted)) }
        return deleted
    }
}

/// A `TokenStore` that forgets cached callers whenever tokens are revoked, and announces the revocation
/// (`session.revoked`) so open WebSocket sessions holding those tokens close.
public struct CacheInvalidatingTokenStore: TokenStore {
    let base: any TokenStore
    let cache: PrincipalCache
    let events: any EventPublisher

    public init(_ base: any TokenStore, cache: PrincipalCache, events: any EventPublisher = NoEventPublisher()) {
        self.base = base
        self.cache = cache
        self.events = events
    }

    public func insert(_ record: RefreshTokenRecord) async throws { try await self.base.insert(record) }

    public func rotate(
        tokenHash: String, now: Date, replacement: @escaping @Sendable (_ userId: UUID, _ familyId: UUID) async throws -> RefreshTokenRecord
    ) async throws -> RefreshRotation {
        let outcome = try await self.base.rotate(tokenHash: tokenHash, now: now, replacement: replacement)
        if case .reused(let userId) = outcome {
            self.cache.invalidate(user: userId)
            await self.events.publish(.revoked(user: userId, tokenKey: nil, reason: .signedOut))
        }
        return outcome
    }

    public func revokeAccessToken(key: String, userId: UUID, expiresAt: Date, now: Date) async throws {
        try await self.base.revokeAccessToken(key: key, userId: userId, expiresAt: expiresAt, now: now)
        self.cache.invalidate(tokenKey: key)
        await self.events.publish(.revoked(user: userId, tokenKey: key, reason: .signedOut))
    }

    public func revokeFamilies(ofAccessToken key: String, now: Date) async throws {
        try await self.base.revokeFamilies(ofAccessToken: key, now: now)
        self.cache.invalidate(tokenKey: key)
    }

    public func revokeFamily(ofRefreshToken tokenHash: String, userId: UUID, now: Date) async throws {
        try await self.base.revokeFamily(ofRefreshToken: tokenHash, userId: userId, now: now)
        self.cache.invalidate(user: userId)
    }

    public func revokeAll(userId: UUID, now: Date, reason: RevocationReason) async throws {
        try await self.base.revokeAll(userId: userId, now: now, reason: reason)
        self.cache.invalidate(user: userId)
        await self.events.publish(.revoked(user: userId, tokenKey: nil, reason: reason))
    }

    public func purgeExpired(now: Date) async throws { try await self.base.purgeExpired(now: now) }
}

extension DomainEvent {
    /// Sessions to close: every one of `user`'s, or only the one holding `tokenKey`.
    public static func revoked(user: UUID, tokenKey: String?, reason: RevocationReason) -> DomainEvent {
        DomainEvent(type: "session.revoked", userIds: [user], includeAdmins: false, subject: .sessionRevoked(userId: user, tokenKey: tokenKey, reason: reason))
    }
}
