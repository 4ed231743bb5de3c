import Foundation
import Logging
import SOSDomain
import SQLKit
import ServiceLifecycle

/// The multi-node broker: PostgreSQL LISTEN/NOTIFY on one channel. Payloads over NOTIFY's limit go through the
/// `broker_messages` table and travel as a reference. Run it as a `Service` (it holds one pooled connection
/// listening, and reconnects after a failure).
public final class PostgresBroker: Broker, Service, @unchecked Sendable {
    // @unchecked: `subscribers`, `listening`, `waiters` are only touched while holding `lock`.
    let database: Database
    let channel: String
    let logger: Logger
    private let lock = NSLock()
    private var subscribers: [UUID: AsyncStream<String>.Continuation] = [:]
    private var listening = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    static let notifyLimit = 7_500
    static let referencePrefix = "ref:"

    public init(database: Database, channel: String = "sos_hub", logger: Logger) {
        self.database = database
        self.channel = channel
        self.logger = logger
    }

    public func publish(_ message: String) async throws {
        var payload = message
        if message.utf8.count > Self.notifyLimit {
            let id = UUID()
            try await self.database.write { sql in
                try await sql.raw("INSERT INTO broker_messages (id, payload, created_at) VALUES (\(bind: id), \(bind: message), \(bind: Date()))").run()
            }
            payload = Self.referencePrefix + id.uuidString
        }
        try await self.database.write { [channel = self.channel, payload] sql in
            try await sql.raw("SELECT pg_notify(\(bind: channel), \(bind: payload))").run()
        }
    }

    public func messages() async -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .unbounded)
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
                do {
                    try await self.database.listen(channel: self.channel, consume: { payload in
                        await self.receive(payload)
                    }, onListening: {
                        let waiters = self.lock.withLock {
                            self.listening = true
                            defer { self.waiters.removeAll() }
                            return self.waiters
                        }
                        waiters.forEach { $0.resume() }
                    })
                } catch {
                    if Task.isCancelled { break }
                    attempt += 1
                    self.logger.warning("Broker listener failed; reconnecting", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                }
                self.lock.withLock { self.listening = false }
                try? await Task.sleep(for: .milliseconds(min(5_000, 200 * attempt)))
            }
        }
    }

    private func receive(_ payload: String) async {
        var message = payload
        if payload.hasPrefix(Self.referencePrefix), let id = UUID(uuidString: String(payload.dropFirst(Self.referencePrefix.count))) {
            guard let stored = try? await self.database.read({ sql in
                try await sql.raw("SELECT payload FROM broker_messages WHERE id = \(bind: id)").first()?.value("payload", as: String.self)
            }) else { return }
            message = stored
        }
        let targets = self.lock.withLock { Array(self.subscribers.values) }
        for target in targets { target.yield(message) }
    }

    /// Drops overflow payloads older than an hour.
    public func purge(now: Date = Date()) async throws {
        try await self.database.write { sql in
            try await sql.raw("DELETE FROM broker_messages WHERE created_at < \(bind: now.addingTimeInterval(-3600))").run()
        }
    }
}
