import Synchronization

/// Copies of a hot, public read kept for a moment (the patients' doctor search), so that a burst of identical
/// requests costs one query.
///
/// An entry is used only while no write has gone through this node's `Database` since it was read
/// (`Database.writes`, taken before the read) — a change made on this node shows at once — and while it is younger
/// than `lifetime`. Between one and two lifetimes old it is still answered while one caller reads it again in the
/// background, so a busy search never waits at the moment its page ages out: a change made on another node shows
/// within two lifetimes (as `SOS_AUTH_CACHE_SECONDS` bounds it for signed-in callers). Callers that miss together
/// share one read. Bounded: when full, it starts afresh. A `lifetime` of zero keeps nothing.
final class RecentReads<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private enum Slot {
        case ready(Value, writes: UInt64, readAt: ContinuousClock.Instant, refreshing: Bool)
        case reading(Task<Value, any Error>, writes: UInt64)
    }

    private enum Lookup {
        case kept(Value)
        case wait(Task<Value, any Error>)
    }

    private let slots = Mutex<[Key: Slot]>([:])
    let lifetime: Duration
    let capacity: Int

    init(lifetime: Duration, capacity: Int = 256) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// The kept value for `key`, or what `read` returns (then kept).
    func value(for key: Key, in database: Database, read: @escaping @Sendable () async throws -> Value) async throws -> Value {
        guard self.lifetime > .zero else { return try await read() }
        // step: the count before the read: a write that lands during it leaves the entry stale at once
        let writes = database.writes
        let now = ContinuousClock.now
        let lookup: Lookup = self.slots.withLock { slots in
            switch slots[key] {
            case .ready(let value, let kept, let readAt, let refreshing) where kept == writes && now - readAt < self.lifetime * 2:
                if now - readAt >= self.lifetime, !refreshing {
                    // step: aging out: this caller still gets it, and one read in the background renews it
                    slots[key] = .ready(value, writes: kept, readAt: readAt, refreshing: true)
                    Task { try? await self.renew(key, writes: writes, at: now, read: read) }
                }
                return .kept(value)
            case .reading(let task, let kept) where kept == writes:
                return .wait(task)
            default:
                if slots.count >= self.capacity { slots.removeAll() }
                let task = Task { try await read() }
                slots[key] = .reading(task, writes: writes)
                return .wait(task)
            }
        }
        switch lookup {
        case .kept(let value):
            return value
        case .wait(let task):
            do {
                let value = try await task.value
                self.store(key, value, writes: writes, at: now)
                return value
            } catch {
                self.slots.withLock { slots in
                    if case .reading(_, let kept) = slots[key], kept == writes { slots[key] = nil }
                }
                throw error
            }
        }
    }

    private func renew(_ key: Key, writes: UInt64, at now: ContinuousClock.Instant, read: @Sendable () async throws -> Value) async throws {
        do {
            self.store(key, try await read(), writes: writes, at: now)
        } catch {
            self.slots.withLock { slots in
                if case .ready(let value, let kept, let readAt, true) = slots[key] { slots[key] = .ready(value, writes: kept, readAt: readAt, refreshing: false) }
            }
            throw error
        }
    }

    /// Keeps `value` unless something newer took the slot (a read begun after a later write).
    private func store(_ key: Key, _ value: Value, writes: UInt64, at now: ContinuousClock.Instant) {
        self.slots.withLock { slots in
            switch slots[key] {
            case .reading(_, let kept) where kept != writes: return
            case .ready(_, let kept, let readAt, _) where kept > writes || (kept == writes && readAt > now): return
            default: slots[key] = .ready(value, writes: writes, readAt: now, refreshing: false)
            }
        }
    }
}
