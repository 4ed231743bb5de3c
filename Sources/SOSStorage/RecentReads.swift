import Synchronization

/// Copies of a hot, public read kept for a moment (the patients' doctor search), so that a burst of identical
/// requests costs one query.
///
/// An entry is used only while it is younger than `lifetime` and no write has gone through this node's `Database`
/// since it was read (`Database.writes`, taken before the read): a change made on this node shows at once, one made
/// on another node within `lifetime` (as `SOS_AUTH_CACHE_SECONDS` does for signed-in callers). Bounded: when full,
/// it starts afresh. A `lifetime` of zero keeps nothing.
final class RecentReads<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry: Sendable {
        let value: Value
        let writes: UInt64
        let readAt: ContinuousClock.Instant
    }

    private let entries = Mutex<[Key: Entry]>([:])
    let lifetime: Duration
    let capacity: Int

    init(lifetime: Duration, capacity: Int = 256) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// The kept value for `key`, or what `read` returns (then kept).
    func value(for key: Key, in database: Database, read: () async throws -> Value) async throws -> Value {
        guard self.lifetime > .zero else { return try await read() }
        // step: the count before the read: a write that lands during it leaves the entry stale at once
        let writes = database.writes
        let now = ContinuousClock.now
        if let entry = self.entries.withLock({ $0[key] }), entry.writes == writes, now - entry.readAt < self.lifetime {
            return entry.value
        }
        let value = try await read()
        self.entries.withLock { entries in
            if entries.count >= self.capacity { entries.removeAll() }
            entries[key] = Entry(value: value, writes: writes, readAt: now)
        }
        return value
    }
}
