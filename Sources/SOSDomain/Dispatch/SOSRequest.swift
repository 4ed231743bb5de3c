import Foundation

/// How an SOS case can be served: a doctor comes to the patient (home or hotel), or a video consultation.
public enum SOSKind: String, DomainEnum {
    case home
    case video

    /// The appointment's consultation type for a case served this way.
    public var consultationType: ConsultationType {
        switch self {
        case .home: .home
        case .video: .video
        }
    }
}

/// How bad the patient says it is.
public enum SOSSeverity: String, DomainEnum {
    case low
    case moderate
    case high
    case critical
}

/// Where an SOS request is in its life (`protocol/sos-states.md`; transitions: `SOSStateMachine`).
public enum SOSState: String, DomainEnum {
    /// Offered to nearby doctors in waves.
    case searching
    /// No one nearby accepted in time: offered as a video consultation to any on-call doctor speaking the language.
    case videoFallback = "video_fallback"
    case accepted
    case onTheWay = "on_the_way"
    case arrived
    case closed
    case cancelled
    /// Nobody accepted, not even for video: the patient is shown the emergency number.
    case noDoctor = "no_doctor"

    /// Offers are out and nobody has the case yet: a doctor may accept.
    public static let open: [SOSState] = [.searching, .videoFallback]
    /// A doctor has the case: he is not offered another.
    public static let active: [SOSState] = [.accepted, .onTheWay, .arrived]

    public var isOpen: Bool { Self.open.contains(self) }
    public var isActive: Bool { Self.active.contains(self) }
    public var isFinal: Bool { !self.isOpen && !self.isActive }
}

/// Where the patient is: coordinates, the free-text place (hotel and room) and the country (ISO 3166-1 alpha-2).
/// Only the patient, the doctor who accepted and staff ever see it.
public struct SOSLocation: Sendable, Equatable {
    public var latitude: Double
    public var longitude: Double
    public var place: String
    public var country: String

    public init(latitude: Double, longitude: Double, place: String, country: String) {
        self.latitude = latitude
        self.longitude = longitude
        self.place = place
        self.country = country
    }
}

/// A patient's urgent request for a doctor.
public struct SOSRequest: Sendable, Equatable {
    public var id: UUID
    public var patientId: UUID
    public var symptoms: [String]
    public var severity: SOSSeverity
    public var location: SOSLocation
    /// ISO 639-1, lower case (as doctors' languages are stored).
    public var language: String
    /// The kinds the patient accepts.
    public var kinds: [SOSKind]
    public var state: SOSState
    /// The last wave of offers sent (0 before the first).
    public var wave: Int
    /// The radius of the last wave, in km (nil in the video fallback: anywhere).
    public var searchRadiusKm: Double?
    public var acceptedDoctorId: UUID?
    public var acceptedKind: SOSKind?
    /// The appointment the accepted case became.
    public var appointmentId: UUID?
    /// The doctor's estimate while on the way.
    public var etaMinutes: Int?
    /// Red-flag symptoms or severity: the emergency number is shown before anything else.
    public var redFlag: Bool
    /// When the current search began (creation, or the last hand-back).
    public var searchStartedAt: Date
    /// When the next wave or timeout is due; nil when nothing is pending.
    public var nextStepAt: Date?
    /// Why it ended, in words (cancelled, handed back, no doctor).
    public var reason: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// Grows by one with every stored change; updates are compare-and-set on it.
    public var version: Int

    public init(
        id: UUID = UUID(), patientId: UUID, symptoms: [String], severity: SOSSeverity, location: SOSLocation, language: String, kinds: [SOSKind],
        state: SOSState = .searching, wave: Int = 0, searchRadiusKm: Double? = nil, acceptedDoctorId: UUID? = nil, acceptedKind: SOSKind? = nil,
        appointmentId: UUID? = nil, etaMinutes: Int? = nil, redFlag: Bool, searchStartedAt: Date, nextStepAt: Date? = nil, reason: String? = nil,
        createdAt: Date, updatedAt: Date, version: Int = 1
    ) {
        self.id = id
        self.patientId = patientId
        self.symptoms = symptoms
        self.severity = severity
        self.location = location
        self.language = language
        self.kinds = kinds
        self.state = state
        self.wave = wave
        self.searchRadiusKm = searchRadiusKm
        self.acceptedDoctorId = acceptedDoctorId
        self.acceptedKind = acceptedKind
        self.appointmentId = appointmentId
        self.etaMinutes = etaMinutes
        self.redFlag = redFlag
        self.searchStartedAt = searchStartedAt
        self.nextStepAt = nextStepAt
        self.reason = reason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }

    /// The number to call, shown with red flags and when no doctor is available.
    public var emergencyNumber: EmergencyNumber? {
        self.redFlag || self.state == .noDoctor ? EmergencyNumbers.number(for: self.location.country) : nil
    }
}

/// One doctor offered one request.
public struct SOSOffer: Sendable, Equatable {
    public var requestId: UUID
    public var doctorId: UUID
    public var wave: Int
    /// What the doctor is offered: home when he and the patient both do home visits, else video.
    public var kind: SOSKind
    public var distanceKm: Double
    public var offeredAt: Date
    public var declinedAt: Date?

    public init(requestId: UUID, doctorId: UUID, wave: Int, kind: SOSKind, distanceKm: Double, offeredAt: Date, declinedAt: Date? = nil) {
        self.requestId = requestId
        self.doctorId = doctorId
        self.wave = wave
        self.kind = kind
        self.distanceKm = distanceKm
        self.offeredAt = offeredAt
        self.declinedAt = declinedAt
    }
}

/// A doctor's on-call state: whether he takes SOS cases now, from where, how far and how.
public struct OnCallStatus: Sendable, Equatable {
    public var doctorId: UUID
    /// On call now, switched by hand.
    public var onCall: Bool
    /// On call whenever his published availability covers the moment (in his time zone).
    public var bySchedule: Bool
    public var latitude: Double?
    public var longitude: Double?
    public var radiusKm: Double
    public var kinds: [SOSKind]
    public var updatedAt: Date?

    public init(doctorId: UUID, onCall: Bool, bySchedule: Bool = false, latitude: Double?, longitude: Double?, radiusKm: Double, kinds: [SOSKind],
                updatedAt: Date?) {
        self.doctorId = doctorId
        self.onCall = onCall
        self.bySchedule = bySchedule
        self.latitude = latitude
        self.longitude = longitude
        self.radiusKm = radiusKm
        self.kinds = kinds
        self.updatedAt = updatedAt
    }

    /// A doctor who never went on call.
    public static func off(_ doctorId: UUID) -> OnCallStatus {
        OnCallStatus(doctorId: doctorId, onCall: false, latitude: nil, longitude: nil, radiusKm: DispatchRules.defaultCoverageKm, kinds: [.home], updatedAt: nil)
    }
}

/// A doctor's on-call state as he sees it: with his languages (from the profile) and whether offers reach him now.
public struct OnCallView: Sendable {
    public var status: OnCallStatus
    public var languages: [String]
    /// On call by hand, or by schedule while his availability covers this moment.
    public var onCallNow: Bool
}

/// An on-call doctor the location query found (before the distance, presence and ranking rules).
public struct SOSCandidate: Sendable, Equatable {
    public var doctorId: UUID
    public var latitude: Double
    public var longitude: Double
    public var radiusKm: Double
    public var kinds: [SOSKind]
    public var rating: Double
    /// On call only by schedule (the switch is off): a candidate only while his availability covers the moment.
    public var onlyBySchedule: Bool

    public init(doctorId: UUID, latitude: Double, longitude: Double, radiusKm: Double, kinds: [SOSKind], rating: Double, onlyBySchedule: Bool = false) {
        self.onlyBySchedule = onlyBySchedule
        self.doctorId = doctorId
        self.latitude = latitude
        self.longitude = longitude
        self.radiusKm = radiusKm
        self.kinds = kinds
        self.rating = rating
    }
}

/// What the candidate query filters on in SQL: on call (or on call by schedule), inside a bounding box (nil: anywhere), speaking the
/// language, offering one of the kinds, not offered this request yet, not on an active case; nearest to `latitude`,
/// `longitude` first (a flat-Earth distance, good enough to choose which `limit` rows to return).
public struct CandidateQuery: Sendable, Equatable {
    public var requestId: UUID
    public var latitude: Double
    public var longitude: Double
    public var box: BoundingBox?
    public var language: String
    public var kinds: [SOSKind]
    public var limit: Int

    public init(requestId: UUID, latitude: Double, longitude: Double, box: BoundingBox?, language: String, kinds: [SOSKind], limit: Int) {
        self.requestId = requestId
        self.latitude = latitude
        self.longitude = longitude
        self.box = box
        self.language = language
        self.kinds = kinds
        self.limit = limit
    }
}

/// Which SOS requests a staff member sees.
public enum SOSScope: Sendable, Equatable {
    case all
    /// Requests accepted by one of these doctors.
    case doctors([UUID])
    /// One patient's requests.
    case patient(UUID)
}
