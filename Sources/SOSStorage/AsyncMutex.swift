/// A fair async lock: callers wait their turn without blocking a thread.
///
/// Guards the single embedded SQLite connection so that a transaction never interleaves with other work.
actor AsyncMutex {
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var head = 0

    func lock() async {
        guard self.locked else {
            self.locked = true
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    func unlock() {
        if self.head < self.waiters.count {
            let next = self.waiters[self.head]
            self.head += 1
            if self.head > 64, self.head * 2 > self.waiters.count {
                self.waiters.removeFirst(self.head)
                self.head = 0
            }
            next.resume()
        } else {
            self.waiters.removeAll(keepingCapacity: true)
            self.head = 0
            self.locked = false
        }
    }

    /// Runs `body` while holding the lock.
    nonisolated func withLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await self.lock()
        do {
            let value = try await body()
            await self.unlock()
            return value
        } catch {
            await self.unlock()
            throw error
        }
    }
}
