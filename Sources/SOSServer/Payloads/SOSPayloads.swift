import Foundation
import Hummingbird
import SOSDomain

/// A doctor's on-call state (`GET|PUT /doctors/me/on-call`).
struct OnCallPayload: ResponseEncodable, Sendable {
    let doctor_id: String
    let on_call: Bool
    let by_schedule: Bool
    let on_call_now: Bool
    let latitude: Nullable<Double>
    let longitude: Nullable<Double>
    let radius_km: Double
    let kinds: [SOSKind]
    /// From the doctor's profile.
    let languages: [String]
    let updated_at: Nullable<Date>

    init(_ view: OnCallView) {
        let status = view.status
        self.doctor_id = status.doctorId.apiString
        self.on_call = status.onCall
        self.by_schedule = status.bySchedule
        self.on_call_now = view.onCallNow
        self.latitude = Nullable(status.latitude)
        self.longitude = Nullable(status.longitude)
        self.radius_km = status.radiusKm
        self.kinds = status.kinds
        self.languages = view.languages
        self.updated_at = Nullable(status.updatedAt)
    }
}

/// `{number, alternatives}`.
struct EmergencyNumberPayload: Encodable, Sendable {
    let number: String
    let alternatives: [String]

    init(_ number: EmergencyNumber) {
        self.number = number.number
        self.alternatives = number.alternatives
    }
}

/// The doctor who has the case, as the patient sees him.
struct SOSDoctorPayload: Encodable, Sendable {
    let id: String
    let name: String
    let profile_picture: String
    let languages: [String]
    let rating: Double
    let distance_km: Double

    init(_ card: SOSDoctorCard) {
        self.id = card.id.apiString
        self.name = card.name
        self.profile_picture = card.profilePicture ?? ""
        self.languages = card.languages
        self.rating = card.rating
        self.distance_km = card.distanceKm
    }
}

/// A request's live status: `sos.status` on the hub and `status` in REST answers.
struct SOSStatusPayload: Encodable, Sendable {
    let request_id: String
    let state: SOSState
    let offered: Int
    let emergency_number: Nullable<EmergencyNumberPayload>
    let doctor: Nullable<SOSDoctorPayload>
    let kind: Nullable<SOSKind>
    let eta_minutes: Nullable<Int>
    let appointment_id: Nullable<String>
    let message: String
    let updated_at: Date

    init(_ status: SOSStatusView) {
        self.request_id = status.requestId.apiString
        self.state = status.state
        self.offered = status.offered
        self.emergency_number = Nullable(status.emergencyNumber.map(EmergencyNumberPayload.init))
        self.doctor = Nullable(status.doctor.map(SOSDoctorPayload.init))
        self.kind = Nullable(status.kind)
        self.eta_minutes = Nullable(status.etaMinutes)
        self.appointment_id = Nullable(status.appointmentId?.apiString)
        self.message = status.message
        self.updated_at = status.updatedAt
    }
}

/// A whole SOS request (its patient, the doctor who has it, his secretaries and admins only).
struct SOSRequestPayload: Encodable, Sendable {
    let id: String
    let user_id: String
    let symptoms: [String]
    let severity: SOSSeverity
    let latitude: Double
    let longitude: Double
    let place: String
    let country: String
    let language: String
    let kinds: [SOSKind]
    let state: SOSState
    let wave: Int
    let search_radius_km: Nullable<Double>
    let accepted_doctor_id: Nullable<String>
    let red_flag: Bool
    let reason: Nullable<String>
    let created_at: Date
    let updated_at: Date
    let version: Int
    let status: SOSStatusPayload

    init(_ sosCase: SOSCase) {
        let request = sosCase.request
        self.id = request.id.apiString
        self.user_id = request.patientId.apiString
        self.symptoms = request.symptoms
        self.severity = request.severity
        self.latitude = request.location.latitude
        self.longitude = request.location.longitude
        self.place = request.location.place
        self.country = request.location.country
        self.language = request.language
        self.kinds = request.kinds
        self.state = request.state
        self.wave = request.wave
        self.search_radius_km = Nullable(request.searchRadiusKm)
        self.accepted_doctor_id = Nullable(request.acceptedDoctorId?.apiString)
        self.red_flag = request.redFlag
        self.reason = Nullable(request.reason)
        self.created_at = request.createdAt
        self.updated_at = request.updatedAt
        self.version = request.version
        self.status = SOSStatusPayload(sosCase.status)
    }
}

/// What an offered doctor sees (`sos.offer`, `GET /sos/offers`): no place, coordinates or name.
struct SOSOfferPayload: Encodable, Sendable {
    let request_id: String
    let symptoms: [String]
    let severity: SOSSeverity
    let language: String
    let kind: SOSKind
    let distance_km: Int
    let area: String
    let wave: Int
    let offered_at: Date

    init(_ offer: SOSOfferView) {
        self.request_id = offer.requestId.apiString
        self.symptoms = offer.symptoms
        self.severity = offer.severity
        self.language = offer.language
        self.kind = offer.kind
        self.distance_km = offer.distanceKm
        self.area = offer.area
        self.wave = offer.wave
        self.offered_at = offer.offeredAt
    }
}

struct SOSRequestEnvelope: ResponseEncodable, Sendable {
    let message: String
    let request: SOSRequestPayload
}

struct SOSRequestListPayload: ResponseEncodable, Sendable {
    let requests: [SOSRequestPayload]
}

struct SOSOfferListPayload: ResponseEncodable, Sendable {
    let offers: [SOSOfferPayload]
}

extension SOSMessage {
    /// The hub's data for each SOS event, from the payloads above.
    var payload: any Encodable & Sendable {
        switch self {
        case .offer(let offer): SOSOfferPayload(offer)
        case .taken(let id): ["request_id": id.apiString]
        case .withdrawn(let id, let state): ["request_id": id.apiString, "state": state.rawValue]
        case .status(let status): SOSStatusPayload(status)
        }
    }
}
