import Foundation
import Hummingbird
import SOSDomain

/// A price: `{"amount": 45.5, "currency": "EUR"}` (major units).
struct FeePayload: Encodable, Sendable, Equatable {
    let amount: Double
    let currency: String

    init(_ fee: Fee) {
        self.amount = fee.amount
        self.currency = fee.currency.code
    }
}

/// The seed's `doctor_profile` object (plus `time_zone`, the IANA zone of the doctor's dates and times, and the
/// doctor's `fees` per consultation type in `currency`).
struct DoctorProfilePayload: Encodable, Sendable {
    let specialisation: String
    let rating: Double
    let rating_count: Int
    let address: Nullable<String>
    let working_hours: Nullable<JSON>
    let bio: Nullable<String>
    let is_listed: Bool
    let supported_languages: Nullable<[String]>
    let time_zone: String
    /// Consultation type → amount in major units of `currency`; types without a fee are absent (not bookable).
    let fees: [String: Double]
    let currency: String

    init(_ profile: DoctorProfile) {
        self.specialisation = profile.specialisation
        self.rating = profile.rating
        self.rating_count = profile.ratingCount
        self.address = Nullable(profile.address)
        self.working_hours = Nullable(profile.workingHours)
        self.bio = Nullable(profile.bio)
        self.is_listed = profile.isListed
        self.supported_languages = Nullable(profile.supportedLanguages)
        self.time_zone = profile.timeZone
        self.fees = Dictionary(uniqueKeysWithValues: profile.fees.map { ($0.key.rawValue, profile.currency.majorUnits($0.value)) })
        self.currency = profile.currency.code
    }
}

/// The seed's doctor object.
struct DoctorPayload: Encodable, Sendable {
    let id: String
    let name: String
    let email: String
    let phone: String
    let profile_picture: String
    let is_status: UserStatus
    let created_at: Date
    let updated_at: Date
    let doctor_profile: DoctorProfilePayload

    init(_ doctor: Doctor) {
        self.id = doctor.user.id.apiString
        self.name = doctor.user.name
        self.email = doctor.user.email ?? ""
        self.phone = doctor.user.phone ?? ""
        self.profile_picture = doctor.user.profilePicture ?? ""
        self.is_status = doctor.user.status
        self.created_at = doctor.user.createdAt
        self.updated_at = max(doctor.user.updatedAt, doctor.profile.updatedAt)
        self.doctor_profile = DoctorProfilePayload(doctor.profile)
    }
}

struct DoctorEnvelope: ResponseEncodable, Sendable {
    let doctor: DoctorPayload
}

struct DoctorMessageEnvelope: ResponseEncodable, Sendable {
    let message: String
    let doctor: DoctorPayload
}

struct DoctorListPayload: ResponseEncodable, Sendable {
    let doctors: [DoctorPayload]
    let pagination: PaginationPayload
}

/// The seed's nested `patient` object.
struct PersonPayload: Encodable, Sendable {
    let id: String
    let name: String
    let email: String
    let phone: String
    let profile_picture: String

    init(_ person: PersonSummary) {
        self.id = person.id.apiString
        self.name = person.name
        self.email = person.email ?? ""
        self.phone = person.phone ?? ""
        self.profile_picture = person.profilePicture ?? ""
    }
}

/// The seed's nested `doctor` object with `doctor_profiles: [{specialisation, rating}]`.
struct NestedDoctorPayload: Encodable, Sendable {
    struct Profile: Encodable, Sendable {
        let specialisation: String
        let rating: Double
    }

    let id: String
    let name: String
    let email: String
    let phone: String
    let profile_picture: String
    let doctor_profiles: [Profile]

    init(_ doctor: DoctorSummary) {
        let person = PersonPayload(doctor.person)
        self.id = person.id
        self.name = person.name
        self.email = person.email
        self.phone = person.phone
        self.profile_picture = person.profile_picture
        self.doctor_profiles = [Profile(specialisation: doctor.specialisation, rating: doctor.rating)]
    }
}

/// The seed's appointment object, with `patient` and `doctor` when details are known.
struct AppointmentPayload: Encodable, Sendable {
    let id: String
    let user_id: String
    let doctor_id: String
    let date: LocalDate
    let start_time: LocalTime
    let end_time: LocalTime
    let status: AppointmentStatus
    let stream_channel_id: Nullable<String>
    let consultation_type: ConsultationType
    let symptoms: [String]
    let additional_note: Nullable<String>
    let visit_location: Nullable<JSON>
    let created_at: Date
    let updated_at: Date
    let booked_by: Nullable<String>
    let patient_acceptance: PatientAcceptance
    let hold_expires_at: Nullable<Date>
    let cancellation_reason: Nullable<String>
    let fee: Nullable<FeePayload>
    let version: Int
    let patient: PersonPayload?
    let doctor: NestedDoctorPayload?

    init(_ appointment: Appointment, patient: PersonSummary? = nil, doctor: DoctorSummary? = nil) {
        self.id = appointment.id.apiString
        self.user_id = appointment.patientId.apiString
        self.doctor_id = appointment.doctorId.apiString
        self.date = appointment.date
        self.start_time = appointment.startTime
        self.end_time = appointment.endTime
        self.status = appointment.status
        self.stream_channel_id = Nullable(appointment.streamChannelId)
        self.consultation_type = appointment.consultationType
        self.symptoms = appointment.symptoms
        self.additional_note = Nullable(appointment.additionalNote)
        self.visit_location = Nullable(appointment.visitLocation)
        self.created_at = appointment.createdAt
        self.updated_at = appointment.updatedAt
        self.booked_by = Nullable(appointment.bookedBy?.apiString)
        self.patient_acceptance = appointment.patientAcceptance
        self.hold_expires_at = Nullable(appointment.holdExpiresAt)
        self.cancellation_reason = Nullable(appointment.cancellationReason)
        self.fee = Nullable(appointment.fee.map(FeePayload.init))
        self.version = appointment.version
        self.patient = patient.map(PersonPayload.init)
        self.doctor = doctor.map(NestedDoctorPayload.init)
    }

    init(_ details: AppointmentDetails) {
        self.init(details.appointment, patient: details.patient, doctor: details.doctor)
    }
}

struct AppointmentEnvelope: ResponseEncodable, Sendable {
    let appointment: AppointmentPayload
}

struct AppointmentMessageEnvelope: ResponseEncodable, Sendable {
    let message: String
    let appointment: AppointmentPayload
}

struct AppointmentListPayload: ResponseEncodable, Sendable {
    let appointments: [AppointmentPayload]
    let pagination: PaginationPayload
}

/// The seed's availability object (plus `recurrence_days` for weekly rules).
struct AvailabilityPayload: Encodable, Sendable {
    let id: String
    let user_id: String
    let start_date: LocalDate
    let end_date: LocalDate
    let start_time: LocalTime
    let end_time: LocalTime
    let is_recurring: Bool
    let recurrence: Nullable<Recurrence>
    let recurrence_days: [Weekday]
    let recurrence_end_date: Nullable<LocalDate>
    let consultation_types: [ConsultationType]
    let created_at: Date
    let updated_at: Date

    init(_ availability: Availability) {
        self.id = availability.id.apiString
        self.user_id = availability.doctorId.apiString
        self.start_date = availability.startDate
        self.end_date = availability.endDate
        self.start_time = availability.startTime
        self.end_time = availability.endTime
        self.is_recurring = availability.isRecurring
        self.recurrence = Nullable(availability.recurrence)
        self.recurrence_days = availability.recurrenceDays
        self.recurrence_end_date = Nullable(availability.recurrenceEndDate)
        self.consultation_types = availability.consultationTypes
        self.created_at = availability.createdAt
        self.updated_at = availability.updatedAt
    }
}

struct AvailabilityListPayload: ResponseEncodable, Sendable {
    let availabilities: [AvailabilityPayload]
}

struct AvailabilityMessageEnvelope: ResponseEncodable, Sendable {
    let message: String
    let availability: AvailabilityPayload
}

struct AvailabilityEnvelope: ResponseEncodable, Sendable {
    let availability: AvailabilityPayload
}

/// `GET /availabilities/slots`.
struct SlotListPayload: ResponseEncodable, Sendable {
    struct SlotPayload: Encodable, Sendable {
        let start_time: LocalTime
        let end_time: LocalTime
        let start: Date
        let end: Date
    }

    let doctorId: String
    let date: LocalDate
    let timeZone: String
    let consultationType: ConsultationType
    let duration: Int
    let slots: [SlotPayload]
    let fee: Nullable<FeePayload>

    init(_ list: SlotList) {
        self.doctorId = list.doctorId.apiString
        self.date = list.date
        self.timeZone = list.timeZone
        self.consultationType = list.consultationType
        self.duration = list.duration
        self.slots = list.slots.map { SlotPayload(start_time: $0.startTime, end_time: $0.endTime, start: $0.startsAt, end: $0.endsAt) }
        self.fee = Nullable(list.fee.map(FeePayload.init))
    }
}
