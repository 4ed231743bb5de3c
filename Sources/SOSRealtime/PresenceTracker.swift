import Foundation
import SOSDomain

/// Presence states sent to clients.
public enum PresenceStatus: String, Sendable, Codable {
    case online
    case away
    case offline
}

/// Who is online across all nodes: each node reports its users' states through the broker; a node that stops
/// sending heartbeats is forgotten (its users go offline) after `nodeTimeout`.
final class PresenceTracker: @unchecked Sendable {
    // @unchecked: `states`, `lastSeen`, `nodes` are only touched while holding `lock`.
    struct Info: Equatable {
        var status: PresenceStatus
        var lastSeen: Date?
    }

    private let lock = NSLock()
    private var states: [UUID: [String: PresenceStatus]] = [:]
    private var lastSeen: [UUID: Date] = [:]
    private var nodes: [String: Date] = [:]
    let nodeTimeout: TimeInterval

    init(nodeTimeout: TimeInterval) {
        self.nodeTimeout = nodeTimeout
    }

    /// The user's presence across nodes: online if any node has them online, away if only away.
    func info(_ user: UUID) -> Info {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.effective(user)
    }

    /// Applies one node's report for a user; returns the user's presence before and after.
    func apply(user: UUID, node: String, status: PresenceStatus, at: Date) -> (before: Info, after: Info) {
        self.lock.lock()
        defer { self.lock.unlock() }
        let before = self.effective(user)
        self.nodes[node] = max(self.nodes[node] ?? at, at)
        if status == .offline {
            self.states[user]?[node] = nil
            if self.states[user]?.isEmpty == true { self.states[user] = nil }
            self.lastSeen[user] = at
        } else {
            self.states[user, default: [:]][node] = status
            self.lastSeen[user] = at
        }
        return (before, self.effective(user))
    }

    /// Records a node heartbeat.
    func heartbeat(node: String, at: Date) {
        self.lock.lock()
        self.nodes[node] = at
        self.lock.unlock()
    }

    /// Forgets nodes silent for longer than the timeout; returns users whose presence changed.
    func expireNodes(now: Date) -> [(user: UUID, before: Info, after: Info)] {
        self.lock.lock()
        defer { self.lock.unlock() }
        let dead = Set(self.nodes.filter { now.timeIntervalSince($0.value) > self.nodeTimeout }.keys)
        guard !dead.isEmpty else { return [] }
        for node in dead { self.nodes[node] = nil }
        var changes: [(UUID, Info, Info)] = []
        for (user, byNode) in self.states where !dead.isDisjoint(with: byNode.keys) {
            let before = self.effective(user)
            self.states[user] = byNode.filter { !dead.contains($0.key) }
            if self.states[user]?.isEmpty == true {
                self.states[user] = nil
                self.lastSeen[user] = now
            }
            let after = self.effective(user)
            if before != after { changes.append((user, before, after)) }
        }
        return changes
    }

    private func effective(_ user: UUID) -> Info {
        let statuses = self.states[user].map { Array($0.values) } ?? []
        let status: PresenceStatus = statuses.contains(.online) ? .online : statuses.contains(.away) ? .away : .offline
        return Info(status: status, lastSeen: self.lastSeen[user])
    }
}
