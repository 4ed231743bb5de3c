import Foundation

/// An availability rule as a client sends it.
public struct AvailabilityInput: Sendable {
    public var doctorId: UUID?
    public var startDate: LocalDate?
    public var endDate: LocalDate?
    public var startTime: LocalTime?
    public var endTime: LocalTime?
    public var isRecurring: Bool?
    public var recurrence: FieldUpdate<Recurrence>
    public var recurrenceDays: [Weekday]?
    public var recurrenceEndDate: FieldUpdate<LocalDate>
    public var consultationTypes: [ConsultationType]?

    public init(doctorId: UUID? = nil, startDate: LocalDate? = nil, endDate: LocalDate? = nil, startTime: LocalTime? = nil, endTime: LocalTime? = nil,
                isRecurring: Bool? = nil, recurrence: FieldUpdate<Recurrence> = .unchanged, recurrenceDays: [Weekday]? = nil,
                recurrenceEndDate: FieldUpdate<LocalDate> = .unchanged, consultationTypes: [ConsultationType]? = nil) {
        self.doctorId = doctorId
        self.startDate = startDate
        self.endDate = endDate
        self.startTime = startTime
        self.endTime = endTime
        self.isRecurring = isRecurring
        self.recurrence = recurrence
        self.recurrenceDays = recurrenceDays
        self.recurrenceEndDate = recurrenceEndDate
        self.consultationTypes = consultationTypes
    }
}

/// The free slots of a doctor on one date.
public struct SlotList: Sendable {
    public var doctorId: UUID
    public var date: LocalDate
    public var timeZone: String
    public var consultationType: ConsultationType
    public var duration: Int
    public var slots: [Slot]
    /// What a consultation of this type with the doctor costs; nil when the doctor set no fee for it (not bookable).
    public var fee: Fee?
}

/// Doctors' availability rules and the free slots they leave.
///
/// Rules: a doctor manages their own rules, a secretary those of their doctors, an admin anyone's; free slots
/// are the rules expanded for a date (doctor's time zone) minus slot-holding appointments, never in the past.
public struct AvailabilityService: Sendable {
    let availabilities: any AvailabilityRepository
    let appointments: any AppointmentRepository
    let doctors: any DoctorRepository
    let now: @Sendable () -> Date

    public init(availabilities: any AvailabilityRepository, appointments: any AppointmentRepository, doctors: any DoctorRepository,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.availabilities = availabilities
        self.appointments = appointments
        self.doctors = doctors
        self.now = now
    }

    public func list(_ principal: Principal, _ query: AvailabilityQuery) async throws -> [Availability] {
        try AccessPolicy.require(.seeAvailability, principal)
        if let start = query.startDate, let end = query.endDate, end < start {
            throw DomainError.invalid("'endDate' must not be before 'startDate'.")
        }
        var query = query
        if let doctorId = query.doctorId {
            _ = try await self.visibleDoctor(principal, doctorId)
        } else if !AccessPolicy.allows(.seeUnlistedDoctors, principal) {
            query.listedDoctorsOnly = true
        }
        return try await self.availabilities.list(query)
    }

    /// One rule, if the caller may see its doctor.
    public func get(_ principal: Principal, id: UUID) async throws -> Availability {
        guard AccessPolicy.allows(.seeAvailability, principal), let availability = try await self.availabilities.find(id: id) else {
            throw DomainError.notFound("No availability with id \(id.uuidString.lowercased()).")
        }
        _ = try await self.visibleDoctor(principal, availability.doctorId)
        return availability
    }

    public func create(_ principal: Principal, _ input: AvailabilityInput) async throws -> Availability {
        let doctorId = input.doctorId ?? principal.id
        try await self.requireManaged(principal, doctorId)
        guard let startDate = input.startDate, let startTime = input.startTime, let endTime = input.endTime else {
            throw DomainError.invalid("'start_date', 'start_time' and 'end_time' are required.")
        }
        let now = self.now()
        var availability = Availability(
            doctorId: doctorId, startDate: startDate, endDate: input.endDate ?? startDate, startTime: startTime, endTime: endTime,
            consultationTypes: [], createdAt: now, updatedAt: now
        )
        try Self.apply(input, to: &availability, creating: true)
        try await self.availabilities.create(availability)
        return availability
    }

    public func update(_ principal: Principal, id: UUID, _ input: AvailabilityInput) async throws -> Availability {
        guard var availability = try await self.availabilities.find(id: id), AccessPolicy.manages(doctorId: availability.doctorId, principal) else {
            throw DomainError.notFound("No availability with id \(id.uuidString.lowercased()) that you manage.")
        }
        if let doctorId = input.doctorId, doctorId != availability.doctorId {
            throw DomainError.invalid("An availability cannot move to another doctor; delete it and create a new one.")
        }
        if let start = input.startDate { availability.startDate = start }
        if let end = input.endDate { availability.endDate = end }
        if let start = input.startTime { availability.startTime = start }
        if let end = input.endTime { availability.endTime = end }
        try Self.apply(input, to: &availability, creating: false)
        availability.updatedAt = self.now()
        try await self.availabilities.update(availability)
        return availability
    }

    public func delete(_ principal: Principal, id: UUID) async throws {
        guard let availability = try await self.availabilities.find(id: id), AccessPolicy.manages(doctorId: availability.doctorId, principal) else {
            throw DomainError.notFound("No availability with id \(id.uuidString.lowercased()) that you manage.")
        }
        _ = try await self.availabilities.delete(id: id)
    }

    /// Free slots of `duration` minutes for a doctor, date and consultation type.
    public func slots(_ principal: Principal, doctorId: UUID, date: LocalDate, type: ConsultationType, duration: Int) async throws -> SlotList {
        try AccessPolicy.require(.seeAvailability, principal)
        guard (5...480).contains(duration) else {
            throw DomainError.invalid("'duration' must be minutes from 5 to 480 (got \(duration)).")
        }
        let doctor = try await self.visibleDoctor(principal, doctorId)
        let zone = try WallClock.timeZone(doctor.profile.timeZone)
        let rules = try await self.availabilities.list(AvailabilityQuery(doctorId: doctorId, startDate: date, endDate: date, consultationType: type))
            .filter { $0.occurs(on: date) }
        let booked = try await self.appointments.booked(doctorId: doctorId, date: date)
        let windows = Self.merge(rules.map { ($0.startTime.seconds, $0.endTime.seconds) })
        let busy = booked.map { ($0.startTime.seconds, $0.endTime.seconds) }
        let now = self.now()
        var slots: [Slot] = []
        let step = duration * 60
        for (start, end) in windows {
            var cursor = start
            while cursor + step <= end {
                let slotEnd = cursor + step
                if !busy.contains(where: { $0.0 < slotEnd && cursor < $0.1 }) {
                    let startTime = LocalTime(seconds: cursor)!
                    let endTime = LocalTime(seconds: min(slotEnd, 86_399))!
                    let startsAt = WallClock.instant(date, startTime, in: zone)
                    if startsAt > now {
                        slots.append(Slot(startTime: startTime, endTime: endTime, startsAt: startsAt, endsAt: startsAt.addingTimeInterval(TimeInterval(step))))
                    }
                }
                cursor = slotEnd
            }
        }
        return SlotList(doctorId: doctorId, date: date, timeZone: doctor.profile.timeZone, consultationType: type, duration: duration, slots: slots,
                        fee: doctor.profile.fee(for: type))
    }

    private func visibleDoctor(_ principal: Principal, _ doctorId: UUID) async throws -> Doctor {
        guard let doctor = try await self.doctors.find(id: doctorId), AccessPolicy.sees(doctor, principal) else {
            throw DomainError.notFound("No doctor with id \(doctorId.uuidString.lowercased()).")
        }
        return doctor
    }

    private func requireManaged(_ principal: Principal, _ doctorId: UUID) async throws {
        guard AccessPolicy.manages(doctorId: doctorId, principal) else {
            throw DomainError.forbidden("You can only manage availability for yourself (doctors) or for doctors you work for (secretaries).")
        }
        guard try await self.doctors.find(id: doctorId) != nil else {
            throw DomainError.notFound("No doctor with id \(doctorId.uuidString.lowercased()).")
        }
    }

    static func apply(_ input: AvailabilityInput, to availability: inout Availability, creating: Bool) throws {
        if let recurring = input.isRecurring { availability.isRecurring = recurring }
        availability.recurrence = input.recurrence.applied(to: availability.recurrence)
        if let days = input.recurrenceDays { availability.recurrenceDays = Array(Set(days)).sorted { Weekday.allCases.firstIndex(of: $0)! < Weekday.allCases.firstIndex(of: $1)! } }
        availability.recurrenceEndDate = input.recurrenceEndDate.applied(to: availability.recurrenceEndDate)
        if let types = input.consultationTypes {
            availability.consultationTypes = ConsultationType.allCases.filter(types.contains)
        } else if creating {
            availability.consultationTypes = ConsultationType.allCases
        }
        guard !availability.consultationTypes.isEmpty else {
            throw DomainError.invalid("'consultation_types' must list at least one of: \(ConsultationType.allowedValues).")
        }
        guard availability.endTime > availability.startTime else {
            throw DomainError.invalid("'end_time' must be after 'start_time'.")
        }
        guard availability.endDate >= availability.startDate else {
            throw DomainError.invalid("'end_date' must not be before 'start_date'.")
        }
        if availability.isRecurring {
            if availability.recurrence == nil { availability.recurrence = .weekly }
            if let last = availability.recurrenceEndDate, last < availability.startDate {
                throw DomainError.invalid("'recurrence_end_date' must not be before 'start_date'.")
            }
        } else {
            availability.recurrence = nil
            availability.recurrenceDays = []
            availability.recurrenceEndDate = nil
        }
        if availability.recurrence != .weekly { availability.recurrenceDays = [] }
    }

    /// Merges overlapping or touching windows (seconds since midnight).
    static func merge(_ windows: [(Int, Int)]) -> [(Int, Int)] {
        var merged: [(Int, Int)] = []
        for window in windows.sorted(by: { $0.0 < $1.0 }) {
            if let last = merged.last, window.0 <= last.1 {
                merged[merged.count - 1].1 = max(last.1, window.1)
            } else {
                merged.append(window)
            }
        }
        return merged
    }
}
