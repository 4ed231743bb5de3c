import Foundation

/// Who is related to whom (`AccessPolicy.Related`), answered once for chat, presence and the hub, with one cache.
///
/// Per user it remembers, for `lifetime` seconds, the set of related users and the recipients that user was found
/// allowed to write to (positive answers only, so a new appointment takes effect at once). Whatever changes an
/// appointment calls `forget` for its people (the hub does it on every node when the event arrives), so a booking or
/// a cancellation is seen at once; a blocked account is refused by its revoked sessions and within `lifetime` here.
public final class Relationships: Sendable {
    let repository: any RelationshipRepository
    let cache: RelationCache
    let now: @Sendable () -> Date

    public init(repository: any RelationshipRepository, lifetime: TimeInterval = 30, now: @escaping @Sendable () -> Date = { Date() }) {
        self.repository = repository
        self.cache = RelationCache(lifetime: lifetime)
        self.now = now
    }

    /// The users related to `user`.
    public func related(to user: UUID) async throws -> Set<UUID> {
        let now = self.now()
        if let cached = self.cache.related(user, now: now) { return cached }
        let related = try await self.repository.related(to: user)
        self.cache.store(related: related, of: user, now: now)
        return related
    }

    /// Whether `sender` may write to the user `recipientId` (`AccessPolicy.mayChat`); `recipient` looks that user up
    /// when the answer is not cached.
    public func mayChat(_ sender: User, to recipientId: UUID, recipient: () async throws -> User?) async throws -> Bool {
        let now = self.now()
        if self.cache.allowsChat(sender.id, recipientId, now: now) { return true }
        guard let recipient = try await recipient(),
              try await AccessPolicy.mayChat(sender, recipient, related: { try await self.related(to: sender.id).contains(recipient.id) })
        else { return false }
        self.cache.rememberChat(sender.id, recipientId, now: now)
        return true
    }

    /// Drops what is remembered about these users (their appointments changed).
    public func forget(_ users: some Sequence<UUID>) {
        self.cache.forget(users)
    }
}

/// The cache behind `Relationships`: per user, the related set and the allowed chat recipients, each expiring after
/// `lifetime`; bounded (it starts afresh past `capacity` users).
final class RelationCache: @unchecked Sendable {
    // @unchecked: `entries` is only touched while holding `lock`.
    private struct Entry {
        var related: (users: Set<UUID>, at: Date)?
        var chat: [UUID: Date] = [:]
    }

    private let lock = NSLock()
    private var entries: [UUID: Entry] = [:]
    let lifetime: TimeInterval
    let capacity = 100_000

    init(lifetime: TimeInterval) {
        self.lifetime = lifetime
    }

    func related(_ user: UUID, now: Date) -> Set<UUID>? {
        self.lock.withLock {
            guard let related = self.entries[user]?.related, now.timeIntervalSince(related.at) < self.lifetime else { return nil }
            return related.users
        }
    }

    func store(related: Set<UUID>, of user: UUID, now: Date) {
        self.lock.withLock {
            self.makeRoom()
            self.entries[user, default: Entry()].related = (related, now)
        }
    }

    func allowsChat(_ sender: UUID, _ recipient: UUID, now: Date) -> Bool {
        self.lock.withLock {
            guard let at = self.entries[sender]?.chat[recipient] else { return false }
            return now.timeIntervalSince(at) < self.lifetime
        }
    }

    func rememberChat(_ sender: UUID, _ recipient: UUID, now: Date) {
        self.lock.withLock {
            self.makeRoom()
            self.entries[sender, default: Entry()].chat[recipient] = now
        }
    }

    func forget(_ users: some Sequence<UUID>) {
        self.lock.withLock {
            for user in users {
                self.entries[user] = nil
            }
        }
    }

    private func makeRoom() {
        if self.entries.count >= self.capacity { self.entries.removeAll(keepingCapacity: true) }
    }
}
