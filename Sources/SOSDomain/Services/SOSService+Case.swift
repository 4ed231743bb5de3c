import Foundation

/// What the doctor who has the case reports (`POST /sos/:id/status`).
public enum SOSDoctorStatus: String, DomainEnum {
    case onTheWay = "on_the_way"
    case arrived
    case closed

    var state: SOSState {
        switch self {
        case .onTheWay: .onTheWay
        case .arrived: .arrived
        case .closed: .closed
        }
    }
}

extension SOSService {
    /// The first accept wins: one conditional write decides (`DispatchRepository.accept`); everyone else is told
    /// the case is taken (409). The winner's case becomes a confirmed appointment, and the other offered doctors
    /// get `sos.taken`.
    public func accept(_ principal: Principal, id: UUID, kind requested: SOSKind? = nil) async throws -> SOSCase {
        try AccessPolicy.require(.goOnCall, principal)
        guard let request = try await self.dispatch.find(id: id),
              let offer = try await self.dispatch.offers(requestId: id).first(where: { $0.doctorId == principal.id }) else {
            throw DomainError.notFound("No SOS offer for you with id \(id.uuidString.lowercased()).")
        }
        guard offer.declinedAt == nil else { throw DomainError.conflict("You declined this SOS request.") }
        let kind = requested ?? offer.kind
        guard request.kinds.contains(kind) || kind == offer.kind else {
            throw DomainError.invalid("The patient accepts only: \(request.kinds.map(\.rawValue).joined(separator: ", ")).")
        }
        let now = self.now()
        guard var won = try await self.dispatch.accept(requestId: id, doctorId: principal.id, kind: kind, at: now) else {
            throw try await self.acceptRefusal(id: id)
        }
        let appointment: Appointment
        do {
            guard let doctor = try await self.doctors.find(id: principal.id) else { throw DomainError.notFound("No doctor with id \(principal.id).") }
            appointment = try await self.appointments.bookDispatched(
                patientId: won.patientId, doctor: doctor, kind: kind, symptoms: won.symptoms, location: won.location, requestId: won.id
            )
        } catch {
            // step: the case cannot become an appointment (e.g. the doctor is booked now): it goes back to the search
            try await self.restartSearch(won, by: principal.id, reason: nil, now: now)
            throw error
        }
        var linked = won
        linked.appointmentId = appointment.id
        guard let stored = try await self.store(linked, over: won) else {
            // step: the patient cancelled between the accept and this write: the appointment goes too
            try await self.appointments.endDispatched(id: appointment.id, reason: "The SOS request was cancelled while it was being accepted.")
            throw DomainError.conflict("The patient cancelled this SOS request while you accepted it.")
        }
        won = stored
        let others = try await self.dispatch.offers(requestId: id).filter { $0.declinedAt == nil && $0.doctorId != principal.id }.map(\.doctorId)
        await self.publish("sos.taken", .taken(requestId: id), to: Set(others))
        return try await self.announce(won)
    }

    /// Why an accept lost: taken by another doctor, ended, or the doctor already has an active case.
    private func acceptRefusal(id: UUID) async throws -> DomainError {
        guard let current = try await self.dispatch.find(id: id) else { return DomainError.notFound("No SOS request with id \(id.uuidString.lowercased()).") }
        if current.acceptedDoctorId != nil || current.state.isActive {
            return DomainError(.conflict, message: "Taken", details: "Another doctor accepted this SOS request first.")
        }
        if current.state.isFinal { return DomainError.conflict("This SOS request is '\(current.state.rawValue)'; it can no longer be accepted.") }
        return DomainError.conflict("You already have an active SOS case; close or hand it back first.")
    }

    /// A doctor declines an offer; when every offered doctor has declined, the next wave goes out at once.
    public func decline(_ principal: Principal, id: UUID) async throws {
        try AccessPolicy.require(.goOnCall, principal)
        guard try await self.dispatch.decline(requestId: id, doctorId: principal.id, at: self.now()) else {
            throw DomainError.notFound("No SOS offer for you with id \(id.uuidString.lowercased()).")
        }
        guard let request = try await self.dispatch.find(id: id), request.state == .searching,
              try await self.dispatch.offers(requestId: id).allSatisfy({ $0.declinedAt != nil }) else { return }
        _ = try await self.advance(request, now: self.now())
    }

    /// The patient cancels; an appointment the case became is cancelled too, and offered doctors are told.
    public func cancel(_ principal: Principal, id: UUID, reason: String?) async throws -> SOSCase {
        let request = try await self.visible(principal, id: id)
        let reason = try InputLimits.text(reason, field: "reason", limit: InputLimits.shortText)
        guard principal.id == request.patientId else { throw DomainError.forbidden("Only the patient cancels his SOS request.") }
        try SOSStateMachine.check(from: request.state, to: .cancelled, by: .patient)
        var next = request
        next.state = .cancelled
        next.nextStepAt = nil
        next.reason = reason ?? "Cancelled by the patient."
        next.updatedAt = self.now()
        guard let cancelled = try await self.store(next, over: request) else { throw DomainError.stale("SOS request", version: request.version) }
        if let appointment = request.appointmentId {
            try await self.appointments.endDispatched(id: appointment, reason: "The patient cancelled the SOS request.")
        }
        if request.state.isOpen { try await self.withdraw(cancelled) }
        return try await self.announce(cancelled)
    }

    /// The doctor who has the case gives it back: the appointment is cancelled and matching starts again without him.
    public func handBack(_ principal: Principal, id: UUID, reason: String?) async throws -> SOSCase {
        let request = try await self.visible(principal, id: id)
        let reason = try InputLimits.text(reason, field: "reason", limit: InputLimits.shortText)
        guard request.acceptedDoctorId == principal.id else { throw DomainError.forbidden("Only the doctor who accepted the case hands it back.") }
        try SOSStateMachine.check(from: request.state, to: .searching, by: .doctor)
        let restarted = try await self.restartSearch(request, by: principal.id, reason: reason ?? "Handed back by the doctor.", now: self.now())
        return try await self.announce(restarted)
    }

    /// The doctor's progress: on the way (with an estimate), arrived, closed.
    public func report(_ principal: Principal, id: UUID, status: SOSDoctorStatus, etaMinutes: Int?) async throws -> SOSCase {
        let request = try await self.visible(principal, id: id)
        guard request.acceptedDoctorId == principal.id else { throw DomainError.forbidden("Only the doctor who accepted the case reports its status.") }
        if status == .onTheWay {
            guard let eta = etaMinutes, (1...600).contains(eta) else { throw DomainError.invalid("'eta_minutes' (1…600) is required with 'on_the_way'.") }
        }
        try SOSStateMachine.check(from: request.state, to: status.state, by: .doctor)
        var next = request
        next.state = status.state
        next.etaMinutes = status == .onTheWay ? etaMinutes : nil
        next.updatedAt = self.now()
        guard let reported = try await self.store(next, over: request) else { throw DomainError.stale("SOS request", version: request.version) }
        return try await self.announce(reported)
    }

    /// Who hears the doctor's position while he is on the way (the patient); the position itself is only relayed.
    public func positionAudience(_ principal: Principal, id: UUID, latitude: Double, longitude: Double) async throws -> UUID {
        let request = try await self.visible(principal, id: id)
        guard request.acceptedDoctorId == principal.id, request.state == .accepted || request.state == .onTheWay else {
            throw DomainError.conflict("Only the doctor who has the case shares his position, while on the way.")
        }
        try Self.validate(latitude: latitude, longitude: longitude)
        return request.patientId
    }

    /// Puts an accepted case back to `searching` without `doctorId` (his offer declined, his appointment cancelled),
    /// then sends the first wave of the new search.
    @discardableResult
    func restartSearch(_ request: SOSRequest, by doctorId: UUID, reason: String?, now: Date) async throws -> SOSRequest {
        var next = request
        next.state = .searching
        next.acceptedDoctorId = nil
        next.acceptedKind = nil
        next.appointmentId = nil
        next.etaMinutes = nil
        next.wave = 0
        next.searchRadiusKm = nil
        next.searchStartedAt = now
        next.nextStepAt = now
        next.reason = reason
        next.updatedAt = now
        guard let restarted = try await self.store(next, over: request) else { throw DomainError.stale("SOS request", version: request.version) }
        try await self.dispatch.reopenOffers(requestId: request.id, handedBackBy: doctorId, at: now)
        if let appointment = request.appointmentId {
            try await self.appointments.endDispatched(id: appointment, reason: "The doctor handed the SOS case back.")
        }
        return try await self.offerWave(restarted, now: now) ?? restarted
    }
}
