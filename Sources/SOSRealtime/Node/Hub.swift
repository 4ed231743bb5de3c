import Foundation
import Logging
import NIOCore
import SOSDomain
import ServiceLifecycle

/// The real-time hub of this node (Centrifuge's Node): it owns the parts and wires them, and is the domain's
/// `EventPublisher`. Every event goes through the broker and comes back to every node, which delivers it to the local
/// connections allowed to see it.
///
/// Parts, one job each: `ConnectionRegistry` (this node's authenticated connections by user, fan-out, the event log),
/// `PresenceStore` (who is online on any node), `ClientSession` (one connection's state machine and commands),
/// `ConnectionLoops` (every open socket per event loop: heartbeats, shutdown), the `Broker` (in-memory or PostgreSQL,
/// in `SOSStorage`), and `Relationships` (who may hear whose presence, shared with chat).
public final class Hub: Service, EventPublisher, Sendable {
    public let nodeId: String
    let configuration: HubConfiguration
    let dependencies: HubDependencies
    let broker: any Broker
    let logger: Logger
    let registry: ConnectionRegistry
    let presence: PresenceStore
    /// Every open WebSocket of this node, per event loop (the upgrade adds connections there).
    public let loops: ConnectionLoops
    let counters = HubCounters()

    /// `eventLoopGroup` is the server's: its loops serve the sockets.
    public init(configuration: HubConfiguration = HubConfiguration(), dependencies: HubDependencies, broker: any Broker, logger: Logger,
                eventLoopGroup: any EventLoopGroup, nodeId: String = UUID().uuidString.lowercased()) {
        self.nodeId = nodeId
        self.configuration = configuration
        self.dependencies = dependencies
        self.broker = broker
        self.logger = logger
        self.registry = ConnectionRegistry(log: EventLog(
            epoch: "\(nodeId)-\(Int(Date().timeIntervalSince1970))", retention: configuration.retention, perUser: configuration.eventsPerUser,
            bytesPerUser: configuration.eventBytesPerUser, bytesTotal: configuration.eventBytesTotal
        ), counters: self.counters)
        self.presence = PresenceStore(nodeTimeout: configuration.heartbeat * 3)
        self.loops = ConnectionLoops(group: eventLoopGroup, pingInterval: .milliseconds(Int64(configuration.pingInterval * 1000)))
    }

    /// Authenticated connections on this node (for tests and metrics).
    public var connectionCount: Int { self.counters.connections.load(ordering: .relaxed) }

    /// Connections closed with 4008 since start (for tests and metrics).
    public var slowConsumerCount: Int { self.counters.slowConsumers.load(ordering: .relaxed) }

    /// What `/metrics` shows of this node's hub.
    public struct Statistics: Sendable {
        public let connections: Int
        public let pendingAuthentication: Int
        public let slowConsumersClosed: Int
        public let messagesIn: Int
        public let messagesOut: Int
        public let resumeGaps: Int
        public let brokerGaps: Int
    }

    public var statistics: Statistics {
        Statistics(
            connections: self.counters.connections.load(ordering: .relaxed), pendingAuthentication: self.counters.pending.load(ordering: .relaxed),
            slowConsumersClosed: self.counters.slowConsumers.load(ordering: .relaxed), messagesIn: self.counters.messagesIn.load(ordering: .relaxed),
            messagesOut: self.counters.messagesOut.load(ordering: .relaxed), resumeGaps: self.counters.resumeGaps.load(ordering: .relaxed),
            brokerGaps: self.counters.brokerGaps.load(ordering: .relaxed)
        )
    }

    var isDraining: Bool { self.counters.draining.load(ordering: .relaxed) }

    /// A session for a socket just upgraded on `eventLoop` (`bearer`: the upgrade's `Authorization` token).
    public func makeSession(on eventLoop: any EventLoop, bearer: String?, deflates: Bool) -> ClientSession {
        ClientSession(hub: self, eventLoop: eventLoop, bearer: bearer, deflates: deflates)
    }

    /// The WebSocket settings of the hub's sockets (and of the development echo).
    public var maxMessageBytes: Int { self.configuration.maxMessageBytes }
    public var socketSendBuffer: Int? { self.configuration.socketSendBuffer }
    public var closeTimeout: TimeAmount { .milliseconds(Int64(self.configuration.closeTimeout * 1000)) }

    // MARK: - Service

    /// Delivers what the broker brings, keeps presence alive, and on graceful shutdown closes every socket with 1001.
    public func run() async throws {
        let messages = await self.broker.messages()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await delivery in messages.cancelOnGracefulShutdown() {
                    switch delivery {
                    case .message(let message): await self.handleBroker(message)
                    case .gap: await self.recoverFromGap()
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: .seconds(5)) } catch { return }
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

    /// Graceful shutdown: stops taking commands, lets those in flight finish (up to `timeout`), then closes every
    /// socket with 1001 and waits (up to the close timeout) until they are closed. Run it before the HTTP server
    /// stops (see `DrainService`).
    public func drain(timeout: Duration = .seconds(5)) async {
        self.counters.draining.store(true, ordering: .relaxed)
        let deadline = ContinuousClock.now + timeout
        while self.counters.inFlight.load(ordering: .relaxed) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        self.loops.shutDownAll()
        let closed = ContinuousClock.now + .milliseconds(Int64(self.configuration.closeTimeout * 1000) + 200)
        while await self.loops.count() > 0, ContinuousClock.now < closed {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// A service that drains the hub when shutdown starts. Place it after the application in the service group:
    /// services stop in reverse order, so sockets close with 1001 before the HTTP server closes them.
    public var drainService: some Service { DrainService(hub: self) }

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

    /// Sends a short-lived event (typing, signaling) to users; it carries no `seq` and is not replayed.
    func publishEphemeral(type: String, to users: [UUID], data: JSON) async {
        await self.send(Envelope(kind: .event, node: self.nodeId, type: type, users: users, admins: false, ephemeral: true), data: Frames.text(data))
    }

    /// Events are delivered to this node's sockets at once and sent to the other nodes through the broker;
    /// presence, revocations and node messages all go through the broker (this node included), in order.
    func send(_ envelope: Envelope, data: String?) async {
        if envelope.kind == .event {
            // step: stored already; other nodes get it in order without this caller waiting for the NOTIFY
            await self.deliver(envelope, data: data ?? "null", local: true)
            if self.broker.reachesOtherNodes { self.broker.post(envelope.encoded(data: data)) }
            return
        }
        do {
            try await self.broker.publish(envelope.encoded(data: data))
        } catch {
            self.logger.error("Broker publish failed", metadata: ["type": "\(envelope.type ?? envelope.kind.rawValue)", "error": "\(error)"])
        }
    }

    /// Hands an event to the registry's fan-out; an appointment change first makes its people's relations be asked
    /// again (a booking or a cancellation changes who may chat with and hear whom).
    func deliver(_ envelope: Envelope, data: String, local: Bool) async {
        guard let type = envelope.type else { return }
        if type.hasPrefix("appointment."), let users = envelope.users { self.dependencies.relationships.forget(users) }
        // step: the sender's own socket gets its ack, not the event (only meaningful on the node it came from)
        let origin = local ? envelope.origin.flatMap(UInt64.init) : nil
        await self.registry.deliver(
            type: type, users: envelope.users ?? [], includeAdmins: envelope.admins == true, except: origin, renderedData: data,
            ephemeral: envelope.ephemeral == true
        )
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
