import Foundation
import SOSDomain

/// Presence states sent to clients.
public enum PresenceStatus: String, Sendable, Codable {
    case online
    case away
    case offline
}

/// Who is online across all nodes (Centrifuge's PresenceManager): each node reports its users' states through the
/// broker; a node that stops sending heartbeats is forgotten (its users go offline) after `nodeTimeout`.
actor PresenceStore {
    struct Info: Equatable, Sendable {
        var status: PresenceStatus
        var lastSeen: Date?
    }

    /// A user whose presence changed.
    struct Change: Sendable {
        let user: UUID
        let before: Info
        let after: Info
    }

    private var states: [UUID: [String: PresenceStatus]] = [:]
    private var lastSeen: [UUID: Date] = [:]
    private var nodes: [String: Date] = [:]
    let nodeTimeout: TimeInterval

    init(nodeTimeout: TimeInterval) {
        self.nodeTimeout = nodeTimeout
    }

    /// The user's presence across nodes: online if any node has them online, away if only away.
    func info(_ user: UUID) -> Info {
        self.effective(user)
    }

    /// Applies one node's report for a user; returns the change (before and after).
    func apply(user: UUID, node: String, status: PresenceStatus, at: Date) -> Change {
        let before = self.effective(user)
        self.nodes[node] = max(self.nodes[node] ?? at, at)
        if status == .offline {
            self.states[user]?[node] = nil
            if self.states[user]?.isEmpty == true { self.states[user] = nil }
        } else {
            self.states[user, default: [:]][node] = status
        }
        self.lastSeen[user] = at
        return Change(user: user, before: before, after: self.effective(user))
    }

    /// Records a node heartbeat.
    func heartbeat(node: String, at: Date) {
        self.nodes[node] = at
    }

    /// Forgets what `node` reported for users other than `keeping` (its full report starts); returns the changes.
    func forget(node: String, keeping: Set<UUID>, at: Date) -> [Change] {
        let states = self.states  // a copy: `withdraw` changes `states`
        return states.compactMap { user, byNode in
            byNode[node] != nil && !keeping.contains(user) ? self.withdraw(user, from: [node], at: at) : nil
        }
    }

    /// Forgets nodes silent for longer than the timeout; returns users whose presence changed.
    func expireNodes(now: Date) -> [Change] {
        let dead = Set(self.nodes.filter { now.timeIntervalSince($0.value) > self.nodeTimeout }.keys)
        guard !dead.isEmpty else { return [] }
        for node in dead { self.nodes[node] = nil }
        let states = self.states  // a copy: `withdraw` changes `states`
        return states.compactMap { user, byNode in
            dead.isDisjoint(with: byNode.keys) ? nil : self.withdraw(user, from: dead, at: now)
        }
    }

    /// Drops what `nodes` reported for `user` (offline there since `at`); the change, if his presence changed.
    private func withdraw(_ user: UUID, from nodes: Set<String>, at: Date) -> Change? {
        let before = self.effective(user)
        self.states[user] = self.states[user]?.filter { !nodes.contains($0.key) }
        if self.states[user]?.isEmpty == true {
            self.states[user] = nil
            self.lastSeen[user] = at
        }
        let after = self.effective(user)
        return before != after ? Change(user: user, before: before, after: after) : nil
    }

    private func effective(_ user: UUID) -> Info {
        let statuses = self.states[user].map { Array($0.values) } ?? []
        let status: PresenceStatus = statuses.contains(.online) ? .online : statuses.contains(.away) ? .away : .offline
        return Info(status: status, lastSeen: self.lastSeen[user])
    }
}
