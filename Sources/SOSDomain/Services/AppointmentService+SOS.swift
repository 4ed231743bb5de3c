import Foundation

extension AppointmentService {
    /// The appointment an accepted SOS case becomes: starting now on the doctor's clock for an hour, at his fee for
    /// the kind, at the patient's location, made by the patient and `confirmed` (both sides agreed by asking and
    /// accepting). A confirmed appointment has no hold (`settleHold`), and the state machine never takes it back to
    /// an unpaid status, so the hold sweep cannot cancel it while the doctor is on the way: it is paid at or after
    /// the visit, like a clinic booking staff confirmed.
    public func bookDispatched(patientId: UUID, doctor: Doctor, kind: SOSKind, symptoms: [String], location: SOSLocation, requestId: UUID) async throws -> Appointment {
        let zone = try WallClock.timeZone(doctor.profile.timeZone)
        let now = self.now()
        let date = LocalDate.today(in: zone, now: now)
        let parts = Calendar(identifier: .gregorian).dateComponents(in: zone, from: now)
        guard let start = LocalTime(hour: parts.hour ?? 0, minute: parts.minute ?? 0), let end = LocalTime(seconds: min(start.seconds + 3600, 86_399)) else {
            throw DomainError.invalid("Cannot place the SOS appointment on the doctor's clock.")
        }
        let type = kind.consultationType
        guard let fee = doctor.profile.fee(for: type) else {
            // going on call checks the fees; this is a doctor who removed one since
            throw DomainError.conflict("You have no fee for '\(type.rawValue)' consultations, so this SOS case cannot become an appointment; set one in your profile.")
        }
        let appointment = Appointment(
            patientId: patientId, doctorId: doctor.user.id, date: date, startTime: start, endTime: end, status: .confirmed, consultationType: type,
            symptoms: symptoms, additionalNote: "SOS request \(requestId.uuidString.lowercased())",
            visitLocation: .object([
                "latitude": .number(location.latitude), "longitude": .number(location.longitude), "place": .string(location.place),
                "country": .string(location.country),
            ]),
            startsAt: WallClock.instant(date, start, in: zone), endsAt: WallClock.instant(date, end, in: zone), createdAt: now, updatedAt: now,
            bookedBy: patientId, patientAcceptance: .accepted, holdExpiresAt: nil, fee: fee
        )
        switch try await self.appointments.insert(appointment, unpaidLimit: nil, idempotency: nil) {
        case .saved: break
        case .slotTaken: throw DomainError.conflict("You have an appointment at this time, so you cannot take this SOS case; it goes to another doctor.")
        default: throw DomainError.conflict("The SOS appointment could not be booked; try again.")
        }
        try await self.notifications.notify(
            [patientId, doctor.user.id], type: "appointment.created", title: "SOS appointment",
            body: "\(type.rawValue.capitalized) SOS consultation with \(doctor.user.name) now (\(fee.text)); payment at or after the visit.",
            data: .object(["appointment_id": .string(appointment.id.uuidString.lowercased())])
        )
        await self.publish("appointment.created", appointment)
        return appointment
    }

    /// Cancels the appointment of an SOS case that was cancelled or handed back (unless it already ended).
    public func endDispatched(id: UUID, reason: String) async throws {
        guard let current = try await self.appointments.find(id: id), current.status != .cancelled, current.status != .completed else { return }
        guard try await self.cancelOnItsOwn(current, reason: reason, at: self.now()) else {
            throw DomainError.stale("appointment", version: current.version)
        }
    }
}
