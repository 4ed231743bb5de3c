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
    /// Statuses that make a doctor part of the patient's care for reading records: paid or further. A doctor or
    /// secretary can book any patient (pending payment), but cannot mark it paid alone, so a made-up booking
    /// opens nobody's history.
    public static let careStatuses: [AppointmentStatus] = [.paymentCompleted, .confirmed, .inProgress, .completed]
    /// Every status but cancelled.
    public static var notCancelled: [AppointmentStatus] { Self.allCases.filter { $0 != .cancelled } }
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

    public init(
        id: UUID = UUID(), patientId: UUID, doctorId: UUID, date: LocalDate, startTime: LocalTime, endTime: LocalTime,
        status: AppointmentStatus = .pendingPayment, streamChannelId: String? = nil, consultationType: ConsultationType,
        symptoms: [String] = [], additionalNote: String? = nil, visitLocation: JSON? = nil, startsAt: Date, endsAt: Date,
        createdAt: Date, updatedAt: Date
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
    }
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
