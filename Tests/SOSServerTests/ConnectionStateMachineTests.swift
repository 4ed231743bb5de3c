import Foundation
import SOSDomain
import Testing

@testable import SOSRealtime

/// Every transition of one connection's life, on the state machine alone (no socket, no server).
@Suite("Hub connection state machine")
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine
    typealias Action = ConnectionStateMachine.Action

    static let principal = Principal(
        user: User(email: "doc@test.com", name: "Doc", role: .doctor, createdAt: Date(), updatedAt: Date()), tokenKey: "k1",
        tokenExpiresAt: Date().addingTimeInterval(900)
    )
    static let info = #"{"user_id":"u"}"#

    static func frame(_ type: String, id: String? = nil, data: JSON? = nil) -> Machine.Inbound {
        .frame(ClientFrame(type: type, id: id, data: data))
    }

    /// A machine already authenticated through the header token.
    static func authenticated(_ limits: Machine.Limits = .init()) -> Machine {
        var machine = Machine(limits: limits)
        _ = machine.opened(bearer: "t", admitted: true)
        _ = machine.authSucceeded(Self.principal, info: Self.info)
        return machine
    }

    static func writes(_ actions: [Action]) -> [String] {
        actions.compactMap {
            guard case .write(let outgoing) = $0 else { return nil }
            switch outgoing {
            case .text(let text): return text
            case .frame(let frame):
                // step: the payload after the two header bytes of a short frame
                var payload = frame.plain
                payload.moveReaderIndex(forwardBy: 2)
                return String(buffer: payload)
            }
        }
    }

    static func event(_ text: String) -> Machine.Outgoing {
        .frame(WireFrame.text(text, deflate: false))
    }

    // MARK: - Opening

    @Test("A header token is checked at once; without one the socket waits for auth, or is refused with 1013 when too many wait")
    func opening() {
        var header = Machine(limits: .init())
        #expect(header.opened(bearer: "tok", admitted: false) == [.authenticate(token: "tok")])
        #expect(header.state == .authenticating(replyId: nil, viaMessage: false))

        var waiting = Machine(limits: .init())
        #expect(waiting.opened(bearer: nil, admitted: true) == [])
        #expect(waiting.state == .awaitingAuth)

        var refused = Machine(limits: .init())
        let actions = refused.opened(bearer: nil, admitted: false)
        #expect(actions == [.close(code: 1013, reason: "Too many connections waiting to authenticate; retry shortly")])
        #expect(refused.state == .closing)
    }

    @Test("Before auth: malformed and binary messages are answered, anything but auth closes 4001, auth starts the token check")
    func firstMessage() {
        var machine = Machine(limits: .init())
        _ = machine.opened(bearer: nil, admitted: true)
        #expect(Self.writes(machine.received(.malformed)).first?.contains("bad_request") == true)
        #expect(Self.writes(machine.received(.binary)).first?.contains("binary") == true)
        #expect(machine.state == .awaitingAuth)
        #expect(machine.received(Self.frame("auth", id: "a1", data: .object(["token": .string("tok")]))) == [.authenticate(token: "tok")])
        #expect(machine.state == .authenticating(replyId: "a1", viaMessage: true))

        var early = Machine(limits: .init())
        _ = early.opened(bearer: nil, admitted: true)
        let closed = early.received(Self.frame("chat.send"))
        #expect(closed.last == .close(code: 4001, reason: "Authenticate first: {\"type\":\"auth\",\"data\":{\"token\":\"…\"}}"))
        #expect(closed.contains(.releasePendingSlot) && closed.contains(.cancelAuthTimeout))
        #expect(early.state == .closing)

        var tokenless = Machine(limits: .init())
        _ = tokenless.opened(bearer: nil, admitted: true)
        #expect(tokenless.received(Self.frame("auth", data: .object([:]))).last == .close(code: 4001, reason: "The auth message needs data.token"))
    }

    @Test("An auth message is acked; the pending place and the timer are given back; a bad token closes 4001")
    func authentication() {
        var machine = Machine(limits: .init())
        _ = machine.opened(bearer: nil, admitted: true)
        _ = machine.received(Self.frame("auth", id: "a1", data: .object(["token": .string("tok")])))
        let actions = machine.authSucceeded(Self.principal, info: Self.info)
        #expect(actions.prefix(2) == [.cancelAuthTimeout, .releasePendingSlot])
        #expect(Self.writes(actions) == [#"{"data":{"user_id":"u"},"id":"a1","type":"ack"}"#])
        #expect(machine.state == .authenticated(Self.principal, busy: false))

        var header = Machine(limits: .init())
        _ = header.opened(bearer: "tok", admitted: false)
        #expect(Self.writes(header.authSucceeded(Self.principal, info: Self.info)) == [#"{"data":{"user_id":"u"},"seq":null,"type":"ready"}"#])

        var bad = Machine(limits: .init())
        _ = bad.opened(bearer: "tok", admitted: false)
        #expect(bad.authFailed(reason: "Invalid token") == [.close(code: 4001, reason: "Invalid token")])
        #expect(bad.state == .closing)
    }

    @Test("While the token is checked, messages wait and events wait behind ready, in order")
    func duringAuthentication() {
        var machine = Machine(limits: .init())
        _ = machine.opened(bearer: "tok", admitted: false)
        #expect(machine.received(Self.frame("ping", id: "p1")) == [])
        #expect(machine.deliver(Self.event("E1")) == [])
        let actions = machine.authSucceeded(Self.principal, info: Self.info)
        let written = Self.writes(actions)
        #expect(written.count == 3)
        #expect(written[0].contains("ready") && written[1] == "E1" && written[2].contains("pong"))
    }

    @Test("No auth in time closes 4001; the timeout means nothing once authenticated")
    func authTimeout() {
        var machine = Machine(limits: .init())
        _ = machine.opened(bearer: nil, admitted: true)
        #expect(machine.authTimedOut().last == .close(code: 4001, reason: "Authenticate within 10 seconds"))
        var done = Self.authenticated()
        #expect(done.authTimedOut() == [])
    }

    @Test("Closed during auth: the late token answer unregisters the session instead of serving it")
    func closeDuringAuth() {
        var machine = Machine(limits: .init())
        _ = machine.opened(bearer: nil, admitted: true)
        _ = machine.received(Self.frame("auth", data: .object(["token": .string("tok")])))
        #expect(machine.disconnected() == [.cancelAuthTimeout, .releasePendingSlot])
        #expect(machine.state == .closed)
        #expect(machine.authSucceeded(Self.principal, info: Self.info) == [.unregister(Self.principal)])
        #expect(machine.authFailed(reason: "late") == [])
    }

    // MARK: - Commands

    @Test("One command at a time, in arrival order; pings and refusals wait their turn")
    func commandsInOrder() {
        var machine = Self.authenticated()
        let send = ClientFrame(type: "chat.send", id: "c1", data: nil)
        #expect(machine.received(.frame(send)) == [.run(send, Self.principal)])
        #expect(machine.state == .authenticated(Self.principal, busy: true))
        let second = ClientFrame(type: "chat.send", id: "c2", data: nil)
        #expect(machine.received(Self.frame("ping", id: "p")) == [])
        #expect(machine.received(.frame(second)) == [])
        let actions = machine.commandFinished([.text("ACK1")])
        #expect(Self.writes(actions).count == 2)
        #expect(Self.writes(actions).first == "ACK1")
        #expect(actions.last == .run(second, Self.principal))
        #expect(machine.commandFinished([.text("ACK2")]) == [.write(.text("ACK2"))])
        #expect(machine.state == .authenticated(Self.principal, busy: false))
    }

    @Test("Closed during a pending command: the session is unregistered and the command's answer dropped")
    func closeDuringCommand() {
        var machine = Self.authenticated()
        _ = machine.received(Self.frame("chat.send", id: "c1"))
        #expect(machine.disconnected() == [.unregister(Self.principal)])
        #expect(machine.commandFinished([.text("ACK")]) == [])
        #expect(machine.disconnected() == [], "only once")
    }

    @Test("Revoked while a command runs: closed 4001 at once, the answer dropped, unregistered when the socket is gone")
    func revocationDuringCommand() {
        var machine = Self.authenticated()
        _ = machine.received(Self.frame("chat.send", id: "c1"))
        #expect(machine.closeRequested(code: 4001, reason: "Session revoked") == [.close(code: 4001, reason: "Session revoked")])
        #expect(machine.state == .closing)
        #expect(machine.commandFinished([.text("ACK")]) == [])
        #expect(machine.received(Self.frame("ping")) == [])
        #expect(machine.deliver(Self.event("E")) == [])
        #expect(machine.closeRequested(code: 4001, reason: "again") == [])
        #expect(machine.disconnected() == [.unregister(Self.principal)])
    }

    @Test("A re-auth replaces the principal; the renewed one is unregistered at the end")
    func renewal() {
        var machine = Self.authenticated()
        _ = machine.received(Self.frame("auth", id: "a2", data: .object(["token": .string("fresh")])))
        var renewed = Self.principal
        renewed.tokenKey = "k2"
        _ = machine.commandFinished([.text("ACK")], renewed: renewed)
        #expect(machine.state == .authenticated(renewed, busy: false))
        #expect(machine.disconnected() == [.unregister(renewed)])
    }

    @Test("The rate budget: a burst, then rate_limited errors in order")
    func rateLimit() {
        var limits = Machine.Limits()
        limits.rateBurst = 2
        limits.ratePerSecond = 1
        let now = Date()
        var machine = Self.authenticated(limits)
        _ = machine.received(Self.frame("ping", id: "1"), now: now)
        _ = machine.received(Self.frame("ping", id: "2"), now: now)
        let third = Self.writes(machine.received(Self.frame("ping", id: "3"), now: now))
        #expect(third.first?.contains("rate_limited") == true && third.first?.contains("at most 1 per second") == true)
        #expect(Self.writes(machine.received(Self.frame("ping", id: "4"), now: now.addingTimeInterval(1.1))).first?.contains("pong") == true)
    }

    @Test("Reading pauses when many messages wait behind a command and resumes once they are answered")
    func inboxBackPressure() {
        var machine = Self.authenticated()
        _ = machine.received(Self.frame("chat.send", id: "c0"))
        var actions: [Action] = []
        for index in 1...40 { actions += machine.received(Self.frame("ping", id: "p\(index)")) }
        #expect(actions == [.pauseReading])
        #expect(machine.commandFinished([.text("ACK")]).last == .resumeReading)
    }

    // MARK: - Outbound and back-pressure

    @Test("While the socket is not writable frames wait in order and go out when it is again")
    func writability() {
        var machine = Self.authenticated()
        #expect(machine.writabilityChanged(false) == [])
        #expect(machine.deliver(Self.event("E1")) == [])
        #expect(machine.deliver(Self.event("E2")) == [])
        #expect(Self.writes(machine.writabilityChanged(true)) == ["E1", "E2"])
        #expect(Self.writes(machine.deliver(Self.event("E3"))) == ["E3"])
    }

    @Test("Slow consumer: the queue full in frames (or bytes) closes 4008 and drops what waited")
    func slowConsumer() {
        var limits = Machine.Limits()
        limits.queueCapacity = 3
        var machine = Self.authenticated(limits)
        _ = machine.writabilityChanged(false)
        for index in 1...3 { #expect(machine.deliver(Self.event("E\(index)")) == []) }
        let actions = machine.deliver(Self.event("E4"))
        #expect(actions == [.countSlowConsumer, .close(code: 4008, reason: "Slow consumer: outbound queue full")])
        #expect(machine.state == .closing)
        #expect(machine.writabilityChanged(true) == [])

        limits.queueCapacity = 512
        limits.queueBytes = 1_000
        var bytes = Self.authenticated(limits)
        _ = bytes.writabilityChanged(false)
        let big = String(repeating: "x", count: 600)
        #expect(bytes.deliver(Self.event(big)) == [])
        #expect(bytes.deliver(Self.event(big)).first == .countSlowConsumer)
    }

    @Test("A close flushes what waited ahead of the close frame (the acks of finished commands)")
    func closeFlushes() {
        var machine = Self.authenticated()
        _ = machine.writabilityChanged(false)
        _ = machine.deliver(Self.event("E1"))
        let actions = machine.closeRequested(code: 1001, reason: "Server shutting down; reconnect shortly")
        #expect(Self.writes(actions) == ["E1"])
        #expect(actions.last == .close(code: 1001, reason: "Server shutting down; reconnect shortly"))
    }
}
