/// Who may move an appointment from which status to which (documented in protocol/appointment-states.md).
///
/// `completed` and `cancelled` are final. Only staff or the payment flow record a payment outcome. Staff confirm an
/// unpaid booking that will be paid at the clinic (`pending_payment → confirmed`): it then holds its slot for good.
public enum AppointmentStateMachine {
    /// The party asking for a transition, as the rules distinguish them.
    public enum Actor: Sendable, Hashable {
        case patient
        case doctor
        /// Admins, superadmins and secretaries (for their doctors).
        case staff
        /// The payment flow (provider confirmations, webhooks).
        case payments
    }

    /// Every allowed transition and who may make it.
    public static let transitions: [AppointmentStatus: [AppointmentStatus: Set<Actor>]] = [
        .pendingPayment: [
            .paymentCompleted: [.staff, .payments],
            .paymentFailed: [.staff, .payments],
            .confirmed: [.staff],
            .cancelled: [.patient, .doctor, .staff, .payments],
        ],
        .paymentFailed: [
            .pendingPayment: [.patient, .staff, .payments],
            .paymentCompleted: [.staff, .payments],
            .confirmed: [.staff],
            .cancelled: [.patient, .doctor, .staff],
        ],
        .paymentCompleted: [
            .confirmed: [.doctor, .staff],
            .cancelled: [.patient, .doctor, .staff],
            .pendingPayment: [.staff, .payments],
        ],
        .confirmed: [
            .inProgress: [.doctor, .staff],
            .cancelled: [.patient, .doctor, .staff],
        ],
        .inProgress: [
            .completed: [.doctor, .staff],
            .cancelled: [.doctor, .staff],
        ],
        .completed: [:],
        .cancelled: [:],
    ]

    /// Checks one transition; throws 409 for one the machine does not have, 403 for the wrong party.
    public static func check(from: AppointmentStatus, to: AppointmentStatus, by actor: Actor) throws {
        guard from != to else { return }
        guard let allowed = Self.transitions[from]?[to] else {
            let next = (Self.transitions[from] ?? [:]).keys.map(\.rawValue).sorted()
            let hint = next.isEmpty ? "'\(from.rawValue)' is final." : "From '\(from.rawValue)' it can go to: \(next.joined(separator: ", "))."
            throw DomainError.conflict("An appointment cannot go from '\(from.rawValue)' to '\(to.rawValue)'. \(hint)")
        }
        guard allowed.contains(actor) else {
            throw DomainError.forbidden("You may not move an appointment from '\(from.rawValue)' to '\(to.rawValue)'.")
        }
    }
}
