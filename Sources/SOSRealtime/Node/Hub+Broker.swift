import Foundation
import SOSDomain

extension Hub {
    /// One message from the broker: an event from another node, a revocation, a presence report, a heartbeat, or a
    /// starting node's request for presence.
    func handleBroker(_ message: String) async {
        // step: this node delivered its own events when they were sent
        if let (kind, node) = Envelope.peek(message), kind == Envelope.Kind.event.rawValue, node == self.nodeId { return }
        guard let (envelope, data) = Envelope.decode(message) else {
            self.logger.warning("Dropped a malformed broker message")
            return
        }
        switch envelope.kind {
        case .event:
            guard envelope.node != self.nodeId else { return }
            await self.deliver(envelope, data: data ?? "null", local: false)
        case .revoke:
            let reason = envelope.type.flatMap(RevocationReason.init(rawValue:)) ?? .signedOut
            for user in envelope.users ?? [] {
                for session in await self.registry.sessions(of: user, tokenKey: envelope.tokenKey) {
                    session.close(code: HubCloseCode.unauthorized, reason: reason.closeReason)
                }
            }
        case .presence:
            guard let user = envelope.users?.first, let status = envelope.status else { return }
            let change = await self.presence.apply(user: user, node: envelope.node, status: status, at: envelope.at ?? Date())
            if change.before.status != change.after.status { await self.announcePresence(user, change.after) }
        case .heartbeat:
            await self.presence.heartbeat(node: envelope.node, at: envelope.at ?? Date())
        case .sync:
            guard envelope.node != self.nodeId else { return }
            await self.publishSnapshot()
        case .snapshot:
            guard envelope.node != self.nodeId, let users = envelope.users, let statuses = envelope.statuses, users.count == statuses.count else { return }
            let at = envelope.at ?? Date()
            if envelope.first == true {
                for change in await self.presence.forget(node: envelope.node, keeping: Set(users), at: at) where change.before.status != change.after.status {
                    await self.announcePresence(change.user, change.after)
                }
            }
            for (user, status) in zip(users, statuses) {
                let change = await self.presence.apply(user: user, node: envelope.node, status: status, at: at)
                if change.before.status != change.after.status { await self.announcePresence(user, change.after) }
            }
        }
    }

    /// The broker's listener was lost and is back: events other nodes published meanwhile never came here, and
    /// presence reports may be missing both ways. Tells this node's sockets to refetch (`resume_gap`, a new epoch),
    /// asks the other nodes who is connected there, and tells them who is here.
    func recoverFromGap() async {
        let told = await self.registry.announceGap()
        self.counters.brokerGaps.add(1, ordering: .relaxed)
        self.logger.notice("The broker may have missed messages; sockets told to refetch", metadata: ["sockets": "\(told)"])
        await self.send(Envelope(kind: .sync, node: self.nodeId, at: Date()), data: nil)
        await self.publishSnapshot()
    }

    /// Tells the other nodes who is connected here (answer to a starting node's `sync`), in chunks.
    func publishSnapshot() async {
        let local = await self.registry.localPresence()
        var start = 0
        repeat {
            let chunk = local[start..<min(start + 2_000, local.count)]
            await self.send(Envelope(kind: .snapshot, node: self.nodeId, users: chunk.map(\.0), statuses: chunk.map(\.1), first: start == 0, at: Date()), data: nil)
            start += 2_000
        } while start < local.count
    }

    /// Every 5 seconds: closes sessions whose token expired, prunes the event log, forgets silent nodes.
    func sweep() async {
        let now = Date()
        for session in await self.registry.expired(at: now) {
            session.close(code: HubCloseCode.unauthorized, reason: "Token expired; reconnect with a fresh token")
        }
        await self.registry.prune(now: now)
        for change in await self.presence.expireNodes(now: now) where change.before.status != change.after.status {
            await self.announcePresence(change.user, change.after)
        }
    }
}
