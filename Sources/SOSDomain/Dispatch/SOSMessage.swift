import Foundation

/// The doctor as the patient sees him once he accepted.
public struct SOSDoctorCard: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var profilePicture: String?
    public var languages: [String]
    public var rating: Double
    /// Rounded to 0.1 km.
    public var distanceKm: Double

    public init(id: UUID, name: String, profilePicture: String?, languages: [String], rating: Double, distanceKm: Double) {
        self.id = id
        self.name = name
        self.profilePicture = profilePicture
        self.languages = languages
        self.rating = rating
        self.distanceKm = distanceKm
    }
}

/// A request's live status (`sos.status`, and `status` in the REST answers).
public struct SOSStatusView: Sendable, Equatable {
    public var requestId: UUID
    public var state: SOSState
    /// Doctors offered so far in this search.
    public var offered: Int
    public var emergencyNumber: EmergencyNumber?
    public var doctor: SOSDoctorCard?
    public var kind: SOSKind?
    public var etaMinutes: Int?
    public var appointmentId: UUID?
    /// The status in plain words for the patient.
    public var message: String
    public var updatedAt: Date

    public init(requestId: UUID, state: SOSState, offered: Int, emergencyNumber: EmergencyNumber?, doctor: SOSDoctorCard?, kind: SOSKind?,
                etaMinutes: Int?, appointmentId: UUID?, message: String, updatedAt: Date) {
        self.requestId = requestId
        self.state = state
        self.offered = offered
        self.emergencyNumber = emergencyNumber
        self.doctor = doctor
        self.kind = kind
        self.etaMinutes = etaMinutes
        self.appointmentId = appointmentId
        self.message = message
        self.updatedAt = updatedAt
    }
}

/// What an offered doctor sees before accepting: never the exact place, the coordinates or the patient's name.
public struct SOSOfferView: Sendable, Equatable {
    public var requestId: UUID
    public var symptoms: [String]
    public var severity: SOSSeverity
    public var language: String
    public var kind: SOSKind
    /// Whole kilometres from the doctor's base, at least 1.
    public var distanceKm: Int
    /// A coarse area: the country and the direction from the doctor's base.
    public var area: String
    public var wave: Int
    public var offeredAt: Date

    public init(requestId: UUID, symptoms: [String], severity: SOSSeverity, language: String, kind: SOSKind, distanceKm: Int, area: String,
                wave: Int, offeredAt: Date) {
        self.requestId = requestId
        self.symptoms = symptoms
        self.severity = severity
        self.language = language
        self.kind = kind
        self.distanceKm = distanceKm
        self.area = area
        self.wave = wave
        self.offeredAt = offeredAt
    }
}

/// An SOS event for the hub.
public enum SOSMessage: Sendable, Equatable {
    /// `sos.offer` to one offered doctor.
    case offer(SOSOfferView)
    /// `sos.taken` to the other offered doctors once one accepted.
    case taken(requestId: UUID)
    /// `sos.withdrawn` to offered doctors when the request ends without them (cancelled, no doctor).
    case withdrawn(requestId: UUID, state: SOSState)
    /// `sos.status` to the patient, the doctor who has the case, his secretaries and admins.
    case status(SOSStatusView)
}

/// A request with its live status, as services answer.
public struct SOSCase: Sendable, Equatable {
    public var request: SOSRequest
    public var status: SOSStatusView

    public init(request: SOSRequest, status: SOSStatusView) {
        self.request = request
        self.status = status
    }
}
