/// The frames waiting for one socket while it is not writable, bounded in frames and in bytes. When it is full the
/// producer learns it at once (and the connection is closed with 4008), so a slow reader can never make the server
/// buffer without limit. A value owned by the connection's state machine, touched only on its event loop.
struct OutboundQueue: Equatable {
    typealias Frame = ConnectionStateMachine.Outgoing

    private var items: [Frame] = []
    private var head = 0
    private(set) var bytes = 0
    let capacity: Int
    let maxBytes: Int

    init(capacity: Int, maxBytes: Int = 4 << 20) {
        self.capacity = capacity
        self.maxBytes = maxBytes
    }

    var count: Int { self.items.count - self.head }
    var isEmpty: Bool { self.head == self.items.count }

    /// Adds a frame; false if the queue is full (frames or bytes). A single frame larger than the byte budget is
    /// taken when the queue is empty.
    mutating func enqueue(_ frame: Frame) -> Bool {
        let size = frame.byteCount
        guard self.count < self.capacity, self.bytes + size <= self.maxBytes || self.isEmpty else { return false }
        self.items.append(frame)
        self.bytes += size
        return true
    }

    /// Adds a text frame (see `enqueue(_:)`).
    mutating func enqueue(_ text: String) -> Bool {
        self.enqueue(.text(text))
    }

    /// Takes every waiting frame, oldest first.
    mutating func removeAll() -> [Frame] {
        guard !self.isEmpty else { return [] }
        let frames = Array(self.items[self.head...])
        self.items = []
        self.head = 0
        self.bytes = 0
        return frames
    }
}
