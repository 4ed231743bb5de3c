import Foundation

/// Who may move an SOS request from which state to which (documented in `protocol/sos-states.md`).
public enum SOSStateMachine {
    /// The party asking, as the rules distinguish them.
    public enum Actor: Sendable, Hashable {
        case patient
        /// The doctor who accepted the case.
        case doctor
        /// The matching itself: waves, timeouts, an accept.
        case dispatch
    }

    public static let transitions: [SOSState: [SOSState: Set<Actor>]] = [
        .searching: [.videoFallback: [.dispatch], .accepted: [.dispatch], .cancelled: [.patient], .noDoctor: [.dispatch]],
        .videoFallback: [.accepted: [.dispatch], .cancelled: [.patient], .noDoctor: [.dispatch]],
        .accepted: [.onTheWay: [.doctor], .arrived: [.doctor], .closed: [.doctor], .searching: [.doctor], .cancelled: [.patient]],
        .onTheWay: [.onTheWay: [.doctor], .arrived: [.doctor], .closed: [.doctor], .searching: [.doctor], .cancelled: [.patient]],
        .arrived: [.closed: [.doctor]],
        .closed: [:],
        .cancelled: [:],
        .noDoctor: [:],
    ]

    /// Throws 409 for a transition the machine does not have, 403 for the wrong party.
    public static func check(from: SOSState, to: SOSState, by actor: Actor) throws {
        guard let allowed = Self.transitions[from]?[to] else {
            let next = (Self.transitions[from] ?? [:]).keys.map(\.rawValue).sorted()
            let hint = next.isEmpty ? "'\(from.rawValue)' is final." : "From '\(from.rawValue)' it can go to: \(next.joined(separator: ", "))."
            throw DomainError.conflict("An SOS request cannot go from '\(from.rawValue)' to '\(to.rawValue)'. \(hint)")
        }
        guard allowed.contains(actor) else {
            throw DomainError.forbidden("You may not move an SOS request from '\(from.rawValue)' to '\(to.rawValue)'.")
        }
    }
}
