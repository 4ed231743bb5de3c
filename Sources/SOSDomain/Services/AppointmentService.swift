import Foundation

/// What a client sends to book (`POST /appointments`).
public struct NewAppointment: Sendable {
    public var patientId: UUID?
    public var doctorId: UUID
    public var date: LocalDate
    public var startTime: LocalTime
    public var endTime: LocalTime
    public var consultationType: ConsultationType
    public var symptoms: [String]?
    public var additionalNote: String?
    public var visitLocation: JSON?

    public init(patientId: UUID?, doctorId: UUID, date: LocalDate, startTime: LocalTime, endTime: LocalTime, consultationType: ConsultationType,
                symptoms: [String]? = nil, additionalNote: String? = nil, visitLocation: JSON? = nil) {
        self.patientId = patientId
        self.doctorId = doctorId
        self.date = date
        self.startTime = startTime
        self.endTime = endTime
        self.consultationType = consultationType
        self.symptoms = symptoms
        self.additionalNote = additionalNote
        self.visitLocation = visitLocation
    }
}

extension NewAppointment: IdempotentRequest {
    public var canonicalText: String {
        let fields: [JSON] = [
            .string(self.patientId?.uuidString ?? ""), .string(self.doctorId.uuidString), .string(self.date.description),
            .string(self.startTime.description), .string(self.endTime.description), .string(self.consultationType.rawValue),
            .array((self.symptoms ?? []).map(JSON.string)), .string(self.additionalNote ?? ""), self.visitLocation ?? .null,
        ]
        return JSON.array(fields).text
    }
}

/// What a client may change (`PUT /appointments/:id`); nil/unchanged leaves a field as it is.
public struct AppointmentChanges: Sendable {
    public var date: LocalDate?
    public var startTime: LocalTime?
    public var endTime: LocalTime?
    public var status: AppointmentStatus?
    public var consultationType: ConsultationType?
    public var symptoms: [String]?
    public var additionalNote: FieldUpdate<String>
    public var visitLocation: FieldUpdate<JSON>
    /// Why, when `status` is `cancelled` (shown to both sides); a default naming who cancelled otherwise.
    public var cancellationReason: String?
    /// The version the client last saw (`If-Match` or the body's `version`); nil: the version read before the write.
    public var expectedVersion: Int?

    public init(date: LocalDate? = nil, startTime: LocalTime? = nil, endTime: LocalTime? = nil, status: AppointmentStatus? = nil,
                consultationType: ConsultationType? = nil, symptoms: [String]? = nil, additionalNote: FieldUpdate<String> = .unchanged,
                visitLocation: FieldUpdate<JSON> = .unchanged, cancellationReason: String? = nil, expectedVersion: Int? = nil) {
        self.date = date
        self.startTime = startTime
        self.endTime = endTime
        self.status = status
        self.consultationType = consultationType
        self.symptoms = symptoms
        self.additionalNote = additionalNote
        self.visitLocation = visitLocation
        self.cancellationReason = cancellationReason
        self.expectedVersion = expectedVersion
    }

    var reschedules: Bool { self.date != nil || self.startTime != nil || self.endTime != nil }
}

/// Booking and managing appointments.
///
/// Rules: a doctor is never double-booked (half-open intervals; back-to-back is fine), even under concurrent
/// requests; patients book for themselves, within the doctor's availability and in the future, at the doctor's fee
/// for the consultation type; staff (or the doctor) may book for a patient, who then accepts or declines; an unpaid
/// booking holds its slot as `BookingRules` say and a patient holds at most a few; status changes follow
/// `AppointmentStateMachine`; every change is compare-and-set on the version; each side sees only what
/// `AccessPolicy` allows.
public struct AppointmentService: Sendable {
    let appointments: any AppointmentRepository
    let availabilities: any AvailabilityRepository
    let doctors: any DoctorRepository
    let users: any UserRepository
    let notifications: NotificationService
    let events: any EventPublisher
    public let rules: BookingRules
    let now: @Sendable () -> Date

    public init(
        appointments: any AppointmentRepository, availabilities: any AvailabilityRepository, doctors: any DoctorRepository,
        users: any UserRepository, notifications: NotificationService, events: any EventPublisher, rules: BookingRules = BookingRules(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.appointments = appointments
        self.availabilities = availabilities
        self.doctors = doctors
        self.users = users
        self.notifications = notifications
        self.events = events
        self.rules = rules
        self.now = now
    }

    // MARK: - Booking

    /// Books an appointment. With `idempotencyKey`, a retry of the same request returns the appointment the first one
    /// created (as it is now) and books nothing; the key with a different request is refused (409).
    public func book(_ principal: Principal, _ input: NewAppointment, idempotencyKey: String? = nil) async throws -> Appointment {
        let idempotency = try idempotencyKey.map { try IdempotencyKey($0, owner: principal.id, endpoint: Self.bookingEndpoint, request: input) }
        if let idempotency, let earlier = try await self.earlierBooking(idempotency) { return earlier }
        let patientId: UUID
        let forPatient = AccessPolicy.allows(.bookForPatients, principal)
        if forPatient {
            guard let requested = input.patientId else {
                throw DomainError.invalid("'user_id' is required when staff or a doctor books for a patient.")
            }
            guard AccessPolicy.manages(doctorId: input.doctorId, principal) else { throw DomainError.forbidden(Permission.bookForPatients.refusal) }
            patientId = requested
        } else {
            try AccessPolicy.require(.bookAsPatient, principal)
            if let requested = input.patientId, requested != principal.id {
                throw DomainError.forbidden("Patients book for themselves; leave 'user_id' out or set it to your own id.")
            }
            patientId = principal.id
        }
        guard let doctor = try await self.doctors.find(id: input.doctorId), doctor.user.status == .active, AccessPolicy.sees(doctor, principal) else {
            throw DomainError.notFound("No bookable doctor with id \(input.doctorId.uuidString.lowercased()).")
        }
        guard let patient = try await self.users.find(id: patientId), patient.role == .patient else {
            throw DomainError.notFound("No patient with id \(patientId.uuidString.lowercased()).")
        }
        guard patient.status != .blocked else {
            throw DomainError.forbidden("This patient's account is blocked.")
        }
        try Self.validateTimes(start: input.startTime, end: input.endTime)
        let zone = try WallClock.timeZone(doctor.profile.timeZone)
        let startsAt = WallClock.instant(input.date, input.startTime, in: zone)
        let endsAt = WallClock.instant(input.date, input.endTime, in: zone)
        let now = self.now()
        guard startsAt > now else {
            throw DomainError.invalid("The appointment must start in the future (the doctor's time zone is \(doctor.profile.timeZone)).")
        }
        // step: a patient books within the doctor's published availability; the clinic may book outside it
        if !forPatient {
            try await self.requireAvailability(doctorId: doctor.user.id, date: input.date, start: input.startTime, end: input.endTime, type: input.consultationType)
        }
        guard let fee = doctor.profile.fee(for: input.consultationType) else {
            let offered = doctor.profile.fees.keys.map(\.rawValue).sorted()
            let hint = offered.isEmpty ? "the doctor has not set any fee yet." : "book one of: \(offered.joined(separator: ", "))."
            throw DomainError.conflict("\(doctor.user.name) has no fee for '\(input.consultationType.rawValue)' consultations, so they cannot be booked; \(hint)")
        }
        let ownBooking = principal.id == patientId
        let appointment = Appointment(
            patientId: patientId, doctorId: doctor.user.id, date: input.date, startTime: input.startTime, endTime: input.endTime,
            status: .pendingPayment, consultationType: input.consultationType, symptoms: try Self.validSymptoms(input.symptoms ?? []),
            additionalNote: try Self.validNote(input.additionalNote), visitLocation: try InputLimits.visitLocation(input.visitLocation),
            startsAt: startsAt, endsAt: endsAt, createdAt: now, updatedAt: now, bookedBy: principal.id,
            patientAcceptance: ownBooking ? .accepted : .pending,
            holdExpiresAt: self.rules.holdEnd(bookedAt: now, startsAt: startsAt, route: self.rules.newBookingRoute), fee: fee
        )
        switch try await self.appointments.insert(appointment, unpaidLimit: UnpaidLimit(maximum: self.rules.maxUnpaidPerPatient, now: now), idempotency: idempotency) {
        case .saved: break
        case .keyTaken:
            // step: a concurrent request with the same key stored first
            if let idempotency, let earlier = try await self.earlierBooking(idempotency) { return earlier }
            throw DomainError.conflict("A request with this Idempotency-Key is still in progress; retry it in a moment.")
        case .slotTaken, .stale:
            throw DomainError.conflict("\(doctor.user.name) already has an appointment overlapping \(input.date) \(input.startTime)–\(input.endTime). Pick another slot from /api/v1/availabilities/slots.")
        case .unpaidLimitReached(let maximum):
            throw Self.unpaidLimitError(maximum, accepting: false)
        }
        let waiting = ownBooking ? "awaiting payment" : "booked by the clinic; please accept or decline it"
        try await self.notifications.notify(
            [appointment.patientId, appointment.doctorId], type: "appointment.created", title: "Appointment booked",
            body: "\(appointment.consultationType.rawValue.capitalized) appointment on \(appointment.date) at \(appointment.startTime) with \(doctor.user.name) for \(patient.name) (\(fee.text)); \(waiting).",
            data: .object(["appointment_id": .string(appointment.id.uuidString.lowercased())])
        )
        await self.publish("appointment.created", appointment)
        return appointment
    }

    static let bookingEndpoint = "POST /api/v1/appointments"

    /// The appointment an earlier request with this key booked, nil when the key is new.
    private func earlierBooking(_ idempotency: IdempotencyKey) async throws -> Appointment? {
        guard let id = try await idempotency.earlier(in: self.appointments) else { return nil }
        guard let appointment = try await self.appointments.find(id: id) else {
            throw DomainError.conflict("The appointment booked with Idempotency-Key '\(idempotency.key)' has since been deleted; use a new key to book again.")
        }
        return appointment
    }

    // MARK: - Reading

    /// Appointments the caller may see (`GET /appointments`). `patientId` filtering is for staff only.
    public func list(_ principal: Principal, _ query: AppointmentQuery) async throws -> Page<AppointmentDetails> {
        guard let scope = AccessPolicy.appointmentScope(principal) else { throw DomainError.forbidden(Permission.seeAppointments.refusal) }
        if query.patientId != nil { try AccessPolicy.require(.filterAppointmentsByPatient, principal) }
        var query = query
        query.scope = scope
        return try await self.appointments.list(query)
    }

    /// Every appointment in scope, for staff (`GET /appointments/all`).
    public func listAll(_ principal: Principal, _ query: AppointmentQuery) async throws -> Page<AppointmentDetails> {
        try AccessPolicy.require(.listAllAppointments, principal)
        return try await self.list(principal, query)
    }

    public func get(_ principal: Principal, id: UUID) async throws -> AppointmentDetails {
        guard let details = try await self.appointments.details(id: id), AccessPolicy.actor(for: details.appointment, principal) != nil else {
            throw DomainError.notFound("No appointment with id \(id.uuidString.lowercased()).")
        }
        return details
    }

    // MARK: - Deleting

    /// Deletes an appointment: admins any; a patient their own while unpaid or cancelled.
    public func delete(_ principal: Principal, id: UUID) async throws {
        guard let current = try await self.appointments.find(id: id), let actor = AccessPolicy.actor(for: current, principal) else {
            throw DomainError.notFound("No appointment with id \(id.uuidString.lowercased()).")
        }
        guard AccessPolicy.deletes(current, actor: actor, principal) else { throw DomainError.forbidden(Permission.deleteAnyAppointment.refusal) }
        guard try await self.appointments.delete(id: id) else {
            throw DomainError.notFound("No appointment with id \(id.uuidString.lowercased()).")
        }
        let audience = try await self.audience(current)
        await self.events.publish(DomainEvent(
            type: "appointment.deleted", userIds: audience,
            subject: .appointmentDeleted(id: current.id, patientId: current.patientId, doctorId: current.doctorId), occurredAt: self.now()
        ))
    }

    // MARK: - Helpers

    func announce(previous: Appointment, updated: Appointment, by principal: Principal?) async throws {
        if previous.status != updated.status || previous.startsAt != updated.startsAt {
            let others = Set([updated.patientId, updated.doctorId]).subtracting(principal.map { [$0.id] } ?? [])
            let (type, title, body): (String, String, String) =
                if updated.status == .cancelled {
                    ("appointment.cancelled", "Appointment cancelled",
                     "The appointment on \(updated.date) at \(updated.startTime) was cancelled" + (updated.cancellationReason.map { ": \($0)" } ?? "."))
                } else if previous.status != updated.status {
                    ("appointment.status", "Appointment \(updated.status.rawValue.replacingOccurrences(of: "_", with: " "))",
                     "The appointment on \(updated.date) at \(updated.startTime) is now '\(updated.status.rawValue)'.")
                } else {
                    ("appointment.rescheduled", "Appointment rescheduled", "The appointment moved to \(updated.date) at \(updated.startTime).")
                }
            try await self.notifications.notify(others, type: type, title: title, body: body,
                                                 data: .object(["appointment_id": .string(updated.id.uuidString.lowercased())]))
        }
        await self.publish("appointment.updated", updated)
    }

    func publish(_ type: String, _ appointment: Appointment) async {
        let audience = (try? await self.audience(appointment)) ?? [appointment.patientId, appointment.doctorId]
        await self.events.publish(DomainEvent(type: type, userIds: audience, subject: .appointment(appointment), occurredAt: self.now()))
    }

    /// Patient, doctor and the doctor's secretaries (admins are added by the event).
    func audience(_ appointment: Appointment) async throws -> Set<UUID> {
        Set([appointment.patientId, appointment.doctorId] + (try await self.users.secretaryIds(forDoctor: appointment.doctorId)))
    }

    func requireAvailability(doctorId: UUID, date: LocalDate, start: LocalTime, end: LocalTime, type: ConsultationType) async throws {
        let rules = try await self.availabilities.list(AvailabilityQuery(doctorId: doctorId, startDate: date, endDate: date, consultationType: type))
        let fits = rules.contains { $0.occurs(on: date) && $0.startTime <= start && end <= $0.endTime }
        guard fits else {
            throw DomainError.conflict("The doctor is not available for '\(type.rawValue)' on \(date) \(start)–\(end). Pick a slot from /api/v1/availabilities/slots.")
        }
    }

    static func validateTimes(start: LocalTime, end: LocalTime) throws {
        guard end > start else {
            throw DomainError.invalid("'end_time' must be after 'start_time' (got \(start)–\(end)).")
        }
    }

    static func validSymptoms(_ symptoms: [String]) throws -> [String] {
        guard symptoms.count <= InputLimits.symptoms else { throw DomainError.invalid("'symptoms' may list at most \(InputLimits.symptoms) items.") }
        return try symptoms.map {
            let trimmed = $0.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= InputLimits.symptomLength else {
                throw DomainError.invalid("Each symptom must be 1 to \(InputLimits.symptomLength) characters.")
            }
            return trimmed
        }
    }

    static func validNote(_ note: String?) throws -> String? {
        try InputLimits.text(note, field: "additional_note", limit: InputLimits.note)
    }

    static func unpaidLimitError(_ maximum: Int, accepting: Bool) -> DomainError {
        let action = accepting ? "Accepting this booking would give you" : "You already have"
        let count = accepting ? "more than \(maximum)" : "\(maximum)"
        return DomainError.conflict("\(action) \(count) bookings waiting for payment or confirmation — the most a patient may hold at once. Pay for one or cancel one, then try again.")
    }
}
