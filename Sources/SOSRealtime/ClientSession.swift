import Foundation
import SOSDomain

/// One WebSocket connection: who it is, its bounded outbound queue, its rate budget.
public final class ClientSession: @unchecked Sendable {
    // @unchecked: the mutable state below is only touched while holding `lock`.
    public let id: String
    let transport: any ClientTransport
    let queue: OutboundQueue
    private let lock = NSLock()
    private var _principal: Principal?
    private var _away = false
    private var _closed = false
    private var tokens: Double
    private var refilledAt = Date()
    private var writerDone = false
    private var writerWaiters: [CheckedContinuation<Void, Never>] = []
    let burst: Double
    let perSecond: Double

    init(transport: any ClientTransport, queueCapacity: Int, queueBytes: Int = 4 << 20, burst: Int, perSecond: Int) {
        self.id = UUID().uuidString.lowercased()
        self.transport = transport
        self.queue = OutboundQueue(capacity: queueCapacity, maxBytes: queueBytes)
        self.burst = Double(burst)
        self.perSecond = Double(perSecond)
        self.tokens = Double(burst)
    }

    public var principal: Principal? {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self._principal
    }

    func authenticate(_ principal: Principal) {
        self.lock.lock()
        self._principal = principal
        self.lock.unlock()
    }

    var away: Bool {
        get { self.lock.lock(); defer { self.lock.unlock() }; return self._away }
        set { self.lock.lock(); self._away = newValue; self.lock.unlock() }
    }

    var isClosed: Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self._closed
    }

    /// Takes one message from the rate budget; false when the client sends too fast.
    func allowMessage(now: Date = Date()) -> Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        self.tokens = min(self.burst, self.tokens + now.timeIntervalSince(self.refilledAt) * self.perSecond)
        self.refilledAt = now
        guard self.tokens >= 1 else { return false }
        self.tokens -= 1
        return true
    }

    /// Queues a frame; false when the queue is full (the caller closes the connection with 4008).
    func deliver(_ frame: String) -> Bool {
        self.queue.enqueue(frame)
    }

    /// Writes queued frames until the queue is closed or the socket fails.
    public func writeLoop() async {
        while let frame = await self.queue.next() {
            do {
                try await self.transport.send(frame)
            } catch {
                break
            }
        }
        let waiters = self.lock.withLock {
            self.writerDone = true
            defer { self.writerWaiters = [] }
            return self.writerWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the write loop has sent what was queued before `finish()` (or failed).
    func flushed() async {
        await withCheckedContinuation { continuation in
            let done = self.lock.withLock {
                if !self.writerDone { self.writerWaiters.append(continuation) }
                return self.writerDone
            }
            if done { continuation.resume() }
        }
    }

    /// Marks the session closed; returns false if it already was.
    func markClosed() -> Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        guard !self._closed else { return false }
        self._closed = true
        return true
    }

    /// Stops the write loop after the frames already queued.
    public func finish() {
        self.queue.close()
    }
}
