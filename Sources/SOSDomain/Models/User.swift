import Foundation

/// A person with an account: patient, doctor, clinic staff or administrator.
public struct User: Sendable, Equatable, Identifiable {
    public var id: UUID
    /// Lower-cased; `nil` for accounts created from a phone number only.
    public var email: String?
    public var name: String
    public var role: Role
    public var status: UserStatus
    /// E.164, or `nil` when unknown.
    public var phone: String?
    public var profilePicture: String?
    public var isEmailVerified: Bool
    public var isPhoneVerified: Bool
    /// Doctors a secretary works for; empty for other roles.
    public var associatedDoctors: [UUID]
    public var createdAt: Date
    public var updatedAt: Date
    /// Grows by one with every stored change; `UserRepository.update` is compare-and-set on it.
    public var version: Int

    public init(
        id: UUID = UUID(),
        email: String?,
        name: String,
        role: Role,
        status: UserStatus = .active,
        phone: String? = nil,
        profilePicture: String? = nil,
        isEmailVerified: Bool = false,
        isPhoneVerified: Bool = false,
        associatedDoctors: [UUID] = [],
        createdAt: Date,
        updatedAt: Date,
        version: Int = 1
    ) {
        self.id = id
        self.email = email
        self.name = name
        self.role = role
        self.status = status
        self.phone = phone
        self.profilePicture = profilePicture
        self.isEmailVerified = isEmailVerified
        self.isPhoneVerified = isPhoneVerified
        self.associatedDoctors = associatedDoctors
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }
}

/// Filters for listing users (`GET /users`).
public struct UserQuery: Sendable, Equatable {
    public var page: PageRequest
    public var role: Role?
    public var status: UserStatus?
    /// Case-insensitive substring of name or email.
    public var search: String?

    public init(page: PageRequest, role: Role? = nil, status: UserStatus? = nil, search: String? = nil) {
        self.page = page
        self.role = role
        self.status = status
        self.search = search
    }
}
