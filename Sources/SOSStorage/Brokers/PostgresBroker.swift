import Foundation
import Logging
import SOSDomain
import SQLKit
import ServiceLifecycle

/// The multi-node broker: PostgreSQL LISTEN/NOTIFY on one channel. Messages published together share one NOTIFY;
/// payloads over NOTIFY's limit go through the `broker_messages` table and travel as a reference. Run it as a `Service` (it holds one pooled connection
/// listening, and reconnects after a failure).
///
/// Every NOTIFY starts with its sender's sequence number (`seq:<sender>:<n>`), counted per batch whether PostgreSQL
/// took it or not: a listener that sees a sender skip a number knows a publish failed there (the sender's pool lost
/// its connection while its listener, and every other node's, kept working) and reports a gap, as for a lost listener.
public final class PostgresBroker: Broker, Service, @unchecked Sendable {
    // @unchecked: `subscribers`, `listening`, `listenedBefore`, `waiters`, `outbox`, `flushing`, `lastHeard`,
    // `unheardSince`, `published` and `sequences` are only touched while holding `lock`.
    let database: Database
    /// The LISTEN/NOTIFY channel (one per schema).
    public let channel: String
    let logger: Logger
    private let lock = NSLock()
    private var subscribers: [UUID: AsyncStream<BrokerDelivery>.Continuation] = [:]
    private var listening = false
    /// Whether the listener has been up before: coming up again means a gap.
    private var listenedBefore = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var outbox: [(String, CheckedContinuation<Void, any Error>?)] = []
    private var flushing = false
    /// When the listener last received anything, and since when a message PostgreSQL took has not come back (every
    /// NOTIFY reaches every listener of the channel, this node's own included): the deaf-listener watchdog's inputs.
    private var lastHeard = ContinuousClock.now
    private var unheardSince: ContinuousClock.Instant?
    /// How long a published message may go unheard before the listening connection is considered deaf and replaced.
    let deafAfter: Duration
    /// This broker's name in sequence headers, the number of its last batch, and what this listener heard of each sender.
    let sender = UUID()
    private var published: UInt64 = 0
    private var sequences = BrokerSequences()

    static let notifyLimit = 7_500
    static let referencePrefix = "ref:"
    static let separator = "\u{1E}"
    static let sequencePrefix = "seq:"
    /// Room for the sequence header and its separator: "seq:" + a UUID + ":" + up to 20 digits + U+001E.
    static let headerLength = 4 + 36 + 1 + 20 + 1

    public init(database: Database, channel: String = "sos_hub", deafAfter: Duration = .seconds(30), logger: Logger) {
        self.database = database
        self.channel = channel
        self.deafAfter = deafAfter
        self.logger = logger
    }

    /// Publishes a message and waits until PostgreSQL has taken it. Messages published while a NOTIFY is in flight
    /// are coalesced into the next one (up to NOTIFY's size limit, separated by U+001E, which JSON text never
    /// contains unescaped); a message larger than the limit travels through `broker_messages` as a reference.
    public func publish(_ message: String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            self.enqueue(message, continuation)
        }
    }

    /// Publishes without waiting, in order with every other message of this node; failures are logged.
    public func post(_ message: String) {
        self.enqueue(message, nil)
    }

    private func enqueue(_ message: String, _ continuation: CheckedContinuation<Void, any Error>?) {
        let startFlushing = self.lock.withLock {
            self.outbox.append((message, continuation))
            guard !self.flushing else { return false }
            self.flushing = true
            return true
        }
        if startFlushing { Task { await self.flush() } }
    }

    private func flush() async {
        while true {
            let batch: [(String, CheckedContinuation<Void, any Error>?)] = self.lock.withLock {
                var size = Self.headerLength
                var count = 0
                for (message, _) in self.outbox {
                    let bytes = message.utf8.count
                    let length = bytes > Self.notifyLimit ? Self.referencePrefix.count + 36 : bytes
                    let next = size + length + (count > 0 ? 1 : 0)
                    if count > 0 && next > Self.notifyLimit { break }
                    size = next
                    count += 1
                }
                if count == 0 { self.flushing = false }
                defer { self.outbox.removeFirst(count) }
                return Array(self.outbox.prefix(count))
            }
            guard !batch.isEmpty else { return }
            // step: numbered before the attempt, so a batch that fails leaves a hole the listeners see
            let sequence = self.lock.withLock {
                self.published += 1
                return self.published
            }
            do {
                var payloads: [String] = []
                for (message, _) in batch {
                    guard message.utf8.count > Self.notifyLimit else {
                        payloads.append(message)
                        continue
                    }
                    let id = UUID()
                    try await self.database.write { sql in
                        try await sql.raw("INSERT INTO broker_messages (id, payload, created_at) VALUES (\(bind: id), \(bind: message), \(bind: Date()))").run()
                    }
                    payloads.append(Self.referencePrefix + id.uuidString)
                }
                let joined = ([Self.sequencePrefix + self.sender.uuidString + ":\(sequence)"] + payloads).joined(separator: Self.separator)
                let sent = ContinuousClock.now
                try await self.database.write { [channel = self.channel] sql in
                    try await sql.raw("SELECT pg_notify(\(bind: channel), \(bind: joined))").run()
                }
                // step: PostgreSQL took it, so it must come back to this node's listener (unless it already has)
                self.lock.withLock {
                    if self.unheardSince == nil, self.lastHeard < sent { self.unheardSince = sent }
                }
                for (_, continuation) in batch { continuation?.resume() }
            } catch {
                self.logger.error("Broker publish failed", metadata: ["messages": "\(batch.count)", "error": "\(String(reflecting: error))"])
                for (_, continuation) in batch { continuation?.resume(throwing: error) }
            }
        }
    }

    public func messages() async -> AsyncStream<BrokerDelivery> {
        let (stream, continuation) = AsyncStream.makeStream(of: BrokerDelivery.self, bufferingPolicy: .unbounded)
        let id = UUID()
        self.lock.withLock { self.subscribers[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            self.lock.withLock { self.subscribers[id] = nil }
        }
        return stream
    }

    /// Returns once the listening connection is up (messages published before that are not received).
    public func ready() async {
        await self.waitUntilListening()
    }

    public func waitUntilListening() async {
        await withCheckedContinuation { continuation in
            let ready = self.lock.withLock {
                if self.listening { return true }
                self.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var attempt = 0
            while !Task.isCancelled {
                var failure = "the notification stream ended"
                do {
                    try await self.database.listen(channel: self.channel, check: self.deafAfter / 6, isDeaf: { self.isDeaf() }, consume: { payload in
                        await self.receive(payload)
                    }, onListening: {
                        let (waiters, targets) = self.lock.withLock {
                            // step: after a lost listener, what was published meanwhile never came: say so first
                            let targets = self.listenedBefore ? Array(self.subscribers.values) : []
                            let waiters = self.waiters
                            self.listening = true
                            self.listenedBefore = true
                            self.unheardSince = nil
                            // a new listener starts counting afresh: what it missed is the gap reported here
                            self.sequences = BrokerSequences()
                            self.waiters.removeAll()
                            return (waiters, targets)
                        }
                        for target in targets { target.yield(.gap) }
                        waiters.forEach { $0.resume() }
                    })
                } catch {
                    failure = "\(error)"
                }
                if Task.isCancelled { break }
                // the back-off counts failures since the listener last worked, not since the process started
                attempt = self.lock.withLock { self.listening } ? 1 : attempt + 1
                self.logger.warning("Broker listener failed; reconnecting", metadata: ["error": "\(failure)", "attempt": "\(attempt)"])
                self.lock.withLock { self.listening = false }
                try? await Task.sleep(for: .milliseconds(min(5_000, 200 * attempt)))
            }
        }
    }

    /// True when a message PostgreSQL took has not come back to the listener within `deafAfter`.
    private func isDeaf() -> Bool {
        self.lock.withLock { self.unheardSince.map { ContinuousClock.now - $0 > self.deafAfter } ?? false }
    }

    private func receive(_ notification: String) async {
        var parts = notification.split(separator: Self.separator, omittingEmptySubsequences: true)
        let header = parts.first.flatMap(Self.sequenceHeader)
        if header != nil { parts.removeFirst() }
        let skipped = self.lock.withLock {
            self.lastHeard = .now
            self.unheardSince = nil
            return header.map { self.sequences.heard($0.sender, $0.number) } ?? false
        }
        if skipped {
            // step: a sender's publish failed in between: what it carried never came, so say so before what follows
            self.logger.warning("A node's broker publish failed; reporting a gap", metadata: ["sender": "\(header?.sender.uuidString ?? "")"])
            self.deliver(.gap)
        }
        for part in parts {
            var message = String(part)
            if part.hasPrefix(Self.referencePrefix), let id = UUID(uuidString: String(part.dropFirst(Self.referencePrefix.count))) {
                guard let stored = try? await self.database.read({ sql in
                    try await sql.raw("SELECT payload FROM broker_messages WHERE id = \(bind: id)").first()?.value("payload", as: String.self)
                }) else {
                    // step: the large message cannot be read (the database failed, or it was purged): it is missed here
                    self.logger.warning("A large broker message could not be read; reporting a gap", metadata: ["reference": "\(id)"])
                    self.deliver(.gap)
                    continue
                }
                message = stored
            }
            self.deliver(.message(message))
        }
    }

    /// Hands a message or a gap to every subscriber.
    private func deliver(_ delivery: BrokerDelivery) {
        for target in self.lock.withLock({ Array(self.subscribers.values) }) { target.yield(delivery) }
    }

    static func sequenceHeader(_ part: Substring) -> (sender: UUID, number: UInt64)? {
        guard part.hasPrefix(Self.sequencePrefix) else { return nil }
        let fields = part.dropFirst(Self.sequencePrefix.count).split(separator: ":")
        guard fields.count == 2, let sender = UUID(uuidString: String(fields[0])), let number = UInt64(fields[1]) else { return nil }
        return (sender, number)
    }

    /// Drops overflow payloads older than an hour.
    public func purge(now: Date = Date()) async throws {
        try await self.database.write { sql in
            try await sql.raw("DELETE FROM broker_messages WHERE created_at < \(bind: now.addingTimeInterval(-3600))").run()
        }
    }
}

/// The last batch number heard from each sender since the listener started. A sender heard for the first time sets
/// its baseline (a node that started, or a listener that just came up); after that, any number but the next one
/// means batches were lost in between.
struct BrokerSequences {
    private var last: [UUID: UInt64] = [:]

    /// Records a batch; true when numbers were skipped since the sender's previous one.
    mutating func heard(_ sender: UUID, _ number: UInt64) -> Bool {
        defer { self.last[sender] = max(number, self.last[sender] ?? 0) }
        guard let previous = self.last[sender] else { return false }
        return number > previous + 1
    }
}
