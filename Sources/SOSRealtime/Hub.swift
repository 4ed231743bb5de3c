import Foundation
import Logging
import SOSDomain
import ServiceLifecycle

/// What the hub needs from the domain, and how to render domain objects as the REST API shows them.
public struct HubDependencies: Sendable {
    public var auth: AuthService
    public var chat: ChatService
    public var video: VideoService
    public var appointments: AppointmentService
    public var relationships: any RelationshipRepository
    /// Renders an event's subject as JSON text (the REST shapes); nil for subjects not sent to clients.
    public var render: @Sendable (EventSubject) -> String?

    public init(auth: AuthService, chat: ChatService, video: VideoService, appointments: AppointmentService, relationships: any RelationshipRepository,
                render: @escaping @Sendable (EventSubject) -> String?) {
        self.auth = auth
        self.chat = chat
        self.video = video
        self.appointments = appointments
        self.relationships = relationships
        self.render = render
    }
}

/// Limits and timings of the hub.
public struct HubConfiguration: Sendable {
    public var maxMessageBytes = 64 * 1024
    public var outboundQueueCapacity = 512
    /// Bytes queued per socket at most (`SOS_WS_QUEUE_BYTES`); a consumer behind by more is closed with 4008.
    public var outboundQueueBytes = 4 << 20
    /// Bytes of events kept for `resume` per user (`SOS_WS_LOG_BYTES_PER_USER`) and on the whole node (`SOS_WS_LOG_BYTES_TOTAL`).
    public var eventBytesPerUser = 256 << 10
    public var eventBytesTotal = 64 << 20
    public var authTimeout: TimeInterval = 10
    public var offlineGrace: TimeInterval = 3
    public var rateBurst = 60
    public var ratePerSecond = 30
    public var retention: TimeInterval = 600
    public var eventsPerUser = 256
    public var heartbeat: TimeInterval = 15
    public var relationshipCache: TimeInterval = 30
    /// Sockets that have not authenticated yet, at most (`SOS_MAX_PENDING_WEBSOCKETS`).
    public var maxPendingSessions = 1_000

    public init() {}
}

/// The real-time hub (after Centrifuge's Node): this node's connections, the broker that carries events between
/// nodes, presence, and the per-user event log. It is the domain's `EventPublisher`: every event goes through the
/// broker and comes back to every node, which delivers it to the local connections allowed to see it.
public final class Hub: Service, EventPublisher, @unchecked Sendable {
    // @unchecked: mutable state lives in the lock-protected helpers (registry, log, presence) and in
    // `pending`/`relationCache`, which are only touched while holding `lock`.
    public let nodeId: String
    let configuration: HubConfiguration
    let dependencies: HubDependencies
    let broker: any Broker
    let logger: Logger
    let registry = ConnectionRegistry()
    let log: EventLog
    let presence: PresenceTracker
    private let lock = NSLock()
    private let deliveryLock = NSLock()
    private var pending: [String: (session: ClientSession, openedAt: Date)] = [:]
    private var relationCache: [UUID: (users: Set<UUID>, at: Date)] = [:]
    private var inFlight = 0
    private var draining = false
    private var slowConsumers = 0

    public init(configuration: HubConfiguration = HubConfiguration(), dependencies: HubDependencies, broker: any Broker, logger: Logger,
                nodeId: String = UUID().uuidString.lowercased()) {
        self.nodeId = nodeId
        self.configuration = configuration
        self.dependencies = dependencies
        self.broker = broker
        self.logger = logger
        self.log = EventLog(
            epoch: "\(nodeId)-\(Int(Date().timeIntervalSince1970))", retention: configuration.retention, perUser: configuration.eventsPerUser,
            bytesPerUser: configuration.eventBytesPerUser, bytesTotal: configuration.eventBytesTotal
        )
        self.presence = PresenceTracker(nodeTimeout: configuration.heartbeat * 3)
    }

    /// Connections on this node (for tests and metrics).
    public var connectionCount: Int { self.registry.count }

    /// Connections closed with 4008 since start (for tests and metrics).
    public var slowConsumerCount: Int { self.lock.withLock { self.slowConsumers } }

    var isDraining: Bool { self.lock.withLock { self.draining } }

    /// Runs a client command, counted so that `drain` can wait for it.
    func inFlight<T>(_ work: () async throws -> T) async rethrows -> T {
        self.lock.withLock { self.inFlight += 1 }
        defer { self.lock.withLock { self.inFlight -= 1 } }
        return try await work()
    }

    /// Graceful shutdown: stops taking commands, lets those in flight finish (up to `timeout`), then closes every
    /// socket with 1001. Run it before the HTTP server stops (see `DrainService`).
    public func drain(timeout: Duration = .seconds(5)) async {
        self.lock.withLock { self.draining = true }
        let deadline = ContinuousClock.now + timeout
        while self.lock.withLock({ self.inFlight }) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        await withTaskGroup(of: Void.self) { group in
            for session in self.registry.all + self.pendingSessions() {
                group.addTask { await self.close(session, code: HubCloseCode.goingAway, reason: "Server shutting down; reconnect shortly") }
            }
        }
    }

    /// A service that drains the hub when shutdown starts. Place it after the application in the service group:
    /// services stop in reverse order, so sockets close with 1001 before the HTTP server closes them with 1000.
    public var drainService: some Service { DrainService(hub: self) }

    // MARK: - Service

    /// Delivers what the broker brings, keeps presence alive, and on graceful shutdown closes every socket with 1001.
    public func run() async throws {
        let messages = await self.broker.messages()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in messages.cancelOnGracefulShutdown() {
                    await self.handleBroker(message)
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: .seconds(1)) } catch { return }
                    await self.sweep()
                }
            }
            group.addTask {
                // step: learn who is online on the other nodes
                await self.broker.ready()
                await self.send(Envelope(kind: .sync, node: self.nodeId, at: Date()), data: nil)
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await self.broker.publish(Envelope(kind: .heartbeat, node: self.nodeId, at: Date()).encoded(data: nil))
                    do { try await Task.sleep(for: .seconds(self.configuration.heartbeat)) } catch { return }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        await self.drain()
    }

    // MARK: - Publishing

    /// Sends a domain event to every node through the broker.
    public func publish(_ event: DomainEvent) async {
        let envelope: Envelope
        var data: String?
        switch event.subject {
        case .sessionRevoked(let userId, let tokenKey, let reason):
            envelope = Envelope(kind: .revoke, node: self.nodeId, type: reason.rawValue, users: [userId], tokenKey: tokenKey)
        default:
            guard let rendered = self.dependencies.render(event.subject) else { return }
            data = rendered
            envelope = Envelope(
                kind: .event, node: self.nodeId, type: event.type, users: Array(event.userIds), admins: event.includeAdmins, origin: event.origin
            )
        }
        await self.send(envelope, data: data)
    }

    /// Sends a short-lived event (typing, signaling, presence) to users; it carries no `seq` and is not replayed.
    func publishEphemeral(type: String, to users: [UUID], data: JSON) async {
        await self.send(Envelope(kind: .event, node: self.nodeId, type: type, users: users, admins: false, ephemeral: true), data: Frames.text(data))
    }

    /// Events are delivered to this node's sockets at once and sent to the other nodes through the broker;
    /// presence, revocations and node messages all go through the broker (this node included), in order.
    func send(_ envelope: Envelope, data: String?) async {
        if envelope.kind == .event {
            // step: stored already; other nodes get it in order without this caller waiting for the NOTIFY
            self.deliver(envelope, data: data ?? "null")
            if self.broker.reachesOtherNodes { self.broker.post(envelope.encoded(data: data)) }
            return
        }
        do {
            try await self.broker.publish(envelope.encoded(data: data))
        } catch {
            self.logger.error("Broker publish failed", metadata: ["type": "\(envelope.type ?? envelope.kind.rawValue)", "error": "\(error)"])
        }
    }

    // MARK: - Delivery

    func handleBroker(_ message: String) async {
        // step: this node delivered its own events when they were sent
        if let (kind, node) = Envelope.peek(message), kind == Envelope.Kind.event.rawValue, node == self.nodeId { return }
        guard let (envelope, data) = Envelope.decode(message) else {
            self.logger.warning("Dropped a malformed broker message")
            return
        }
        switch envelope.kind {
        case .event:
            guard envelope.node != self.nodeId else { return }
            self.deliver(envelope, data: data ?? "null")
        case .revoke:
            for user in envelope.users ?? [] {
                for session in self.registry.sessions(of: user) where envelope.tokenKey == nil || session.principal?.tokenKey == envelope.tokenKey {
                    let reason = envelope.type.flatMap(RevocationReason.init(rawValue:)) ?? .signedOut
                    await self.close(session, code: HubCloseCode.unauthorized, reason: reason.closeReason)
                }
            }
        case .presence:
            guard let user = envelope.users?.first, let status = envelope.status else { return }
            let change = self.presence.apply(user: user, node: envelope.node, status: status, at: envelope.at ?? Date())
            if change.before.status != change.after.status { await self.announcePresence(user, change.after) }
        case .heartbeat:
            self.presence.heartbeat(node: envelope.node, at: envelope.at ?? Date())
        case .sync:
            guard envelope.node != self.nodeId else { return }
            await self.publishSnapshot()
        case .snapshot:
            guard envelope.node != self.nodeId, let users = envelope.users, let statuses = envelope.statuses, users.count == statuses.count else { return }
            let at = envelope.at ?? Date()
            for (user, status) in zip(users, statuses) {
                let change = self.presence.apply(user: user, node: envelope.node, status: status, at: at)
                if change.before.status != change.after.status { await self.announcePresence(user, change.after) }
            }
        }
    }

    /// Tells the other nodes who is connected here (answer to a starting node's `sync`), in chunks.
    func publishSnapshot() async {
        let local = self.registry.connectedUsers.map { user -> (UUID, PresenceStatus) in
            (user, self.registry.sessions(of: user).contains { !$0.away } ? .online : .away)
        }
        var start = 0
        repeat {
            let chunk = local[start..<min(start + 2_000, local.count)]
            await self.send(Envelope(kind: .snapshot, node: self.nodeId, users: chunk.map(\.0), statuses: chunk.map(\.1), at: Date()), data: nil)
            start += 2_000
        } while start < local.count
    }

    /// Hands an event to each local connection allowed to see it; a full queue closes that connection with 4008.
    /// Runs under `deliveryLock`, so each user's sockets get events in `seq` order.
    func deliver(_ envelope: Envelope, data: String) {
        self.deliveryLock.withLock { self.deliverLocked(envelope, data: data) }
    }

    private func deliverLocked(_ envelope: Envelope, data: String) {
        guard let type = envelope.type else { return }
        if type.hasPrefix("appointment."), let users = envelope.users {
            // step: a booking or cancellation changes who may see whose presence
            self.lock.withLock { for user in users { self.relationCache[user] = nil } }
        }
        var recipients = Set(envelope.users ?? [])
        if envelope.admins == true { recipients.formUnion(self.registry.adminIds) }
        for user in recipients {
            let sessions = self.registry.sessions(of: user)
            let frame: String
            if envelope.ephemeral == true {
                guard !sessions.isEmpty else { continue }
                frame = Frames.event(type: type, seq: nil, renderedData: data)
            } else {
                guard !sessions.isEmpty || self.log.knows(user) || envelope.users?.contains(user) == true else { continue }
                frame = self.log.append(user: user, type: type, renderedData: data)
            }
            for session in sessions where session.id != envelope.origin {
                if !session.deliver(frame) {
                    Task { await self.closeSlow(session) }
                }
            }
        }
    }

    /// Sends a frame to one session, closing it with 4008 if its queue is full.
    func reply(_ session: ClientSession, _ frame: String) async {
        if !session.deliver(frame) {
            await self.closeSlow(session)
        }
    }

    /// Closes a session whose outbound queue is full with 4008.
    func closeSlow(_ session: ClientSession) async {
        guard !session.isClosed else { return }
        self.lock.withLock { self.slowConsumers += 1 }
        self.logger.notice("Closing a slow WebSocket consumer", metadata: ["user": "\(session.principal?.id.uuidString.lowercased() ?? "-")"])
        await self.close(session, code: HubCloseCode.slowConsumer, reason: "Slow consumer: outbound queue full")
    }

    // MARK: - Connections

    /// Starts a session. With a bearer token from the upgrade request it is authenticated at once (bad token:
    /// closed with 4001); otherwise the first message must be `auth` within the timeout.
    public func open(transport: any ClientTransport, bearer: String?) async -> ClientSession {
        let session = ClientSession(
            transport: transport, queueCapacity: self.configuration.outboundQueueCapacity, queueBytes: self.configuration.outboundQueueBytes,
            burst: self.configuration.rateBurst, perSecond: self.configuration.ratePerSecond
        )
        guard let bearer else {
            let admitted = self.lock.withLock {
                guard self.pending.count < self.configuration.maxPendingSessions else { return false }
                self.pending[session.id] = (session, Date())
                return true
            }
            if !admitted {
                // step: a flood of sockets that never authenticate cannot pile up; RFC 6455 1013: try again later
                await self.close(session, code: HubCloseCode.tryAgainLater, reason: "Too many connections waiting to authenticate; retry shortly")
            }
            return session
        }
        do {
            let principal = try await self.dependencies.auth.authenticate(bearer: bearer)
            // step: `ready` is the first frame; events start once the session is registered
            await self.reply(session, Frames.event(type: "ready", seq: nil, renderedData: Frames.text(self.sessionInfo(principal))))
            await self.register(session, principal)
        } catch {
            await self.close(session, code: HubCloseCode.unauthorized, reason: HubError(error).message)
        }
        return session
    }

    func register(_ session: ClientSession, _ principal: Principal) async {
        session.authenticate(principal)
        self.lock.withLock { self.pending[session.id] = nil }
        if self.registry.add(session, user: principal.user) {
            await self.send(Envelope(kind: .presence, node: self.nodeId, users: [principal.id], status: .online, at: Date()), data: nil)
        }
    }

    /// Called when the socket is gone: unregisters the session; the user goes offline after the grace period.
    public func closed(_ session: ClientSession) async {
        _ = session.markClosed()
        session.finish()
        self.lock.withLock { self.pending[session.id] = nil }
        guard let principal = session.principal, self.registry.remove(session, userId: principal.id) else { return }
        let user = principal.id
        let grace = self.configuration.offlineGrace
        Task {
            try? await Task.sleep(for: .seconds(grace))
            if !self.registry.isConnected(user) {
                await self.send(Envelope(kind: .presence, node: self.nodeId, users: [user], status: .offline, at: Date()), data: nil)
            }
        }
    }

    /// Closes a session's socket with a code (once).
    /// Closes a session's socket with a code (once). Except for slow consumers, the frames already queued
    /// (acks of finished commands) go out first, for up to a second.
    func close(_ session: ClientSession, code: UInt16, reason: String) async {
        guard session.markClosed() else { return }
        session.finish()
        // step: a slow consumer would not take the rest, and a socket refused at once has nothing queued
        if code != HubCloseCode.slowConsumer && code != HubCloseCode.tryAgainLater {
            // step: whichever comes first, the flush or one second (a stuck writer ends when the socket drops)
            let (done, signal) = AsyncStream.makeStream(of: Void.self)
            Task {
                await session.flushed()
                signal.finish()
            }
            Task {
                try? await Task.sleep(for: .seconds(1))
                signal.finish()
            }
            for await _ in done {}
        }
        await session.transport.close(code: code, reason: reason)
    }

    private func pendingSessions() -> [ClientSession] {
        self.lock.withLock { self.pending.values.map(\.session) }
    }

    /// Every second: closes sessions that did not authenticate in time or whose token expired; prunes the log;
    /// forgets silent nodes.
    func sweep() async {
        let now = Date()
        let late = self.lock.withLock {
            let late = self.pending.values.filter { now.timeIntervalSince($0.openedAt) > self.configuration.authTimeout }.map(\.session)
            for session in late { self.pending[session.id] = nil }
            return late
        }
        for session in late {
            await self.close(session, code: HubCloseCode.unauthorized, reason: "Authenticate within \(Int(self.configuration.authTimeout)) seconds")
        }
        if Int(now.timeIntervalSince1970) % 5 == 0 {
            for session in self.registry.all where (session.principal?.tokenExpiresAt ?? .distantFuture) <= now {
                await self.close(session, code: HubCloseCode.unauthorized, reason: "Token expired; reconnect with a fresh token")
            }
            self.log.prune(keep: Set(self.registry.connectedUsers), now: now)
            for change in self.presence.expireNodes(now: now) where change.before.status != change.after.status {
                await self.announcePresence(change.user, change.after)
            }
        }
    }

    // MARK: - Presence

    /// Users with a care relationship (cached briefly).
    func related(_ user: UUID) async -> Set<UUID> {
        let now = Date()
        let cached = self.lock.withLock { self.relationCache[user] }
        if let cached, now.timeIntervalSince(cached.at) < self.configuration.relationshipCache { return cached.users }
        let users = (try? await self.dependencies.relationships.related(to: user)) ?? []
        self.lock.withLock {
            if self.relationCache.count > 100_000 { self.relationCache.removeAll() }
            self.relationCache[user] = (users, now)
        }
        return users
    }

    /// Tells the user's related, connected users about a presence change.
    func announcePresence(_ user: UUID, _ info: PresenceTracker.Info) async {
        let watchers = await self.related(user).filter { self.registry.isConnected($0) }
        guard !watchers.isEmpty else { return }
        let frame = Frames.event(type: "presence.changed", seq: nil, renderedData: Frames.text(Self.presenceJSON(user, info)))
        for watcher in watchers {
            for session in self.registry.sessions(of: watcher) where !session.deliver(frame) {
                await self.closeSlow(session)
            }
        }
    }

    static func presenceJSON(_ user: UUID, _ info: PresenceTracker.Info) -> JSON {
        .object([
            "user_id": .string(user.uuidString.lowercased()), "status": .string(info.status.rawValue),
            "last_seen": info.lastSeen.map { .string(ISO8601.string($0)) } ?? .null,
        ])
    }

    func sessionInfo(_ principal: Principal) -> JSON {
        .object([
            "user_id": .string(principal.id.uuidString.lowercased()), "role": .string(principal.role.rawValue),
            "epoch": .string(self.log.epoch), "last_seq": .number(Double(self.log.lastSeq(of: principal.id))),
        ])
    }
}

/// Drains the hub when graceful shutdown starts (see `Hub.drain`).
struct DrainService: Service {
    let hub: Hub

    func run() async throws {
        try? await gracefulShutdown()
        await self.hub.drain()
    }
}

/// ISO 8601 UTC timestamps with milliseconds, as the REST API writes them.
enum ISO8601 {
    static func string(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
