import Foundation

/// How a consultation happens.
public enum ConsultationType: String, DomainEnum {
    case home
    case online
    case chat
    case video
}

/// A doctor's public profile: what patients search and book on.
public struct DoctorProfile: Sendable, Equatable {
    public var userId: UUID
    public var specialisation: String
    /// Mean of all ratings, exact to `ratingSum / ratingCount`; 0 without ratings.
    public var rating: Double
    public var ratingCount: Int
    public var address: String?
    public var workingHours: JSON?
    public var bio: String?
    public var isListed: Bool
    public var supportedLanguages: [String]?
    /// IANA time zone the doctor's appointment dates and times are in.
    public var timeZone: String
    /// The doctor's price per consultation type, in minor units of `currency`; a type without a fee cannot be booked.
    public var fees: [ConsultationType: Int64]
    public var currency: Currency
    /// Grows by one with every stored change; updates are compare-and-set on it.
    public var version: Int
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        userId: UUID, specialisation: String, rating: Double = 0, ratingCount: Int = 0, address: String? = nil, workingHours: JSON? = nil,
        bio: String? = nil, isListed: Bool = false, supportedLanguages: [String]? = nil, timeZone: String = "UTC",
        fees: [ConsultationType: Int64] = [:], currency: Currency = .defaultFeeCurrency, version: Int = 0, createdAt: Date, updatedAt: Date
    ) {
        self.userId = userId
        self.specialisation = specialisation
        self.rating = rating
        self.ratingCount = ratingCount
        self.address = address
        self.workingHours = workingHours
        self.bio = bio
        self.isListed = isListed
        self.supportedLanguages = supportedLanguages
        self.timeZone = timeZone
        self.fees = fees
        self.currency = currency
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// What one consultation of `type` costs, or nil when the doctor does not offer it for a fee.
    public func fee(for type: ConsultationType) -> Fee? {
        self.fees[type].map { Fee(amountMinor: $0, currency: self.currency) }
    }

    /// The profile a doctor has before filling one in: unlisted, no specialisation yet (version 0: never stored).
    public static func empty(for user: User) -> DoctorProfile {
        DoctorProfile(userId: user.id, specialisation: "", createdAt: user.createdAt, updatedAt: user.updatedAt)
    }
}

/// A doctor user with their profile, as listed and shown.
public struct Doctor: Sendable, Equatable {
    public var user: User
    public var profile: DoctorProfile

    public init(user: User, profile: DoctorProfile) {
        self.user = user
        self.profile = profile
    }
}

/// Sort keys for `GET /doctors`.
public enum DoctorSort: String, DomainEnum {
    case rating
    case ratingCount = "rating_count"
    case createdAt = "created_at"
}

/// Filters for `GET /doctors`.
public struct DoctorQuery: Sendable {
    public var page: PageRequest
    public var search: String?
    public var specialisation: String?
    public var language: String?
    public var minRating: Double?
    public var isListed: Bool?
    /// Only active doctors (set for patients).
    public var activeOnly: Bool
    public var sortBy: DoctorSort
    public var sortOrder: SortOrder

    public init(page: PageRequest, search: String? = nil, specialisation: String? = nil, language: String? = nil, minRating: Double? = nil,
                isListed: Bool? = nil, activeOnly: Bool = false, sortBy: DoctorSort = .rating, sortOrder: SortOrder = .desc) {
        self.page = page
        self.search = search
        self.specialisation = specialisation
        self.language = language
        self.minRating = minRating
        self.isListed = isListed
        self.activeOnly = activeOnly
        self.sortBy = sortBy
        self.sortOrder = sortOrder
    }
}

/// A patient's rating of a completed appointment.
public struct DoctorRating: Sendable, Equatable {
    public var id: UUID
    public var doctorId: UUID
    public var patientId: UUID
    public var appointmentId: UUID
    public var rating: Int
    public var comment: String?
    public var createdAt: Date

    public init(id: UUID = UUID(), doctorId: UUID, patientId: UUID, appointmentId: UUID, rating: Int, comment: String?, createdAt: Date) {
        self.id = id
        self.doctorId = doctorId
        self.patientId = patientId
        self.appointmentId = appointmentId
        self.rating = rating
        self.comment = comment
        self.createdAt = createdAt
    }
}
