import Foundation

extension AppointmentService {
    // MARK: - Changing

    public func update(_ principal: Principal, id: UUID, _ changes: AppointmentChanges) async throws -> Appointment {
        guard let current = try await self.appointments.find(id: id), let actor = AccessPolicy.actor(for: current, principal) else {
            throw DomainError.notFound("No appointment with id \(id.uuidString.lowercased()).")
        }
        if let expected = changes.expectedVersion, expected != current.version {
            throw DomainError.stale("appointment", version: expected)
        }
        guard current.status != .cancelled && current.status != .completed else {
            throw DomainError.conflict("This appointment is '\(current.status.rawValue)', which is final; it cannot be changed. Book a new one instead.")
        }
        var updated = current
        let now = self.now()
        if changes.reschedules {
            guard [.pendingPayment, .paymentFailed, .paymentCompleted, .confirmed].contains(current.status) else {
                throw DomainError.conflict("An appointment that is '\(current.status.rawValue)' cannot be rescheduled.")
            }
            updated.date = changes.date ?? current.date
            updated.startTime = changes.startTime ?? current.startTime
            updated.endTime = changes.endTime ?? current.endTime
            try Self.validateTimes(start: updated.startTime, end: updated.endTime)
            guard let doctor = try await self.doctors.find(id: current.doctorId) else {
                throw DomainError.notFound("The appointment's doctor no longer exists.")
            }
            let zone = try WallClock.timeZone(doctor.profile.timeZone)
            updated.startsAt = WallClock.instant(updated.date, updated.startTime, in: zone)
            updated.endsAt = WallClock.instant(updated.date, updated.endTime, in: zone)
            guard updated.startsAt > now else {
                throw DomainError.invalid("The appointment must start in the future (the doctor's time zone is \(doctor.profile.timeZone)).")
            }
            if actor == .patient {
                try await self.requireAvailability(
                    doctorId: current.doctorId, date: updated.date, start: updated.startTime, end: updated.endTime,
                    type: changes.consultationType ?? current.consultationType
                )
            }
        }
        if let status = changes.status {
            try AppointmentStateMachine.check(from: current.status, to: status, by: actor)
            updated.status = status
            if status == .cancelled {
                updated.cancellationReason = try InputLimits.text(changes.cancellationReason, field: "cancellation_reason", limit: InputLimits.shortText)
                    ?? Self.cancelledBy(actor)
                if actor == .patient && current.patientAcceptance == .pending { updated.patientAcceptance = .declined }
            }
        }
        if let type = changes.consultationType, type != current.consultationType {
            guard current.isUnpaid else {
                throw DomainError.conflict("The consultation type of a paid or confirmed appointment cannot change (its fee was \(current.fee?.text ?? "set")); cancel and book again.")
            }
            guard let doctor = try await self.doctors.find(id: current.doctorId), let fee = doctor.profile.fee(for: type) else {
                throw DomainError.conflict("The doctor has no fee for '\(type.rawValue)' consultations, so the appointment cannot become one.")
            }
            updated.consultationType = type
            updated.fee = fee
        }
        if let symptoms = changes.symptoms { updated.symptoms = try Self.validSymptoms(symptoms) }
        updated.additionalNote = try Self.validNote(changes.additionalNote.applied(to: current.additionalNote))
        updated.visitLocation = try InputLimits.visitLocation(changes.visitLocation.applied(to: current.visitLocation))
        guard updated != current else { return current }
        self.settleHold(&updated, previous: current, now: now)
        updated.updatedAt = now
        let mayCollide = updated.status.holdsSlot && (changes.reschedules || !current.status.holdsSlot)
        let stored = try await self.store(updated, over: current, checkOverlap: mayCollide, limitUnpaid: !current.isUnpaid && updated.isUnpaid)
        try await self.announce(previous: current, updated: stored, by: principal)
        return stored
    }

    /// The patient's answer to a booking that staff or the doctor made for him: accepting it is what lets the
    /// doctor into his care (with a payment, `AccessPolicy.CareRelationship`); declining cancels it. Nobody else can
    /// answer for him.
    public func respond(_ principal: Principal, id: UUID, accept: Bool, reason: String? = nil) async throws -> Appointment {
        guard let current = try await self.appointments.find(id: id), let actor = AccessPolicy.actor(for: current, principal) else {
            throw DomainError.notFound("No appointment with id \(id.uuidString.lowercased()).")
        }
        guard actor == .patient else {
            throw DomainError.forbidden("Only the patient answers a booking made for him; staff and doctors cannot accept or decline it.")
        }
        guard current.patientAcceptance == .pending else {
            throw DomainError.conflict("This booking is already \(current.patientAcceptance.rawValue); there is nothing to \(accept ? "accept" : "decline").")
        }
        var updated = current
        updated.updatedAt = self.now()
        if accept {
            guard current.status != .cancelled else {
                throw DomainError.conflict("This booking was cancelled (\(current.cancellationReason ?? "no reason given")); it can no longer be accepted.")
            }
            updated.patientAcceptance = .accepted
        } else {
            try AppointmentStateMachine.check(from: current.status, to: .cancelled, by: .patient)
            updated.patientAcceptance = .declined
            updated.status = .cancelled
            let why = try InputLimits.text(reason?.trimmingCharacters(in: .whitespacesAndNewlines), field: "reason", limit: InputLimits.shortText)
            updated.cancellationReason = "Declined by the patient" + (why.map { $0.isEmpty ? "." : ": \($0)" } ?? ".")
            self.settleHold(&updated, previous: current, now: updated.updatedAt)
        }
        let stored = try await self.store(updated, over: current, checkOverlap: false, limitUnpaid: accept, accepting: true)
        try await self.announce(previous: current, updated: stored, by: principal)
        return stored
    }

    /// Applies a payment outcome (the payment flow is the actor). A success on a booking already confirmed for payment
    /// at the clinic (or seen) changes nothing; a success on a cancelled booking throws `PaymentOutcomeRefused` so
    /// the payment flow refunds it.
    public func applyPaymentOutcome(appointmentId: UUID, status: AppointmentStatus) async throws {
        guard let current = try await self.appointments.find(id: appointmentId), current.status != status else { return }
        if status == .paymentCompleted || status == .paymentFailed {
            if [.confirmed, .inProgress, .completed].contains(current.status) { return }
            if current.status == .cancelled {
                if status == .paymentCompleted { throw PaymentOutcomeRefused(appointment: current) }
                return
            }
        }
        try AppointmentStateMachine.check(from: current.status, to: status, by: .payments)
        var updated = current
        updated.status = status
        updated.updatedAt = self.now()
        self.settleHold(&updated, previous: current, now: updated.updatedAt)
        _ = try await self.store(updated, over: current, checkOverlap: !current.status.holdsSlot && status.holdsSlot, limitUnpaid: false,
                                 slotTaken: "The appointment's slot was taken while its payment failed; book another slot.")
        try await self.announce(previous: current, updated: updated, by: nil)
    }

    /// A payment at the clinic was chosen for an unpaid booking: it now holds its slot until the clinic's deadline.
    public func holdForClinic(appointmentId: UUID) async throws {
        guard let current = try await self.appointments.find(id: appointmentId), current.isUnpaid else { return }
        let end = self.rules.holdEnd(bookedAt: current.createdAt, startsAt: current.startsAt, route: .clinic)
        guard current.holdExpiresAt != end else { return }
        var updated = current
        updated.holdExpiresAt = end
        updated.updatedAt = self.now()
        _ = try await self.store(updated, over: current, checkOverlap: false, limitUnpaid: false)
        await self.publish("appointment.updated", updated)
    }

    /// Gives the slot of an unpaid booking back once its hold ended: `cancelled` with the reason, both sides told
    /// live. False when it was paid, confirmed or changed meanwhile (compare-and-set: a racing payment wins).
    public func release(_ appointment: Appointment, route: BookingRules.Route) async throws -> Bool {
        let now = self.now()
        guard appointment.isUnpaid, let end = appointment.holdExpiresAt, end <= now else { return false }
        return try await self.cancelOnItsOwn(appointment, reason: self.rules.releaseReason(route: route, holdEnd: end), at: now)
    }

    /// Cancels `current` with `reason` when no one asked (a hold ended, an SOS case ended), both sides told live.
    /// False when it changed meanwhile (compare-and-set on its version).
    func cancelOnItsOwn(_ current: Appointment, reason: String, at now: Date) async throws -> Bool {
        var updated = current
        updated.status = .cancelled
        updated.cancellationReason = reason
        updated.holdExpiresAt = nil
        updated.updatedAt = now
        guard try await self.appointments.update(updated, expectedVersion: current.version, checkOverlap: false, unpaidLimit: nil) == .saved else {
            return false
        }
        updated.version = current.version + 1
        try await self.announce(previous: current, updated: updated, by: nil)
        return true
    }

    // MARK: - Helpers

    /// Keeps `holdExpiresAt` true to the status: none once a booking holds its slot for good (paid, confirmed) or
    /// is over; a new one when it becomes unpaid again; never past the (possibly rescheduled) start.
    func settleHold(_ updated: inout Appointment, previous: Appointment, now: Date) {
        guard updated.isUnpaid else {
            updated.holdExpiresAt = nil
            return
        }
        let end = updated.holdExpiresAt ?? self.rules.holdEnd(bookedAt: now, startsAt: updated.startsAt, route: self.rules.newBookingRoute)
        updated.holdExpiresAt = min(end, updated.startsAt)
    }

    /// Writes a change compare-and-set on the version read, and maps each refusal to what the caller is told.
    func store(_ updated: Appointment, over current: Appointment, checkOverlap: Bool, limitUnpaid: Bool, accepting: Bool = false,
               slotTaken: String? = nil) async throws -> Appointment {
        let limit = limitUnpaid ? UnpaidLimit(maximum: self.rules.maxUnpaidPerPatient, now: self.now()) : nil
        switch try await self.appointments.update(updated, expectedVersion: current.version, checkOverlap: checkOverlap, unpaidLimit: limit) {
        case .saved:
            var stored = updated
            stored.version = current.version + 1
            return stored
        case .stale, .keyTaken:
            throw DomainError.stale("appointment")
        case .slotTaken:
            throw DomainError.conflict(slotTaken ?? "The doctor already has an appointment overlapping \(updated.date) \(updated.startTime)–\(updated.endTime).")
        case .unpaidLimitReached(let maximum):
            throw Self.unpaidLimitError(maximum, accepting: accepting)
        }
    }

    static func cancelledBy(_ actor: AppointmentStateMachine.Actor) -> String {
        switch actor {
        case .patient: "Cancelled by the patient."
        case .doctor: "Cancelled by the doctor."
        case .staff: "Cancelled by the clinic."
        case .payments: "Cancelled by the payment flow."
        }
    }
}

/// A payment succeeded for an appointment that is already cancelled: the money must go back (the payment flow
/// refunds it) rather than revive the booking.
public struct PaymentOutcomeRefused: Error, Sendable {
    public let appointment: Appointment
}
