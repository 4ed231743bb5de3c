import Synchronization

/// Counts the hub keeps across threads (atomics, no locks): connections, sockets waiting to authenticate, commands in
/// flight, slow consumers closed, messages in and out, resume and broker gaps, and whether the node is draining.
final class HubCounters: Sendable {
    let connections = Atomic<Int>(0)
    let pending = Atomic<Int>(0)
    let inFlight = Atomic<Int>(0)
    let slowConsumers = Atomic<Int>(0)
    /// Text messages received from clients, and frames written to them (replies, events, pongs of the protocol).
    let messagesIn = Atomic<Int>(0)
    let messagesOut = Atomic<Int>(0)
    /// `resume` answered with `resume_gap` (the client must refetch over REST).
    let resumeGaps = Atomic<Int>(0)
    /// Times the broker reported a gap (its listener was lost and came back; sockets were told to refetch).
    let brokerGaps = Atomic<Int>(0)
    let draining = Atomic<Bool>(false)

    /// Takes a place among the sockets waiting to authenticate; false when all `limit` are taken.
    func admitPending(limit: Int) -> Bool {
        var current = self.pending.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = self.pending.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }
}
