import Foundation
import SOSDomain

extension Hub {
    /// Registers an authenticated session; the user goes online when it is his first socket here. Returns the
    /// session info (`ready` / the auth ack) as JSON text.
    func register(_ session: ClientSession, _ principal: Principal) async -> String {
        let (first, cursor) = await self.registry.add(session, principal)
        if first {
            await self.send(Envelope(kind: .presence, node: self.nodeId, users: [principal.id], status: .online, at: Date()), data: nil)
        }
        return self.sessionInfo(principal, cursor)
    }

    /// A renewed token for a registered session (re-`auth`).
    func renew(_ session: ClientSession, _ principal: Principal) async -> String {
        await self.registry.update(session, principal)
        return self.sessionInfo(principal, await self.registry.cursor(of: principal.id))
    }

    /// Unregisters a closed session; the user goes offline after the grace period if no socket of his is left.
    func unregister(_ session: ClientSession, _ principal: Principal) async {
        guard await self.registry.remove(session, user: principal.id) else { return }
        let user = principal.id
        try? await Task.sleep(for: .seconds(self.configuration.offlineGrace))
        if await !self.registry.isConnected(user) {
            await self.send(Envelope(kind: .presence, node: self.nodeId, users: [user], status: .offline, at: Date()), data: nil)
        }
    }

    /// Takes a place among the sockets waiting to authenticate (at most `maxPendingSessions`).
    func admitPending() -> Bool {
        self.counters.admitPending(limit: self.configuration.maxPendingSessions)
    }

    func releasePending() {
        self.counters.pending.subtract(1, ordering: .relaxed)
    }

    func countSlowConsumer(_ principal: Principal?) {
        self.counters.slowConsumers.add(1, ordering: .relaxed)
        self.logger.notice("Closing a slow WebSocket consumer", metadata: ["user": "\(principal?.id.uuidString.lowercased() ?? "-")"])
    }

    /// Counts a command while it runs, so that `drain` can wait for it.
    func commandStarted() {
        self.counters.inFlight.add(1, ordering: .relaxed)
    }

    func commandEnded() {
        self.counters.inFlight.subtract(1, ordering: .relaxed)
    }

    // MARK: - Presence

    /// Tells the user's related, connected users about a presence change.
    func announcePresence(_ user: UUID, _ info: PresenceStore.Info) async {
        let related = (try? await self.dependencies.relationships.related(to: user)) ?? []
        guard !related.isEmpty else { return }
        await self.registry.deliver(
            type: "presence.changed", users: Array(related), includeAdmins: false, except: nil,
            renderedData: Frames.text(Self.presenceJSON(user, info)), ephemeral: true
        )
    }

    static func presenceJSON(_ user: UUID, _ info: PresenceStore.Info) -> JSON {
        .object([
            "user_id": .string(user.uuidString.lowercased()), "status": .string(info.status.rawValue),
            "last_seen": info.lastSeen.map { .string(ISO8601.string($0)) } ?? .null,
        ])
    }

    func sessionInfo(_ principal: Principal, _ cursor: ConnectionRegistry.Cursor) -> String {
        Frames.text(.object([
            "user_id": .string(principal.id.uuidString.lowercased()), "role": .string(principal.role.rawValue),
            "epoch": .string(cursor.epoch), "last_seq": .number(Double(cursor.lastSeq)),
        ]))
    }
}
