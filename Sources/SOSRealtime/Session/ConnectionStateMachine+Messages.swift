import Foundation
import SOSDomain

extension ConnectionStateMachine {
    // MARK: - Client messages

    /// A message from the client.
    mutating func received(_ inbound: Inbound, now: Date = Date()) -> [Action] {
        switch self.state {
        case .awaitingAuth:
            return self.firstMessage(inbound)
        case .authenticating:
            var actions: [Action] = []
            self.enqueueInbound(inbound, into: &actions)
            return actions
        case .authenticated:
            var inbound = inbound
            if case .frame(let frame) = inbound, !self.takeToken(now: now) { inbound = .rateLimited(id: frame.id) }
            var actions: [Action] = []
            self.enqueueInbound(inbound, into: &actions)
            self.processInbox(into: &actions)
            return actions
        case .closing, .closed:
            return []
        }
    }

    /// A command finished: its frames (replayed events, then the ack or error) go out, and `renewed` replaces the
    /// principal after a successful re-`auth`. The next waiting message is taken up.
    mutating func commandFinished(_ frames: [Outgoing], renewed: Principal? = nil) -> [Action] {
        guard case .authenticated(let principal, busy: true) = self.state else { return [] }  // step: closed meanwhile: dropped
        let current = renewed ?? principal
        if renewed != nil { self.registered = current }
        self.state = .authenticated(current, busy: false)
        var actions: [Action] = []
        for frame in frames {
            self.emit(frame, into: &actions)
            if case .closing = self.state { return actions }
        }
        self.processInbox(into: &actions)
        return actions
    }

    /// An event for this socket (from the registry's fan-out). While the token is checked it waits behind `ready`.
    mutating func deliver(_ frame: Outgoing) -> [Action] {
        var actions: [Action] = []
        switch self.state {
        case .authenticating:
            if !self.outbound.enqueue(frame) { actions = self.slowConsumer() }
        case .authenticated:
            self.emit(frame, into: &actions)
        case .awaitingAuth, .closing, .closed:
            break
        }
        return actions
    }

    /// The socket's writability changed: what waited goes out once it is writable.
    mutating func writabilityChanged(_ writable: Bool) -> [Action] {
        self.writable = writable
        guard writable, case .authenticated = self.state else { return [] }
        var actions: [Action] = []
        self.flushOutbound(into: &actions)
        return actions
    }

    // MARK: - Helpers

    /// Before authentication only `auth` is accepted; a malformed or binary message is answered and forgiven.
    mutating func firstMessage(_ inbound: Inbound) -> [Action] {
        switch inbound {
        case .malformed, .rateLimited:
            return [.write(.text(Self.malformedError))]
        case .binary:
            return [.write(.text(Self.binaryError))]
        case .frame(let frame):
            guard frame.type == "auth" else {
                return self.close(code: HubCloseCode.unauthorized, reason: "Authenticate first: {\"type\":\"auth\",\"data\":{\"token\":\"…\"}}", flush: true)
            }
            guard let token = frame.data?.string("token"), !token.isEmpty else {
                return self.close(code: HubCloseCode.unauthorized, reason: "The auth message needs data.token", flush: true)
            }
            self.state = .authenticating(replyId: frame.id, viaMessage: true)
            return [.authenticate(token: token)]
        }
    }

    mutating func takeToken(now: Date) -> Bool {
        self.bucket.take(now: now)
    }

    mutating func enqueueInbound(_ inbound: Inbound, into actions: inout [Action]) {
        self.inbox.append(inbound)
        if !self.readsPaused, self.inboxCount >= self.limits.inboxPause {
            self.readsPaused = true
            actions.append(.pauseReading)
        }
    }

    mutating func dequeueInbound() -> Inbound? {
        guard self.inboxHead < self.inbox.count else { return nil }
        let inbound = self.inbox[self.inboxHead]
        self.inboxHead += 1
        if self.inboxHead == self.inbox.count {
            self.inbox.removeAll(keepingCapacity: self.inbox.count <= 64)
            self.inboxHead = 0
        }
        return inbound
    }

    /// Answers waiting messages in order until one needs a command (then `busy` until `commandFinished`).
    mutating func processInbox(into actions: inout [Action]) {
        while case .authenticated(let principal, busy: false) = self.state, let inbound = self.dequeueInbound() {
            switch inbound {
            case .malformed:
                self.emit(.text(Self.malformedError), into: &actions)
            case .binary:
                self.emit(.text(Self.binaryError), into: &actions)
            case .rateLimited(let id):
                self.emit(.text(Frames.error(id: id, code: "rate_limited", message: "Too many messages; at most \(self.limits.ratePerSecond) per second.")), into: &actions)
            case .frame(let frame) where frame.type == "ping":
                self.emit(.text(Frames.pong(id: frame.id)), into: &actions)
            case .frame(let frame):
                self.state = .authenticated(principal, busy: true)
                actions.append(.run(frame, principal))
            }
        }
        if self.readsPaused, self.inboxCount <= self.limits.inboxResume, self.state != .closed {
            self.readsPaused = false
            actions.append(.resumeReading)
        }
    }

    /// Straight to the socket while it is writable and nothing waits; otherwise into the bounded queue.
    mutating func emit(_ frame: Outgoing, into actions: inout [Action]) {
        if self.writable, self.outbound.isEmpty {
            actions.append(.write(frame))
        } else if !self.outbound.enqueue(frame) {
            actions += self.slowConsumer()
        }
    }

    mutating func flushOutbound(into actions: inout [Action]) {
        guard self.writable else { return }
        actions += self.outbound.removeAll().map(Action.write)
    }

    /// The queue overflowed: what waits is dropped (the consumer would not take it) and the socket closes with 4008.
    mutating func slowConsumer() -> [Action] {
        guard self.state != .closing, self.state != .closed else { return [] }
        return [.countSlowConsumer] + self.close(code: HubCloseCode.slowConsumer, reason: "Slow consumer: outbound queue full", flush: false)
    }

    static let malformedError = Frames.error(id: nil, code: "bad_request", message: "Frames must be JSON objects like {\"type\": \"ping\", \"id\": \"1\"}.")
    static let binaryError = Frames.error(id: nil, code: "bad_request", message: "Send JSON text frames; binary frames are not used.")
}
