import Foundation
import Testing

@testable import SOSRealtime

/// What the hub keeps for `resume` and for slow sockets is bounded in bytes, not only in entries.
@Suite("Hub memory bounds: event log and socket queues")
struct EventLogTests {
    @Test("Per user the log keeps at most its byte budget, newest first; resuming past what was dropped is a gap")
    func perUserBytes() {
        var log = EventLog(epoch: "e", retention: 600, perUser: 256, bytesPerUser: 10_000, bytesTotal: 1 << 30)
        let user = UUID()
        let data = "\"" + String(repeating: "x", count: 1000) + "\""
        for _ in 0..<50 { _ = log.append(user: user, type: "appointment.updated", renderedData: data) }
        #expect(log.keptBytes <= 10_000, "\(log.keptBytes)")
        #expect(log.keptBytes > 8_000, "it keeps as much as fits")
        #expect(log.replay(user: user, after: 49)?.count == 1)
        #expect(log.replay(user: user, after: 45)?.count == 5)
        #expect(log.replay(user: user, after: 10) == nil, "the oldest were dropped: resume_gap")
    }

    @Test("The whole node keeps at most its byte ceiling, dropping the oldest events of anyone first")
    func totalCeiling() {
        var log = EventLog(epoch: "e", retention: 600, perUser: 256, bytesPerUser: 1 << 20, bytesTotal: 50_000)
        let data = "\"" + String(repeating: "y", count: 900) + "\""
        let early = UUID()
        for _ in 0..<10 { _ = log.append(user: early, type: "chat.message", renderedData: data) }
        let users = (0..<100).map { _ in UUID() }
        for user in users { _ = log.append(user: user, type: "chat.message", renderedData: data) }
        #expect(log.keptBytes <= 50_000, "\(log.keptBytes)")
        #expect(log.replay(user: early, after: 0) == nil, "the earliest user's events went first")
        #expect(log.replay(user: users.last!, after: 0)?.count == 1, "the newest are kept")
        #expect(log.lastSeq(of: early) == 10, "sequence numbers survive trimming")
        log.prune(keep: Set(users), now: Date().addingTimeInterval(601))
        #expect(log.keptBytes == 0)
        #expect(!log.knows(early))
    }

    @Test("A broker gap starts a new epoch each time; sequence numbers go on and the kept events still replay")
    func epochAfterGap() {
        var log = EventLog(epoch: "node-1", retention: 600, perUser: 256)
        let user = UUID()
        for _ in 0..<3 { _ = log.append(user: user, type: "chat.message", renderedData: "{}") }
        log.startEpochAfterGap()
        let second = log.epoch
        #expect(second != "node-1")
        log.startEpochAfterGap()
        #expect(log.epoch != second && log.epoch != "node-1")
        #expect(log.lastSeq(of: user) == 3)
        #expect(log.append(user: user, type: "chat.message", renderedData: "{}").contains(#""seq":4"#))
        #expect(log.replay(user: user, after: 3)?.count == 1)
    }

    @Test("A node's first snapshot chunk replaces what it reported before: users it no longer lists go offline there")
    func snapshotReplaces() async {
        let presence = PresenceStore(nodeTimeout: 45)
        let (stays, left, elsewhere) = (UUID(), UUID(), UUID())
        let now = Date()
        _ = await presence.apply(user: stays, node: "b", status: .online, at: now)
        _ = await presence.apply(user: left, node: "b", status: .online, at: now)
        _ = await presence.apply(user: elsewhere, node: "b", status: .online, at: now)
        _ = await presence.apply(user: elsewhere, node: "c", status: .away, at: now)
        let changes = await presence.forget(node: "b", keeping: [stays], at: now)
        #expect(Set(changes.map(\.user)) == [left, elsewhere])
        #expect(await presence.info(stays).status == .online)
        #expect(await presence.info(left).status == .offline)
        #expect(await presence.info(elsewhere).status == .away, "still away on node c")
    }

    @Test("A socket queue refuses frames beyond its byte budget (the hub then closes it with 4008)")
    func queueBytes() {
        var queue = OutboundQueue(capacity: 512, maxBytes: 10_000)
        let frame = String(repeating: "z", count: 3000)
        let taken = (0..<3).map { _ in queue.enqueue(frame) }
        #expect(taken == [true, true, true])
        let fourth = queue.enqueue(frame)
        #expect(!fourth, "a fourth 3 KB frame would pass 10 KB")
        let small = queue.enqueue("small")
        #expect(small, "what still fits is taken")
    }
}
