import Foundation

/// Per-user event sequence numbers and the recent events, for `resume`.
///
/// Sequence numbers belong to this node (`epoch` names the node's run): a client that resumes on another node,
/// or after the retention window, gets `resume_gap` and refetches over REST.
final class EventLog: @unchecked Sendable {
    // @unchecked: `logs` is only touched while holding `lock`.
    private struct UserLog {
        var lastSeq = 0
        /// The newest events; trimmed to `perUser` once it holds twice that many (amortised, mutated in place).
        var entries: [(seq: Int, frame: String, at: Date)] = []

        mutating func record(type: String, renderedData: String, now: Date, perUser: Int) -> String {
            self.lastSeq += 1
            let frame = Frames.event(type: type, seq: self.lastSeq, renderedData: renderedData)
            self.entries.append((self.lastSeq, frame, now))
            if self.entries.count >= 2 * perUser { self.entries.removeFirst(self.entries.count - perUser) }
            return frame
        }
    }

    private let lock = NSLock()
    private var logs: [UUID: UserLog] = [:]
    let epoch: String
    let retention: TimeInterval
    let perUser: Int

    init(epoch: String, retention: TimeInterval, perUser: Int) {
        self.epoch = epoch
        self.retention = retention
        self.perUser = perUser
    }

    /// Gives the event the user's next sequence number and keeps the frame; returns the frame.
    func append(user: UUID, type: String, renderedData: String, now: Date = Date()) -> String {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.logs[user, default: UserLog()].record(type: type, renderedData: renderedData, now: now, perUser: self.perUser)
    }

    func lastSeq(of user: UUID) -> Int {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.logs[user]?.lastSeq ?? 0
    }

    /// True when the user has a log here (received events since it was last pruned).
    func knows(_ user: UUID) -> Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.logs[user] != nil
    }

    /// The frames after `seq`, or nil when some of them are no longer kept (a gap).
    func replay(user: UUID, after seq: Int, now: Date = Date()) -> [String]? {
        self.lock.lock()
        defer { self.lock.unlock() }
        guard let log = self.logs[user] else { return seq == 0 ? [] : nil }
        guard seq <= log.lastSeq else { return nil }
        if seq == log.lastSeq { return [] }
        let kept = log.entries.filter { now.timeIntervalSince($0.at) <= self.retention && $0.seq > log.lastSeq - self.perUser }
        guard let first = kept.first, first.seq <= seq + 1 else { return nil }
        return kept.filter { $0.seq > seq }.map(\.frame)
    }

    /// Drops expired entries, and whole logs of users who are gone (not in `keep`) once all entries expired.
    func prune(keep: Set<UUID>, now: Date = Date()) {
        self.lock.lock()
        defer { self.lock.unlock() }
        for (user, log) in self.logs {
            let kept = log.entries.filter { now.timeIntervalSince($0.at) <= self.retention }
            if kept.isEmpty && !keep.contains(user) {
                self.logs[user] = nil
            } else if kept.count != log.entries.count {
                self.logs[user]?.entries = kept
            }
        }
    }
}
