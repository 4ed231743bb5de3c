import Foundation
import SOSDomain

/// This node's authenticated connections by user, and which users are admins (they receive `includeAdmins` events).
final class ConnectionRegistry: @unchecked Sendable {
    // @unchecked: `byUser`, `admins` are only touched while holding `lock`.
    private let lock = NSLock()
    private var byUser: [UUID: [String: ClientSession]] = [:]
    private var admins: Set<UUID> = []

    /// Registers an authenticated session; true when it is the user's first on this node.
    func add(_ session: ClientSession, user: User) -> Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        let first = self.byUser[user.id]?.isEmpty ?? true
        self.byUser[user.id, default: [:]][session.id] = session
        if AccessPolicy.allows(.readWholeClinic, user.role) { self.admins.insert(user.id) }
        return first
    }

    /// Removes a session; true when it was the user's last on this node.
    func remove(_ session: ClientSession, userId: UUID) -> Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        guard self.byUser[userId]?.removeValue(forKey: session.id) != nil else { return false }
        if self.byUser[userId]?.isEmpty == true {
            self.byUser[userId] = nil
            self.admins.remove(userId)
            return true
        }
        return false
    }

    func sessions(of userId: UUID) -> [ClientSession] {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.byUser[userId].map { Array($0.values) } ?? []
    }

    func isConnected(_ userId: UUID) -> Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.byUser[userId] != nil
    }

    var adminIds: Set<UUID> {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.admins
    }

    var all: [ClientSession] {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.byUser.values.flatMap(\.values)
    }

    var connectedUsers: [UUID] {
        self.lock.lock()
        defer { self.lock.unlock() }
        return Array(self.byUser.keys)
    }

    var count: Int {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.byUser.values.reduce(0) { $0 + $1.count }
    }
}
