import Foundation

/// Fields a client may send to create a user (`POST /users`, admin only).
public struct NewUser: Sendable {
    public var email: String
    public var password: String
    public var name: String
    public var phone: String?
    public var role: Role
    public var status: UserStatus?
    public var profilePicture: String?
    public var associatedDoctors: [UUID]?

    public init(email: String, password: String, name: String, phone: String? = nil, role: Role, status: UserStatus? = nil, profilePicture: String? = nil, associatedDoctors: [UUID]? = nil) {
        self.email = email
        self.password = password
        self.name = name
        self.phone = phone
        self.role = role
        self.status = status
        self.profilePicture = profilePicture
        self.associatedDoctors = associatedDoctors
    }
}

/// Changes to a user; `nil` leaves a field as it is, an empty phone or picture clears it.
public struct UserChanges: Sendable {
    public var name: String?
    public var email: String?
    public var phone: String?
    public var profilePicture: String?
    public var role: Role?
    public var status: UserStatus?
    public var associatedDoctors: [UUID]?
    /// The account version the client last saw (`If-Match`); nil: the version read just before the write.
    public var expectedVersion: Int?

    public init(name: String? = nil, email: String? = nil, phone: String? = nil, profilePicture: String? = nil, role: Role? = nil, status: UserStatus? = nil,
                associatedDoctors: [UUID]? = nil, expectedVersion: Int? = nil) {
        self.name = name
        self.email = email
        self.phone = phone
        self.profilePicture = profilePicture
        self.role = role
        self.status = status
        self.associatedDoctors = associatedDoctors
        self.expectedVersion = expectedVersion
    }
}

/// Account management: profiles, listing and the admin's user administration.
///
/// Rules: only staff list users; only admins create, change others, or delete; nobody changes their own
/// role or status; nobody grants a role above their own or touches an account that outranks them;
/// only secretaries have associated doctors, and those must be doctors.
public struct UserService: Sendable {
    let users: any UserRepository
    let tokens: any TokenStore
    let hasher: any PasswordHasher
    let pictures: ProfilePictureService
    let now: @Sendable () -> Date

    public init(users: any UserRepository, tokens: any TokenStore, hasher: any PasswordHasher, pictures: ProfilePictureService,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.users = users
        self.tokens = tokens
        self.hasher = hasher
        self.pictures = pictures
        self.now = now
    }

    /// The caller's own account, as loaded when the request was authenticated.
    public func me(_ principal: Principal) async throws -> User {
        principal.user
    }

    /// Updates the caller's own name, phone and picture; refuses role, status and email changes.
    public func updateOwnProfile(_ principal: Principal, _ changes: UserChanges) async throws -> User {
        if changes.role != nil {
            throw DomainError.forbidden("You cannot change your own role; ask an administrator.")
        }
        if changes.status != nil {
            throw DomainError.forbidden("You cannot change your own account status ('is_status'); ask an administrator.")
        }
        if changes.email != nil {
            throw DomainError.forbidden("Your email cannot be changed here; ask an administrator.")
        }
        if changes.associatedDoctors != nil {
            throw DomainError.forbidden("You cannot change your own 'associated_doctors'; ask an administrator.")
        }
        guard var user = try await self.users.find(id: principal.id) else {
            throw DomainError.unauthorized("The account for this token no longer exists.")
        }
        if let expected = changes.expectedVersion, expected != user.version { throw DomainError.stale("account", version: expected) }
        let before = user
        try Self.apply(changes, to: &user)
        if let picture = changes.profilePicture { user.profilePicture = try await self.pictures.validated(picture, owner: user.id) }
        user.updatedAt = self.now()
        let stored = try await self.users.update(user)
        await self.pictures.discard(replaced: before.profilePicture, by: stored.profilePicture)
        return stored
    }

    /// Lists users with filters; staff only.
    public func list(_ principal: Principal, _ query: UserQuery) async throws -> Page<User> {
        try AccessPolicy.require(.listUsers, principal)
        return try await self.users.list(query)
    }

    /// One user: yourself, or anyone for staff. Others get 404 so ids reveal nothing.
    public func get(_ principal: Principal, id: UUID) async throws -> User {
        guard principal.id == id || AccessPolicy.allows(.readOtherUsers, principal), let user = try await self.users.find(id: id) else {
            throw DomainError.notFound("No user with id \(id.uuidString.lowercased()).")
        }
        return user
    }

    /// Creates a user of any role up to the admin's own; admin only.
    public func create(_ principal: Principal, _ input: NewUser) async throws -> User {
        try AccessPolicy.require(.createUsers, principal)
        guard AccessPolicy.mayGrant(input.role, principal) else {
            throw DomainError.forbidden("You cannot create a user with role '\(input.role.rawValue)', which is above your own.")
        }
        let email = try Validate.email(input.email)
        try Validate.password(input.password)
        let now = self.now()
        var user = User(email: email, name: try Validate.name(input.name), role: input.role, status: input.status ?? .active, createdAt: now, updatedAt: now)
        try Self.apply(UserChanges(phone: input.phone), to: &user)
        if let picture = input.profilePicture { user.profilePicture = try await self.pictures.validated(picture, owner: user.id) }
        user.associatedDoctors = try await self.checkedAssociations(input.associatedDoctors ?? [], role: input.role)
        guard try await self.users.find(email: email) == nil else {
            throw DomainError.conflict("An account with email \(email) already exists.")
        }
        try await self.users.create(user, passwordHash: try await self.hasher.hash(input.password))
        return user
    }

    /// Changes another user (or the admin's own name and phone); admin only.
    public func update(_ principal: Principal, id: UUID, _ changes: UserChanges) async throws -> User {
        guard AccessPolicy.allows(.changeOtherUsers, principal) else {
            if principal.id == id { return try await self.updateOwnProfile(principal, changes) }
            throw DomainError.forbidden(Permission.changeOtherUsers.refusal)
        }
        guard var user = try await self.users.find(id: id) else {
            throw DomainError.notFound("No user with id \(id.uuidString.lowercased()).")
        }
        if let expected = changes.expectedVersion, expected != user.version { throw DomainError.stale("account", version: expected) }
        if principal.id == id {
            if let role = changes.role, role != user.role {
                throw DomainError.forbidden("You cannot change your own role; ask another administrator.")
            }
            if let status = changes.status, status != user.status {
                throw DomainError.forbidden("You cannot change your own account status; ask another administrator.")
            }
        }
        guard AccessPolicy.mayManage(user, principal) else {
            throw DomainError.forbidden("You cannot change a user whose role ('\(user.role.rawValue)') is above your own.")
        }
        if let role = changes.role, !AccessPolicy.mayGrant(role, principal) {
            throw DomainError.forbidden("You cannot grant role '\(role.rawValue)', which is above your own.")
        }
        if let rawEmail = changes.email {
            let email = try Validate.email(rawEmail)
            if email != user.email, try await self.users.find(email: email) != nil {
                throw DomainError.conflict("An account with email \(email) already exists.")
            }
            user.email = email
        }
        let before = user
        try Self.apply(changes, to: &user)
        if let picture = changes.profilePicture { user.profilePicture = try await self.pictures.validated(picture, owner: user.id) }
        if let role = changes.role { user.role = role }
        if let status = changes.status { user.status = status }
        if let doctors = changes.associatedDoctors {
            user.associatedDoctors = try await self.checkedAssociations(doctors, role: user.role)
        } else if user.role != .secretary {
            user.associatedDoctors = []
        }
        user.updatedAt = self.now()
        user = try await self.users.update(user)
        await self.pictures.discard(replaced: before.profilePicture, by: user.profilePicture)
        // step: what a session may do was decided when it signed in; a change of role, status or a secretary's doctors
        // ends every session and socket now rather than when the tokens expire
        if let reason = Self.revocation(from: before, to: user) {
            try await self.tokens.revokeAll(userId: user.id, now: user.updatedAt, reason: reason)
        }
        return user
    }

    /// Deletes a user; admin only, never yourself.
    public func delete(_ principal: Principal, id: UUID) async throws {
        try AccessPolicy.require(.deleteUsers, principal)
        guard principal.id != id else {
            throw DomainError.forbidden("You cannot delete your own account.")
        }
        guard let user = try await self.users.find(id: id) else {
            throw DomainError.notFound("No user with id \(id.uuidString.lowercased()).")
        }
        guard AccessPolicy.mayManage(user, principal) else {
            throw DomainError.forbidden("You cannot delete a user whose role ('\(user.role.rawValue)') is above your own.")
        }
        guard try await self.users.delete(id: id) else {
            throw DomainError.notFound("No user with id \(id.uuidString.lowercased()).")
        }
    }

    /// Creates the first administrator (or resets its password); used by `create-admin` and development seeding.
    @discardableResult
    public func ensureAdmin(email rawEmail: String, password: String, name: String, role: Role = .admin) async throws -> User {
        let email = try Validate.email(rawEmail)
        try Validate.password(password)
        let hash = try await self.hasher.hash(password)
        if var existing = try await self.users.find(email: email) {
            existing.role = role.isAdmin ? role : .admin
            existing.status = .active
            existing.updatedAt = self.now()
            try await self.users.update(existing)
            try await self.users.setPasswordHash(userId: existing.id, hash: hash)
            return existing
        }
        let now = self.now()
        let user = User(email: email, name: try Validate.name(name), role: role, status: .active, isEmailVerified: true, createdAt: now, updatedAt: now)
        try await self.users.create(user, passwordHash: hash)
        return user
    }

    /// Why a change of an account ends its sessions, or nil when it does not.
    static func revocation(from before: User, to after: User) -> RevocationReason? {
        if after.status == .blocked && before.status != .blocked { return .blocked }
        if after.role != before.role { return .roleChanged }
        // step: a secretary who gains a doctor keeps her sessions; one who loses a doctor must not keep seeing his patients
        if !Set(before.associatedDoctors).isSubset(of: after.associatedDoctors) { return .accessChanged }
        return nil
    }

    private static func apply(_ changes: UserChanges, to user: inout User) throws {
        if let name = changes.name { user.name = try Validate.name(name) }
        if let phone = changes.phone {
            let validated = try Validate.optionalPhone(phone)
            if validated != user.phone { user.isPhoneVerified = false }
            user.phone = validated
        }
    }

    private func checkedAssociations(_ doctors: [UUID], role: Role) async throws -> [UUID] {
        let unique = Array(Set(doctors))
        guard !unique.isEmpty else { return [] }
        guard role == .secretary else {
            throw DomainError.invalid("'associated_doctors' applies to secretaries only.")
        }
        let found = try await self.users.existing(ids: unique, role: .doctor)
        let missing = unique.filter { !found.contains($0) }
        guard missing.isEmpty else {
            throw DomainError.invalid("'associated_doctors' must list doctor user ids; these are not doctors: \(missing.map { $0.uuidString.lowercased() }.joined(separator: ", ")).")
        }
        return unique.sorted { $0.uuidString < $1.uuidString }
    }
}
