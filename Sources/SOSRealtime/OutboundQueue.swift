import Foundation

/// A bounded queue of frames for one connection, bounded in frames and in bytes. When it is full the producer
/// learns it at once (and the hub closes the connection with 4008), so a slow reader can never make the server
/// buffer without limit.
final class OutboundQueue: @unchecked Sendable {
    // @unchecked: `items`, `head`, `bytes`, `closed` and `waiter` are only touched while holding `lock`.
    private let lock = NSLock()
    private var items: [String] = []
    private var head = 0
    private var bytes = 0
    private var closed = false
    private var waiter: CheckedContinuation<String?, Never>?
    let capacity: Int
    let maxBytes: Int

    init(capacity: Int, maxBytes: Int = 4 << 20) {
        self.capacity = capacity
        self.maxBytes = maxBytes
    }

    /// Adds a frame; false if the queue is full (frames or bytes) or closed.
    func enqueue(_ frame: String) -> Bool {
        self.lock.lock()
        let size = frame.utf8.count
        if self.closed || self.items.count - self.head >= self.capacity || (self.bytes + size > self.maxBytes && self.items.count > self.head) {
            self.lock.unlock()
            return false
        }
        if let waiter = self.waiter {
            self.waiter = nil
            self.lock.unlock()
            waiter.resume(returning: frame)
            return true
        }
        self.items.append(frame)
        self.bytes += size
        self.lock.unlock()
        return true
    }

    /// The next frame, waiting if needed; nil once closed and drained.
    func next() async -> String? {
        await withCheckedContinuation { continuation in
            self.lock.lock()
            if self.head < self.items.count {
                let frame = self.items[self.head]
                self.head += 1
                self.bytes -= frame.utf8.count
                if self.head > 256, self.head * 2 > self.items.count {
                    self.items.removeFirst(self.head)
                    self.head = 0
                }
                self.lock.unlock()
                continuation.resume(returning: frame)
            } else if self.closed {
                self.lock.unlock()
                continuation.resume(returning: nil)
            } else {
                self.waiter = continuation
                self.lock.unlock()
            }
        }
    }

    /// Stops accepting frames; the reader gets what is queued, then nil.
    func close() {
        self.lock.lock()
        self.closed = true
        let waiter = self.waiter
        self.waiter = nil
        self.lock.unlock()
        waiter?.resume(returning: nil)
    }
}
