import Foundation

/// Per-user event sequence numbers and the recent events, for `resume`.
///
/// Sequence numbers belong to this node, and `epoch` names a stretch of the log known to be complete: the node's run,
/// until the broker reports a gap (events from other nodes may have been missed), which starts a new epoch. A client
/// that resumes on another node, from an earlier epoch, or after the retention window, gets `resume_gap` and
/// refetches over REST. What is kept is bounded three ways:
/// per user by count (`perUser`) and by bytes (`bytesPerUser`), and for the whole node by bytes (`bytesTotal`,
/// dropping the oldest events of anyone first), so no client can make the log grow memory without limit.
/// A value owned by the `ConnectionRegistry` actor (which serializes every use), so it needs no lock of its own.
struct EventLog: Sendable {
    private struct UserLog {
        var lastSeq = 0
        /// The kept events, oldest first, from `head` (earlier slots are dropped lazily and compacted).
        var entries: [(seq: Int, frame: String, at: Date)] = []
        var head = 0
        var bytes = 0

        var count: Int { self.entries.count - self.head }
        var first: (seq: Int, frame: String, at: Date)? { self.head < self.entries.count ? self.entries[self.head] : nil }

        /// Drops the oldest kept event; returns its size in bytes.
        mutating func dropFirst() -> Int {
            let size = self.entries[self.head].frame.utf8.count
            self.head += 1
            self.bytes -= size
            if self.head > 64, self.head * 2 > self.entries.count {
                self.entries.removeFirst(self.head)
                self.head = 0
            }
            return size
        }
    }

    private var logs: [UUID: UserLog] = [:]
    /// Every kept event in the order it was appended, for dropping the node's oldest first.
    private var order: [(user: UUID, seq: Int)] = []
    private var orderHead = 0
    private var totalBytes = 0
    private(set) var epoch: String
    private let firstEpoch: String
    private var gaps = 0
    let retention: TimeInterval
    let perUser: Int
    let bytesPerUser: Int
    let bytesTotal: Int

    init(epoch: String, retention: TimeInterval, perUser: Int, bytesPerUser: Int = 256 << 10, bytesTotal: Int = 64 << 20) {
        self.epoch = epoch
        self.firstEpoch = epoch
        self.retention = retention
        self.perUser = perUser
        self.bytesPerUser = bytesPerUser
        self.bytesTotal = bytesTotal
    }

    /// Gives the event the user's next sequence number and keeps the frame; returns the frame.
    mutating func append(user: UUID, type: String, renderedData: String, now: Date = Date()) -> String {
        var log = self.logs[user] ?? UserLog()
        log.lastSeq += 1
        let frame = Frames.event(type: type, seq: log.lastSeq, renderedData: renderedData)
        let size = frame.utf8.count
        log.entries.append((log.lastSeq, frame, now))
        log.bytes += size
        self.totalBytes += size
        self.order.append((user, log.lastSeq))
        while log.count > 1, log.count > self.perUser || log.bytes > self.bytesPerUser {
            self.totalBytes -= log.dropFirst()
        }
        self.logs[user] = log
        self.shedOldest()
        return frame
    }

    /// While the node keeps more than `bytesTotal`, drops the oldest events of any user.
    private mutating func shedOldest() {
        while self.totalBytes > self.bytesTotal, self.orderHead < self.order.count {
            let (user, seq) = self.order[self.orderHead]
            self.orderHead += 1
            if var log = self.logs[user], let first = log.first, first.seq == seq {
                self.totalBytes -= log.dropFirst()
                self.logs[user] = log
            }
        }
        self.compactOrder()
    }

    private mutating func compactOrder() {
        if self.orderHead > 1024, self.orderHead * 2 > self.order.count {
            self.order.removeFirst(self.orderHead)
            self.orderHead = 0
        }
    }

    func lastSeq(of user: UUID) -> Int {
        self.logs[user]?.lastSeq ?? 0
    }

    /// True when the user has a log here (received events since it was last pruned).
    func knows(_ user: UUID) -> Bool {
        self.logs[user] != nil
    }

    /// Bytes of event frames kept on this node (for tests and metrics).
    var keptBytes: Int { self.totalBytes }

    /// Starts a new epoch: cursors given before now no longer resume (sequence numbers go on from where they are).
    mutating func startEpochAfterGap() {
        self.gaps += 1
        self.epoch = "\(self.firstEpoch).\(self.gaps)"
    }

    /// The frames after `seq`, or nil when some of them are no longer kept (a gap).
    func replay(user: UUID, after seq: Int, now: Date = Date()) -> [String]? {
        guard let log = self.logs[user] else { return seq == 0 ? [] : nil }
        guard seq <= log.lastSeq else { return nil }
        if seq == log.lastSeq { return [] }
        let kept = log.entries[log.head...].filter { now.timeIntervalSince($0.at) <= self.retention }
        guard let first = kept.first, first.seq <= seq + 1 else { return nil }
        return kept.filter { $0.seq > seq }.map(\.frame)
    }

    /// Drops expired entries, and whole logs of users who are gone (not in `keep`) once all entries expired.
    mutating func prune(keep: Set<UUID>, now: Date = Date()) {
        for (user, var log) in self.logs {
            while let first = log.first, now.timeIntervalSince(first.at) > self.retention {
                self.totalBytes -= log.dropFirst()
            }
            if log.count == 0 && !keep.contains(user) {
                self.logs[user] = nil
            } else {
                self.logs[user] = log
            }
        }
        // step: forget the append order of events that are gone, so it never outgrows what is kept
        self.order = self.order[self.orderHead...].filter { entry in
            guard let first = self.logs[entry.user]?.first else { return false }
            return entry.seq >= first.seq
        }
        self.orderHead = 0
    }
}
