import Foundation

/// Profile fields a client sends to create or change a doctor profile; nil/unchanged keeps the current value.
public struct DoctorProfileInput: Sendable {
    public var userId: UUID?
    public var name: String?
    public var email: String?
    public var phone: String?
    public var profilePicture: String?
    public var specialisation: String?
    public var address: FieldUpdate<String>
    public var workingHours: FieldUpdate<JSON>
    public var bio: FieldUpdate<String>
    public var isListed: Bool?
    public var supportedLanguages: FieldUpdate<[String]>
    public var timeZone: String?
    /// The whole fee table in major units (replaces the stored one): consultation type → amount.
    public var fees: [String: Double]?
    public var currency: String?
    /// The profile version the client last saw (`If-Match`); nil: the version read just before the write.
    public var expectedVersion: Int?

    public init(userId: UUID? = nil, name: String? = nil, email: String? = nil, phone: String? = nil, profilePicture: String? = nil,
                specialisation: String? = nil, address: FieldUpdate<String> = .unchanged, workingHours: FieldUpdate<JSON> = .unchanged,
                bio: FieldUpdate<String> = .unchanged, isListed: Bool? = nil, supportedLanguages: FieldUpdate<[String]> = .unchanged,
                timeZone: String? = nil, fees: [String: Double]? = nil, currency: String? = nil, expectedVersion: Int? = nil) {
        self.userId = userId
        self.name = name
        self.email = email
        self.phone = phone
        self.profilePicture = profilePicture
        self.specialisation = specialisation
        self.address = address
        self.workingHours = workingHours
        self.bio = bio
        self.isListed = isListed
        self.supportedLanguages = supportedLanguages
        self.timeZone = timeZone
        self.fees = fees
        self.currency = currency
        self.expectedVersion = expectedVersion
    }
}

/// Doctor listings, profiles and ratings.
///
/// Rules: patients (and guests) only see listed, active doctors; a doctor edits their own profile, an admin
/// anyone's; a patient rates a doctor once per completed appointment with them, and the doctor's rating is
/// the exact mean of the ratings.
public struct DoctorService: Sendable {
    let doctors: any DoctorRepository
    let users: any UserRepository
    let appointments: any AppointmentRepository
    let pictures: ProfilePictureService
    let now: @Sendable () -> Date

    public init(doctors: any DoctorRepository, users: any UserRepository, appointments: any AppointmentRepository, pictures: ProfilePictureService,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.doctors = doctors
        self.users = users
        self.appointments = appointments
        self.pictures = pictures
        self.now = now
    }

    public func list(_ principal: Principal, _ query: DoctorQuery) async throws -> Page<Doctor> {
        if let minimum = query.minRating, !(0...5).contains(minimum) {
            throw DomainError.invalid("'minRating' must be a number from 0 to 5 (got \(minimum)).")
        }
        var query = query
        if !AccessPolicy.allows(.seeUnlistedDoctors, principal) {
            if query.isListed == false { return Page(items: [], total: 0, request: query.page) }
            query.isListed = true
            query.activeOnly = true
        }
        return try await self.doctors.list(query)
    }

    public func get(_ principal: Principal, id: UUID) async throws -> Doctor {
        guard let doctor = try await self.doctors.find(id: id), AccessPolicy.sees(doctor, principal) else {
            throw DomainError.notFound("No doctor with id \(id.uuidString.lowercased()).")
        }
        return doctor
    }

    /// The caller's own doctor profile (`GET /doctors/self`).
    public func own(_ principal: Principal) async throws -> Doctor {
        try AccessPolicy.require(.haveDoctorProfile, principal)
        guard let doctor = try await self.doctors.find(id: principal.id) else {
            throw DomainError.notFound("No doctor profile for this account.")
        }
        return doctor
    }

    /// Creates or updates a profile (`POST /doctors`): a doctor for themselves, an admin for any doctor user.
    public func save(_ principal: Principal, _ input: DoctorProfileInput, requireSpecialisation: Bool) async throws -> (doctor: Doctor, created: Bool) {
        let targetId = input.userId ?? principal.id
        guard AccessPolicy.editsProfile(of: targetId, principal) else {
            throw DomainError.forbidden(AccessPolicy.allows(.haveDoctorProfile, principal) ? "Doctors can only edit their own profile." : Permission.editAnyDoctorProfile.refusal)
        }
        guard var user = try await self.users.find(id: targetId) else {
            throw DomainError.notFound("No user with id \(targetId.uuidString.lowercased()).")
        }
        guard user.role == .doctor else {
            throw DomainError.invalid("User \(targetId.uuidString.lowercased()) is a \(user.role.rawValue), not a doctor; make them a doctor first (PUT /users/:id).")
        }
        let existing = try await self.doctors.find(id: targetId)
        let hadProfile = existing.map { !$0.profile.specialisation.isEmpty } ?? false
        var profile = existing?.profile ?? DoctorProfile.empty(for: user)
        if requireSpecialisation && input.specialisation == nil && !hadProfile {
            throw DomainError.invalid("'specialisation' is required to create a doctor profile.")
        }
        if let expected = input.expectedVersion, expected != profile.version {
            throw DomainError.stale("doctor profile", version: expected)
        }
        let now = self.now()
        if !hadProfile { profile.createdAt = now }
        try Self.apply(input, to: &profile)
        profile.updatedAt = now
        var userChanged = false
        if let name = input.name { user.name = try Validate.name(name); userChanged = true }
        if let phone = input.phone { user.phone = try Validate.optionalPhone(phone); userChanged = true }
        let previousPicture = user.profilePicture
        if let picture = input.profilePicture { user.profilePicture = try await self.pictures.validated(picture, owner: user.id); userChanged = true }
        if let rawEmail = input.email {
            let email = try Validate.email(rawEmail)
            if email != user.email {
                // step: an email is how an account signs in and is claimed; like PUT /users/me, only an admin changes it
                try AccessPolicy.require(.changeDoctorEmail, principal)
                if try await self.users.find(email: email) != nil {
                    throw DomainError.conflict("An account with email \(email) already exists.")
                }
                user.email = email
                user.isEmailVerified = false
                userChanged = true
            }
        }
        guard try await self.doctors.save(profile) else { throw DomainError.stale("doctor profile") }
        profile.version += 1
        if userChanged {
            user.updatedAt = now
            user = try await self.users.update(user)
            await self.pictures.discard(replaced: previousPicture, by: user.profilePicture)
        }
        return (Doctor(user: user, profile: profile), !hadProfile)
    }

    /// Updates a doctor's profile by id (`PUT /doctors/:id`).
    public func update(_ principal: Principal, id: UUID, _ input: DoctorProfileInput) async throws -> Doctor {
        guard try await self.doctors.find(id: id) != nil else {
            throw DomainError.notFound("No doctor with id \(id.uuidString.lowercased()).")
        }
        var input = input
        input.userId = id
        return try await self.save(principal, input, requireSpecialisation: false).doctor
    }

    /// A patient rates a doctor after a completed appointment with them, once per appointment.
    public func rate(_ principal: Principal, doctorId: UUID, rating: Int, comment: String?, appointmentId: UUID?) async throws -> Doctor {
        try AccessPolicy.require(.rateDoctors, principal)
        guard (1...5).contains(rating) else {
            throw DomainError.invalid("'rating' must be an integer from 1 to 5 (got \(rating)).")
        }
        _ = try InputLimits.text(comment, field: "comment", limit: InputLimits.comment)
        guard let doctor = try await self.doctors.find(id: doctorId) else {
            throw DomainError.notFound("No doctor with id \(doctorId.uuidString.lowercased()).")
        }
        let completed = try await self.appointments.list(AppointmentQuery(
            page: try PageRequest(limit: 100), scope: .patient(principal.id), status: .completed, doctorId: doctorId, sortBy: .date, sortOrder: .desc
        )).items.map(\.appointment)
        let candidates = appointmentId.map { id in completed.filter { $0.id == id } } ?? completed
        guard !candidates.isEmpty else {
            throw DomainError.forbidden("You can rate \(doctor.user.name) after a completed appointment with them.")
        }
        var lastError: DomainError?
        for appointment in candidates {
            do {
                let profile = try await self.doctors.addRating(DoctorRating(
                    doctorId: doctorId, patientId: principal.id, appointmentId: appointment.id, rating: rating,
                    comment: comment?.trimmingCharacters(in: .whitespacesAndNewlines), createdAt: self.now()
                ))
                return Doctor(user: doctor.user, profile: profile)
            } catch let error as DomainError where error.kind == .conflict {
                lastError = error
            }
        }
        throw lastError ?? DomainError.conflict("You already rated every completed appointment with this doctor.")
    }

    static func apply(_ input: DoctorProfileInput, to profile: inout DoctorProfile) throws {
        if let specialisation = input.specialisation {
            let trimmed = specialisation.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= InputLimits.specialisation else {
                throw DomainError.invalid("'specialisation' must be 1 to \(InputLimits.specialisation) characters.")
            }
            profile.specialisation = trimmed
        }
        profile.address = try InputLimits.text(input.address.applied(to: profile.address), field: "address", limit: InputLimits.shortText)
        profile.bio = try InputLimits.text(input.bio.applied(to: profile.bio), field: "bio", limit: InputLimits.bio)
        let hours = try InputLimits.json(input.workingHours.applied(to: profile.workingHours), field: "working_hours", maxBytes: InputLimits.workingHoursBytes)
        if let hours, !hours.isObject {
            throw DomainError.invalid("'working_hours' must be a JSON object, e.g. {\"monday\": \"09:00-17:00\"}.")
        }
        profile.workingHours = hours
        if let listed = input.isListed { profile.isListed = listed }
        if let languages = input.supportedLanguages.applied(to: profile.supportedLanguages) {
            profile.supportedLanguages = try Self.languages(languages)
        } else {
            profile.supportedLanguages = nil
        }
        if let zone = input.timeZone {
            _ = try WallClock.timeZone(zone)
            profile.timeZone = zone
        }
        if let code = input.currency {
            let currency = try Currency(code)
            if currency != profile.currency, input.fees == nil, !profile.fees.isEmpty {
                throw DomainError.invalid("Changing 'currency' to \(currency.code) needs the fees in it too: send 'fees' with 'currency'.")
            }
            profile.currency = currency
        }
        if let fees = input.fees { profile.fees = try Self.fees(fees, currency: profile.currency) }
    }

    /// Largest fee accepted, in major units: far above any consultation, low enough to stop typos and overflow.
    public static let maximumFee = 100_000.0

    /// A fee table from the client's `{type: amount}`: known consultation types, positive amounts with no more
    /// decimals than the currency has, at most `maximumFee`.
    static func fees(_ raw: [String: Double], currency: Currency) throws -> [ConsultationType: Int64] {
        var fees: [ConsultationType: Int64] = [:]
        for (key, amount) in raw {
            guard let type = ConsultationType(rawValue: key) else {
                throw DomainError.invalid("'fees' keys must be consultation types (\(ConsultationType.allowedValues)); got '\(key.prefix(30))'.")
            }
            guard amount <= Self.maximumFee else {
                throw DomainError.invalid("'fees.\(key)' must be at most \(Int(Self.maximumFee)) \(currency.code) (got \(amount)).")
            }
            fees[type] = try currency.minorUnits(amount, field: "fees.\(key)")
        }
        return fees
    }

    /// Language codes such as `en`, `fr`, `pt-BR`: lower-cased primary tag, at most 20 of them, no duplicates.
    static func languages(_ languages: [String]) throws -> [String] {
        guard languages.count <= InputLimits.languages else {
            throw DomainError.invalid("'supported_languages' may list at most \(InputLimits.languages) languages.")
        }
        var seen: [String] = []
        for language in languages {
            let code = language.trimmingCharacters(in: .whitespaces)
            guard (2...15).contains(code.count), code.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "-") }) else {
                throw DomainError.invalid("'supported_languages' must list language codes such as \"en\" or \"pt-BR\" (got '\(language.prefix(20))').")
            }
            if !seen.contains(where: { $0.lowercased() == code.lowercased() }) { seen.append(code) }
        }
        return seen
    }
}
