import Foundation
import NIOCore
import SOSDomain
import Synchronization

/// One hub connection (Centrifuge's Client). It owns the connection's `ConnectionStateMachine`, feeds it what the
/// socket and the hub report, and performs the actions it returns: writes and closes on the socket, and tasks for the
/// token check and for commands, which exist only while they run. An idle connection is this object, its state
/// machine and the channel's handlers: no task, no buffer, no compression state.
public final class ClientSession: WebSocketEndpoint, @unchecked Sendable {
    // @unchecked: the mutable state is only touched on `eventLoop`: the socket's callbacks arrive there, and every
    // call from elsewhere (`close`, fan-out batches, task completions) hops there first.
    private static let nextId = Atomic<UInt64>(1)

    /// Unique on this node (an event's `origin`, so the sender's socket is skipped).
    public let id: UInt64
    let eventLoop: any EventLoop
    let hub: Hub
    let bearer: String?
    /// Whether the socket negotiated permessage-deflate (frames for it are sent compressed).
    let deflates: Bool
    private var machine: ConnectionStateMachine
    private var connection: WebSocketConnectionHandler?
    private var authTimer: Scheduled<Void>?

    init(hub: Hub, eventLoop: any EventLoop, bearer: String?, deflates: Bool) {
        self.id = Self.nextId.add(1, ordering: .relaxed).oldValue
        self.hub = hub
        self.eventLoop = eventLoop
        self.bearer = bearer
        self.deflates = deflates
        self.machine = ConnectionStateMachine(limits: hub.configuration.sessionLimits)
    }

    // MARK: - From the socket (on the event loop)

    public func connected(_ connection: WebSocketConnectionHandler) {
        self.connection = connection
        let admitted = self.bearer != nil || self.hub.admitPending()
        self.perform(self.machine.opened(bearer: self.bearer, admitted: admitted))
        if case .awaitingAuth = self.machine.state {
            self.authTimer = self.eventLoop.scheduleTask(in: .milliseconds(Int64(self.hub.configuration.authTimeout * 1000))) { [self] in
                self.perform(self.machine.authTimedOut())
            }
        }
    }

    public func received(_ message: WebSocketMessage) {
        let inbound: ConnectionStateMachine.Inbound
        switch message {
        case .text(let text):
            self.hub.counters.messagesIn.add(1, ordering: .relaxed)
            inbound = ClientFrame.parse(text).map { .frame($0) } ?? .malformed
        case .binary: inbound = .binary
        }
        self.perform(self.machine.received(inbound, now: Date()))
    }

    public func writabilityChanged(_ writable: Bool) {
        self.perform(self.machine.writabilityChanged(writable))
    }

    public func shutdownRequested() {
        self.perform(self.machine.closeRequested(code: HubCloseCode.goingAway, reason: "Server shutting down; reconnect shortly"))
    }

    public func disconnected() {
        self.perform(self.machine.disconnected())
        self.connection = nil
    }

    // MARK: - From the hub (any thread)

    /// Closes the socket with `code` (once); frames already handed over go out first, except to a slow consumer.
    func close(code: UInt16, reason: String) {
        self.onLoop { $0.perform($0.machine.closeRequested(code: code, reason: reason)) }
    }

    /// An event frame from the registry's fan-out, on this session's event loop.
    func deliverOnLoop(_ frame: WireFrame) {
        self.perform(self.machine.deliver(.frame(frame)))
    }

    private func onLoop(_ body: @escaping @Sendable (ClientSession) -> Void) {
        if self.eventLoop.inEventLoop {
            body(self)
        } else {
            self.eventLoop.execute { body(self) }
        }
    }

    // MARK: - Actions

    private func perform(_ actions: [ConnectionStateMachine.Action]) {
        for action in actions {
            switch action {
            case .write(let outgoing):
                self.hub.counters.messagesOut.add(1, ordering: .relaxed)
                switch outgoing {
                case .text(let text): self.connection?.write(WireFrame.text(text, deflate: self.deflates))
                case .frame(let frame): self.connection?.write(frame)
                }
            case .authenticate(let token):
                self.authenticate(token)
            case .run(let frame, let principal):
                self.run(frame, principal)
            case .close(let code, let reason):
                self.connection?.close(code: code, reason: reason)
            case .unregister(let principal):
                let hub = self.hub
                Task { await hub.unregister(self, principal) }
            case .releasePendingSlot:
                self.hub.releasePending()
            case .cancelAuthTimeout:
                self.authTimer?.cancel()
                self.authTimer = nil
            case .pauseReading:
                self.connection?.pauseReading()
            case .resumeReading:
                self.connection?.resumeReading()
            case .countSlowConsumer:
                if case .authenticated(let principal, _) = self.machine.state { self.hub.countSlowConsumer(principal) } else { self.hub.countSlowConsumer(nil) }
            }
        }
    }

    /// Checks the token and registers the session (a task while it runs), then tells the state machine.
    private func authenticate(_ token: String) {
        let hub = self.hub
        Task {
            do {
                let principal = try await hub.dependencies.auth.authenticate(bearer: token)
                let info = await hub.register(self, principal)
                self.onLoop { $0.perform($0.machine.authSucceeded(principal, info: info)) }
            } catch {
                let reason = HubError(error).message
                self.onLoop { $0.perform($0.machine.authFailed(reason: reason)) }
            }
        }
    }

    /// Runs one command (a task while it runs), then hands its frames to the state machine.
    private func run(_ frame: ClientFrame, _ principal: Principal) {
        let hub = self.hub
        guard !hub.isDraining else {
            let refusal = Frames.error(id: frame.id, code: "unavailable", message: "The server is shutting down; reconnect in a moment.")
            return self.perform(self.machine.commandFinished([.text(refusal)]))
        }
        hub.commandStarted()
        Task {
            let outcome = await Commands(hub: hub).run(frame, session: self, principal: principal)
            self.onLoop { $0.perform($0.machine.commandFinished(outcome.frames, renewed: outcome.renewed)) }
            hub.commandEnded()
        }
    }
}
