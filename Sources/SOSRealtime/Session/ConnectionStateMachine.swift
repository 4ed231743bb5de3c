import Foundation
import SOSDomain

/// The life of one hub connection as a value, in the style of PostgresNIO's connection state machines: `ClientSession`
/// tells it what happened — the socket opened, a message arrived, a token check or a command finished, an event is to
/// be delivered, the socket's writability changed, someone wants it closed, the socket is gone — and performs the
/// actions it returns. It decides everything and performs nothing, so every transition is unit-tested on its own.
///
///     awaitingAuth ──auth──▶ authenticating ──ok──▶ authenticated (busy while one command runs)
///          └─ bad first message, timeout ─┴─ bad token ─┴─ revoked, expired, slow, shutdown ─▶ closing ──gone──▶ closed
///
/// Commands run one at a time per connection, in arrival order (what arrives meanwhile waits in `inbox`, and reading
/// pauses when it fills), so a client's burst is stored in the order it was sent. Frames to the client go straight
/// to the socket while it is writable; otherwise they wait in the bounded `outbound` queue, and a socket whose queue
/// overflows (frames or bytes) is closed with 4008.
struct ConnectionStateMachine {
    enum State: Equatable {
        /// Open without a token: the first message must be `auth`.
        case awaitingAuth
        /// A token is being checked: from the upgrade's `Authorization` header (answered by `ready`) or from an `auth`
        /// message (answered by an ack to `replyId`).
        case authenticating(replyId: String?, viaMessage: Bool)
        /// Serving `principal`; `busy` while one of its commands runs.
        case authenticated(Principal, busy: Bool)
        /// The close frame is on its way; nothing else is read or sent.
        case closing
        /// The socket is gone.
        case closed
    }

    /// A client message as the session parsed it.
    enum Inbound: Equatable {
        case frame(ClientFrame)
        /// Not a JSON object with a string `type`.
        case malformed
        case binary
        /// A message over the rate limit (its id), answered in order with `rate_limited`.
        case rateLimited(id: String?)
    }

    /// A frame for the client: text rendered here, or an event frame rendered once for all its recipients.
    enum Outgoing: Equatable {
        case text(String)
        case frame(WireFrame)

        var byteCount: Int {
            switch self {
            case .text(let text): text.utf8.count
            case .frame(let frame): frame.byteCount
            }
        }
    }

    enum Action: Equatable {
        case write(Outgoing)
        /// Check the token (a task), then call `authSucceeded` (registered already) or `authFailed`.
        case authenticate(token: String)
        /// Run the command (a task), then call `commandFinished`.
        case run(ClientFrame, Principal)
        /// Send the close frame (after everything handed to the socket before it).
        case close(code: UInt16, reason: String)
        /// Take the session out of the registry.
        case unregister(Principal)
        /// Give back the place among the sockets waiting to authenticate.
        case releasePendingSlot
        case cancelAuthTimeout
        case pauseReading
        case resumeReading
        /// Count and log a slow consumer (the close follows).
        case countSlowConsumer
    }

    /// What the machine needs to know of the hub's limits.
    struct Limits {
        var queueCapacity = 512
        var queueBytes = 4 << 20
        var rateBurst = 60
        var ratePerSecond = 30
        var authTimeout: TimeInterval = 10
        /// Reading pauses at this many waiting messages and resumes at `inboxResume`.
        var inboxPause = 32
        var inboxResume = 8
    }

    var state: State
    let limits: Limits
    var inbox: [Inbound] = []
    var inboxHead = 0
    var outbound: OutboundQueue
    var writable = true
    var readsPaused = false
    var holdsPendingSlot = false
    /// Who the registry holds this session as (set once `authSucceeded`), so that the close unregisters it.
    var registered: Principal?
    var bucket: TokenBucket

    init(limits: Limits, now: Date = Date()) {
        self.state = .awaitingAuth
        self.limits = limits
        self.outbound = OutboundQueue(capacity: limits.queueCapacity, maxBytes: limits.queueBytes)
        self.bucket = TokenBucket(burst: Double(limits.rateBurst), perSecond: Double(limits.ratePerSecond), now: now)
    }

    var inboxCount: Int { self.inbox.count - self.inboxHead }

    // MARK: - Opening and authentication

    /// The socket is upgraded. With a header token it is checked at once; without, the socket waits for `auth` if it
    /// was `admitted` among the sockets waiting to authenticate, and is refused with 1013 if not.
    mutating func opened(bearer: String?, admitted: Bool) -> [Action] {
        guard case .awaitingAuth = self.state else { return [] }
        if let bearer {
            self.state = .authenticating(replyId: nil, viaMessage: false)
            return [.authenticate(token: bearer)]
        }
        guard admitted else {
            self.state = .closing
            return [.close(code: HubCloseCode.tryAgainLater, reason: "Too many connections waiting to authenticate; retry shortly")]
        }
        self.holdsPendingSlot = true
        return []
    }

    /// The token was good and the session is registered under `principal`; `info` is the session info JSON.
    mutating func authSucceeded(_ principal: Principal, info: String) -> [Action] {
        guard case .authenticating(let replyId, let viaMessage) = self.state else {
            // step: the socket closed while the token was checked; the registry must let go of it
            return [.unregister(principal)]
        }
        self.registered = principal
        self.state = .authenticated(principal, busy: false)
        var actions: [Action] = []
        if self.holdsPendingSlot {
            self.holdsPendingSlot = false
            actions += [.cancelAuthTimeout, .releasePendingSlot]
        }
        // step: `ready` or the ack comes first; events that arrived during the check follow it
        actions.append(.write(.text(viaMessage ? Frames.ack(id: replyId, rawData: info) : Frames.event(type: "ready", seq: nil, renderedData: info))))
        self.flushOutbound(into: &actions)
        self.processInbox(into: &actions)
        return actions
    }

    /// The token was refused (`reason` says why).
    mutating func authFailed(reason: String) -> [Action] {
        guard case .authenticating = self.state else { return [] }
        return self.close(code: HubCloseCode.unauthorized, reason: reason, flush: true)
    }

    /// The time to authenticate ran out.
    mutating func authTimedOut() -> [Action] {
        switch self.state {
        case .awaitingAuth, .authenticating(_, viaMessage: true):
            return self.close(code: HubCloseCode.unauthorized, reason: "Authenticate within \(Int(self.limits.authTimeout)) seconds", flush: true)
        default:
            return []
        }
    }

    // MARK: - Closing

    /// Someone wants the socket closed (revocation, expiry, shutdown, a refusal). Frames already handed over go out
    /// before the close frame.
    mutating func closeRequested(code: UInt16, reason: String) -> [Action] {
        self.close(code: code, reason: reason, flush: true)
    }

    /// The socket is gone (closed by either side, or dropped).
    mutating func disconnected() -> [Action] {
        let before = self.state
        self.state = .closed
        self.inbox = []
        self.inboxHead = 0
        _ = self.outbound.removeAll()
        var actions: [Action] = []
        if self.holdsPendingSlot {
            self.holdsPendingSlot = false
            actions += [.cancelAuthTimeout, .releasePendingSlot]
        }
        if before != .closed, let registered = self.registered {
            self.registered = nil
            actions.append(.unregister(registered))
        }
        return actions
    }

    mutating func close(code: UInt16, reason: String, flush: Bool) -> [Action] {
        switch self.state {
        case .closing, .closed:
            return []
        case .awaitingAuth, .authenticating, .authenticated:
            var actions: [Action] = []
            if flush {
                // step: into the socket's own buffer, ahead of the close frame, whatever its writability
                actions += self.outbound.removeAll().map(Action.write)
            } else {
                _ = self.outbound.removeAll()
            }
            self.state = .closing
            if self.holdsPendingSlot {
                self.holdsPendingSlot = false
                actions += [.cancelAuthTimeout, .releasePendingSlot]
            }
            actions.append(.close(code: code, reason: reason))
            return actions
        }
    }
}

/// A per-connection rate budget: `burst` messages at once, refilled at `perSecond`.
struct TokenBucket: Equatable {
    private var tokens: Double
    private var refilledAt: Date
    let burst: Double
    let perSecond: Double

    init(burst: Double, perSecond: Double, now: Date) {
        self.tokens = burst
        self.refilledAt = now
        self.burst = burst
        self.perSecond = perSecond
    }

    /// Takes one message from the budget; false when the client sends too fast.
    mutating func take(now: Date) -> Bool {
        self.tokens = min(self.burst, self.tokens + max(0, now.timeIntervalSince(self.refilledAt)) * self.perSecond)
        self.refilledAt = now
        guard self.tokens >= 1 else { return false }
        self.tokens -= 1
        return true
    }
}
