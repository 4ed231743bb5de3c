import Foundation
import NIOCore
import SOSDomain

/// This node's authenticated connections by user (Centrifuge's Hub), the admins among them, the per-user event log,
/// and the fan-out of one rendered frame to each of a user's sockets. An actor: registration, sequence numbers and
/// delivery are serialized here, so each user's sockets get events in `seq` order; the frames are then handed to the
/// sockets' event loops in one batch per loop, with no task woken per recipient.
actor ConnectionRegistry {
    struct Entry {
        let session: ClientSession
        var principal: Principal
        var away = false
    }

    private var byUser: [UUID: [UInt64: Entry]] = [:]
    private var admins: Set<UUID> = []
    private var log: EventLog
    private let counters: HubCounters

    init(log: EventLog, counters: HubCounters) {
        self.log = log
        self.counters = counters
    }

    /// Where a user's events stand here: the log's epoch and the last `seq` given to him.
    struct Cursor {
        let epoch: String
        let lastSeq: Int
    }

    // MARK: - Membership

    /// Registers an authenticated session; `first` when it is the user's first on this node.
    func add(_ session: ClientSession, _ principal: Principal) -> (first: Bool, cursor: Cursor) {
        let first = self.byUser[principal.id]?.isEmpty ?? true
        self.byUser[principal.id, default: [:]][session.id] = Entry(session: session, principal: principal)
        if AccessPolicy.allows(.readWholeClinic, principal.role) { self.admins.insert(principal.id) }
        self.counters.connections.add(1, ordering: .relaxed)
        return (first, self.cursor(of: principal.id))
    }

    /// A renewed token for a registered session (nothing if it is gone).
    func update(_ session: ClientSession, _ principal: Principal) {
        self.byUser[principal.id]?[session.id]?.principal = principal
    }

    /// Removes a session; true when it was the user's last on this node.
    func remove(_ session: ClientSession, user: UUID) -> Bool {
        guard self.byUser[user]?.removeValue(forKey: session.id) != nil else { return false }
        self.counters.connections.subtract(1, ordering: .relaxed)
        guard self.byUser[user]?.isEmpty == true else { return false }
        self.byUser[user] = nil
        self.admins.remove(user)
        return true
    }

    /// Marks a socket away or not; returns the user's status on this node (online if any socket is not away).
    func setAway(_ session: ClientSession, user: UUID, away: Bool) -> PresenceStatus {
        self.byUser[user]?[session.id]?.away = away
        return self.status(of: user)
    }

    func isConnected(_ user: UUID) -> Bool {
        self.byUser[user] != nil
    }

    /// The user's sessions, only those opened with `tokenKey` when it is given.
    func sessions(of user: UUID, tokenKey: String?) -> [ClientSession] {
        (self.byUser[user]?.values).map { entries in entries.filter { tokenKey == nil || $0.principal.tokenKey == tokenKey }.map(\.session) } ?? []
    }

    /// Sessions whose token expired by `now`.
    func expired(at now: Date) -> [ClientSession] {
        self.byUser.values.flatMap { $0.values.filter { $0.principal.tokenExpiresAt <= now }.map(\.session) }
    }

    /// This node's users with their local status (for a starting node's `sync`).
    func localPresence() -> [(UUID, PresenceStatus)] {
        self.byUser.keys.map { ($0, self.status(of: $0)) }
    }

    private func status(of user: UUID) -> PresenceStatus {
        guard let entries = self.byUser[user] else { return .offline }
        return entries.values.contains { !$0.away } ? .online : .away
    }

    // MARK: - Event log

    func cursor(of user: UUID) -> Cursor {
        Cursor(epoch: self.log.epoch, lastSeq: self.log.lastSeq(of: user))
    }

    /// The events after `seq` of `epoch` (nil `epoch`: this one), or nil when they are not all here (a gap); and where
    /// the user's events stand now. One step, so that no new epoch starts in between.
    func resume(user: UUID, after seq: Int, epoch: String?) -> (replayed: [String]?, cursor: Cursor) {
        let replayed = epoch.map { $0 == self.log.epoch } == false ? nil : self.log.replay(user: user, after: seq)
        return (replayed, self.cursor(of: user))
    }

    /// The broker reported a gap: starts a new epoch and tells every socket here, in a `resume_gap` event with the
    /// new cursor, to refetch what it shows. Returns how many sockets were told.
    func announceGap() -> Int {
        self.log.startEpochAfterGap()
        var batches = LoopBatches()
        var told = 0
        for (user, entries) in self.byUser {
            let cursor = self.cursor(of: user)
            let data = Frames.text(.object([
                "epoch": .string(cursor.epoch), "last_seq": .number(Double(cursor.lastSeq)),
                "reason": .string("Events from other server nodes may have been missed; refetch over REST."),
            ]))
            let text = Frames.event(type: "resume_gap", seq: nil, renderedData: data)
            let frame = WireFrame.text(text, deflate: entries.values.contains { $0.session.deflates })
            for entry in entries.values {
                batches.add(entry.session, frame)
                told += 1
            }
        }
        batches.send()
        return told
    }

    /// Drops expired events, and the logs of users no longer connected once theirs expired.
    func prune(now: Date) {
        self.log.prune(keep: Set(self.byUser.keys), now: now)
    }

    // MARK: - Fan-out

    /// Delivers an event to the sockets of `users` (and of connected admins with `includeAdmins`), except the socket
    /// `except`. Non-ephemeral events get each user's next `seq` and are kept for `resume` — also for users of the
    /// event who are not connected here. The frame is rendered once per user (compressed once if any of that user's
    /// sockets negotiated deflate) and shared by all of that user's sockets.
    func deliver(type: String, users: [UUID], includeAdmins: Bool, except: UInt64?, renderedData: String, ephemeral: Bool) {
        var recipients = Set(users)
        if includeAdmins { recipients.formUnion(self.admins) }
        var batches = LoopBatches()
        for user in recipients {
            let entries = self.byUser[user]
            let text: String
            if ephemeral {
                guard entries != nil else { continue }
                text = Frames.event(type: type, seq: nil, renderedData: renderedData)
            } else {
                guard entries != nil || self.log.knows(user) || users.contains(user) else { continue }
                text = self.log.append(user: user, type: type, renderedData: renderedData)
            }
            guard let entries else { continue }
            let frame = WireFrame.text(text, deflate: entries.values.contains { $0.session.deflates })
            for (id, entry) in entries where id != except {
                batches.add(entry.session, frame)
            }
        }
        batches.send()
    }
}

/// Frames for sockets, grouped by event loop: one `execute` per loop delivers the whole batch there.
struct LoopBatches {
    private var batches: [ObjectIdentifier: (loop: any EventLoop, items: [(ClientSession, WireFrame)])] = [:]

    mutating func add(_ session: ClientSession, _ frame: WireFrame) {
        self.batches[ObjectIdentifier(session.eventLoop), default: (session.eventLoop, [])].items.append((session, frame))
    }

    func send() {
        for (loop, items) in self.batches.values {
            loop.execute {
                for (session, frame) in items { session.deliverOnLoop(frame) }
            }
        }
    }
}
