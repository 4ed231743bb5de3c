import Foundation
import SOSDomain

/// The hub's presence as the domain asks for it (SOS offers go only to doctors connected now, on any node).
extension Hub: PresenceDirectory {
    public func connected(among users: [UUID]) async -> Set<UUID> {
        var connected: Set<UUID> = []
        for user in users where await self.presence.info(user).status != .offline { connected.insert(user) }
        return connected
    }
}
