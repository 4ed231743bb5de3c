import Foundation

/// SOS requests, their offers and doctors' on-call states.
public protocol DispatchRepository: Sendable {
    func onCall(doctorId: UUID) async throws -> OnCallStatus?
    func saveOnCall(_ status: OnCallStatus) async throws
    /// On-call doctors matching the query's SQL filters (`CandidateQuery`), through the location index.
    func candidates(_ query: CandidateQuery) async throws -> [SOSCandidate]

    func insert(_ request: SOSRequest) async throws
    func find(id: UUID) async throws -> SOSRequest?
    /// Saves `request` as version `expectedVersion + 1` if the stored one is still `expectedVersion`; false otherwise.
    func update(_ request: SOSRequest, expectedVersion: Int) async throws -> Bool
    /// The atomic first accept: one conditional write that succeeds only while the request is open, nobody has it,
    /// the doctor holds an offer he did not decline and has no other active case. nil when it did not succeed.
    func accept(requestId: UUID, doctorId: UUID, kind: SOSKind, at: Date) async throws -> SOSRequest?

    func addOffers(_ offers: [SOSOffer]) async throws
    func offers(requestId: UUID) async throws -> [SOSOffer]
    /// Marks the doctor's offer declined; false when he had no undeclined offer.
    func decline(requestId: UUID, doctorId: UUID, at: Date) async throws -> Bool
    /// After a hand-back: forgets the offers nobody declined (they may be offered again) and declines `doctorId`'s.
    func reopenOffers(requestId: UUID, handedBackBy doctorId: UUID, at: Date) async throws
    /// A doctor's undeclined offers of requests that are still open.
    func openOffers(doctorId: UUID) async throws -> [(SOSRequest, SOSOffer)]

    /// Open requests whose next wave or timeout is due, oldest first.
    func due(at now: Date, limit: Int) async throws -> [SOSRequest]
    /// Requests in `states` within the scope, newest first.
    func list(_ scope: SOSScope, states: [SOSState], limit: Int) async throws -> [SOSRequest]
}

/// Who is connected to the hub on any node (online or away): offers go only to doctors who can see them now.
public protocol PresenceDirectory: Sendable {
    func connected(among users: [UUID]) async -> Set<UUID>
}
