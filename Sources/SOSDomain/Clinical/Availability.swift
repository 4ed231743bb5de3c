import Foundation

/// How an availability rule repeats.
public enum Recurrence: String, DomainEnum {
    case daily
    case weekly
}

/// A doctor's availability rule, on the doctor's wall clock.
///
/// * not recurring: every day from `startDate` through `endDate`, `startTime` to `endTime`;
/// * `daily`: every day from `startDate` until `recurrenceEndDate` (open-ended when nil);
/// * `weekly`: the `recurrenceDays` (default: `startDate`'s weekday) from `startDate` until `recurrenceEndDate`.
public struct Availability: Sendable, Equatable {
    public var id: UUID
    public var doctorId: UUID
    public var startDate: LocalDate
    public var endDate: LocalDate
    public var startTime: LocalTime
    public var endTime: LocalTime
    public var isRecurring: Bool
    public var recurrence: Recurrence?
    public var recurrenceDays: [Weekday]
    public var recurrenceEndDate: LocalDate?
    public var consultationTypes: [ConsultationType]
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID = UUID(), doctorId: UUID, startDate: LocalDate, endDate: LocalDate, startTime: LocalTime, endTime: LocalTime,
        isRecurring: Bool = false, recurrence: Recurrence? = nil, recurrenceDays: [Weekday] = [], recurrenceEndDate: LocalDate? = nil,
        consultationTypes: [ConsultationType], createdAt: Date, updatedAt: Date
    ) {
        self.id = id
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
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// True when the rule gives time on `date`.
    public func occurs(on date: LocalDate) -> Bool {
        guard date >= self.startDate else { return false }
        guard self.isRecurring, let recurrence = self.recurrence else {
            return date <= self.endDate
        }
        if let last = self.recurrenceEndDate, date > last { return false }
        switch recurrence {
        case .daily:
            return true
        case .weekly:
            let days = self.recurrenceDays.isEmpty ? [self.startDate.weekday] : self.recurrenceDays
            return days.contains(date.weekday)
        }
    }

    /// The last date the rule can occur on (nil: open-ended).
    public var lastDate: LocalDate? {
        self.isRecurring && self.recurrence != nil ? self.recurrenceEndDate : self.endDate
    }
}

/// Filters for `GET /availabilities`.
public struct AvailabilityQuery: Sendable {
    public var doctorId: UUID?
    /// Doctors whose rules the caller may list; nil: every doctor.
    public var doctorIds: [UUID]?
    /// Only listed, active doctors (what a patient may see).
    public var listedDoctorsOnly = false
    public var startDate: LocalDate?
    public var endDate: LocalDate?
    public var consultationType: ConsultationType?

    public init(doctorId: UUID? = nil, doctorIds: [UUID]? = nil, startDate: LocalDate? = nil, endDate: LocalDate? = nil, consultationType: ConsultationType? = nil) {
        self.doctorId = doctorId
        self.doctorIds = doctorIds
        self.startDate = startDate
        self.endDate = endDate
        self.consultationType = consultationType
    }
}

/// One bookable slot.
public struct Slot: Sendable, Equatable {
    public var startTime: LocalTime
    public var endTime: LocalTime
    public var startsAt: Date
    public var endsAt: Date

    public init(startTime: LocalTime, endTime: LocalTime, startsAt: Date, endsAt: Date) {
        self.startTime = startTime
        self.endTime = endTime
        self.startsAt = startsAt
        self.endsAt = endsAt
    }
}
