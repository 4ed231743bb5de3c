/// A fair async pool of interchangeable resources: callers take one in turn, waiting without blocking a thread.
///
/// The embedded SQLite database keeps its writer connection in a lease of one (so that a transaction never interleaves
/// with other writes) and its read connections in a lease of a few.
actor AsyncLease<Resource: Sendable> {
    private var idle: [Resource]
    private var waiters: [CheckedContinuation<Resource, Never>] = []
    private var head = 0
    private let count: Int

    init(_ resources: [Resource]) {
        precondition(!resources.isEmpty, "a lease needs at least one resource")
        self.idle = resources
        self.count = resources.count
    }

    /// Takes every resource, waiting for those in use (to close them at shutdown); nothing is left to lease afterwards.
    func drain() async -> [Resource] {
        var all: [Resource] = []
        for _ in 0..<self.count { all.append(await self.acquire()) }
        return all
    }

    /// Takes a resource, waiting for one when all are taken.
    func acquire() async -> Resource {
        if let resource = self.idle.popLast() { return resource }
        return await withCheckedContinuation { self.waiters.append($0) }
    }

    func release(_ resource: Resource) {
        guard self.head < self.waiters.count else {
            self.waiters.removeAll(keepingCapacity: true)
            self.head = 0
            self.idle.append(resource)
            return
        }
        let next = self.waiters[self.head]
        self.head += 1
        if self.head > 64, self.head * 2 > self.waiters.count {
            self.waiters.removeFirst(self.head)
            self.head = 0
        }
        next.resume(returning: resource)
    }

    /// Runs `body` with a resource of its own, returned to the pool when `body` ends.
    nonisolated func with<T: Sendable>(_ body: (Resource) async throws -> T) async throws -> T {
        let resource = await self.acquire()
        do {
            let value = try await body(resource)
            await self.release(resource)
            return value
        } catch {
            await self.release(resource)
            throw error
        }
    }
}
