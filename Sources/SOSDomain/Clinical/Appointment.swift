import Foundation

/// Where an appointment is in its life (the seed's enum). Transitions: `AppointmentStateMachine`.
public enum AppointmentStatus: String, DomainEnum {
    case pendingPayment = "pending_payment"
    case paymentCompleted = "payment_completed"
    case paymentFailed = "payment_failed"
    case confirmed
    case inProgress = "in_progress"
    case completed
    case cancelled

    /// Statuses that hold the doctor's time: every one except cancelled and failed payment.
    public var holdsSlot: Bool { self != .cancelled && self != .paymentFailed }
    public static var slotHolding: [AppointmentStatus] { Self.allCases.filter(\.holdsSlot) }
    /// Waiting for a payment or a clinic confirmation: where a booking's hold runs and the unpaid limit counts.
    public static let unpaid: [AppointmentStatus] = [.pendingPayment, .paymentFailed]
    /// Every status but cancelled.
    public static var notCancelled: [AppointmentStatus] { Self.allCases.filter { $0 != .cancelled } }
}

/// Whether the patient agreed to a booking. His own bookings are `accepted`; one that staff or the doctor made
/// for him is `pending` until he accepts it (or `declined`, which cancels it). Only the patient can move it.
public enum PatientAcceptance: String, DomainEnum {
    case accepted
    case pending
    case declined
}

/// A price in a currency's minor units.
public struct Fee: Sendable, Equatable {
    public var amountMinor: Int64
    public var currency: Currency

    public init(amountMinor: Int64, currency: Currency) {
        self.amountMinor = amountMinor
        self.currency = currency
    }

    /// The amount in major units (45.5 for 45.50 EUR).
    public var amount: Double { self.currency.majorUnits(self.amountMinor) }

    /// "45.50 EUR".
    public var text: String { String(format: "%.\(self.currency.exponent)f", self.amount) + " " + self.currency.code }
}

/// A booked consultation. `date`, `startTime` and `endTime` are on the doctor's wall clock;
/// `startsAt`/`endsAt` are the same moments in UTC.
public struct Appointment: Sendable, Equatable {
    public var id: UUID
    public var patientId: UUID
    public var doctorId: UUID
    public var date: LocalDate
    public var startTime: LocalTime
    public var endTime: LocalTime
    public var status: AppointmentStatus
    public var streamChannelId: String?
    public var consultationType: ConsultationType
    public var symptoms: [String]
    public var additionalNote: String?
    public var visitLocation: JSON?
    public var startsAt: Date
    public var endsAt: Date
    public var createdAt: Date
    public var updatedAt: Date
    /// Who made the booking; nil for bookings older than this field.
    public var bookedBy: UUID?
    public var patientAcceptance: PatientAcceptance
    /// When an unpaid, unconfirmed booking gives its slot back (`BookingHolds`); nil once it holds it for good.
    public var holdExpiresAt: Date?
    /// Why it was cancelled, in words for both sides; nil unless cancelled.
    public var cancellationReason: String?
    /// The price fixed at booking from the doctor's fee; nil for bookings older than fees.
    public var fee: Fee?
    /// Grows by one with every stored change; updates are compare-and-set on it.
    public var version: Int

    public init(
        id: UUID = UUID(), patientId: UUID, doctorId: UUID, date: LocalDate, startTime: LocalTime, endTime: LocalTime,
        status: AppointmentStatus = .pendingPayment, streamChannelId: String? = nil, consultationType: ConsultationType,
        symptoms: [String] = [], additionalNote: String? = nil, visitLocation: JSON? = nil, startsAt: Date, endsAt: Date,
        createdAt: Date, updatedAt: Date, bookedBy: UUID? = nil, patientAcceptance: PatientAcceptance = .accepted, holdExpiresAt: Date? = nil,
        cancellationReason: String? = nil, fee: Fee? = nil, version: Int = 1
    ) {
        self.id = id
        self.patientId = patientId
        self.doctorId = doctorId
        self.date = date
        self.startTime = startTime
        self.endTime = endTime
        self.status = status
        self.streamChannelId = streamChannelId
        self.consultationType = consultationType
        self.symptoms = symptoms
        self.additionalNote = additionalNote
        self.visitLocation = visitLocation
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.bookedBy = bookedBy
        self.patientAcceptance = patientAcceptance
        self.holdExpiresAt = holdExpiresAt
        self.cancellationReason = cancellationReason
        self.fee = fee
        self.version = version
    }

    /// Waiting for a payment or a clinic confirmation: the state a hold applies to and the unpaid limit counts.
    public var isUnpaid: Bool { AppointmentStatus.unpaid.contains(self.status) }
}

/// The contact card of a person shown inside another object (the seed's nested `patient`/`doctor`).
public struct PersonSummary: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var email: String?
    public var phone: String?
    public var profilePicture: String?

    public init(id: UUID, name: String, email: String?, phone: String?, profilePicture: String?) {
        self.id = id
        self.name = name
        self.email = email
        self.phone = phone
        self.profilePicture = profilePicture
    }

    public init(_ user: User) {
        self.init(id: user.id, name: user.name, email: user.email, phone: user.phone, profilePicture: user.profilePicture)
    }
}

/// A doctor's card with the profile fields shown inside appointments and records.
public struct DoctorSummary: Sendable, Equatable {
    public var person: PersonSummary
    public var specialisation: String
    public var rating: Double

    public init(person: PersonSummary, specialisation: String, rating: Double) {
        self.person = person
        self.specialisation = specialisation
        self.rating = rating
    }
}

/// An appointment with the people it concerns, for list and detail views.
public struct AppointmentDetails: Sendable, Equatable {
    public var appointment: Appointment
    public var patient: PersonSummary
    public var doctor: DoctorSummary

    public init(appointment: Appointment, patient: PersonSummary, doctor: DoctorSummary) {
        self.appointment = appointment
        self.patient = patient
        self.doctor = doctor
    }
}

/// The appointment fields shown inside a medical record.
public struct AppointmentSummary: Sendable, Equatable {
    public var id: UUID
    public var date: LocalDate
    public var startTime: LocalTime
    public var consultationType: ConsultationType
    public var status: AppointmentStatus

    public init(id: UUID, date: LocalDate, startTime: LocalTime, consultationType: ConsultationType, status: AppointmentStatus) {
        self.id = id
        self.date = date
        self.startTime = startTime
        self.consultationType = consultationType
        self.status = status
    }
}

/// Sort keys for appointment lists.
public enum AppointmentSort: String, DomainEnum {
    case date
    case createdAt = "created_at"
    case startTime = "start_time"
}

/// Which appointments a caller may see; decided by `AccessPolicy`, applied by the repository.
public enum AppointmentScope: Sendable, Equatable {
    case all
    case patient(UUID)
    case doctor(UUID)
    case doctors([UUID])
}

/// Filters for appointment lists.
public struct AppointmentQuery: Sendable {
    public var page: PageRequest
    public var scope: AppointmentScope
    public var status: AppointmentStatus?
    public var doctorId: UUID?
    public var patientId: UUID?
    public var consultationType: ConsultationType?
    public var startDate: LocalDate?
    public var endDate: LocalDate?
    public var sortBy: AppointmentSort
    public var sortOrder: SortOrder

    public init(page: PageRequest, scope: AppointmentScope = .all, status: AppointmentStatus? = nil, doctorId: UUID? = nil, patientId: UUID? = nil,
                consultationType: ConsultationType? = nil, startDate: LocalDate? = nil, endDate: LocalDate? = nil,
                sortBy: AppointmentSort = .date, sortOrder: SortOrder = .desc) {
        self.page = page
        self.scope = scope
        self.status = status
        self.doctorId = doctorId
        self.patientId = patientId
        self.consultationType = consultationType
        self.startDate = startDate
        self.endDate = endDate
        self.sortBy = sortBy
        self.sortOrder = sortOrder
    }
}
