import Foundation
import SOSDomain
import SQLKit

/// `DoctorRepository` over SQLKit: doctor users joined with their (optional) profile.
public struct SQLDoctorRepository: DoctorRepository {
    let database: Database
    /// The patients' search pages of the last moment (`searchLifetime`, zero: none kept).
    let recentSearches: RecentReads<DoctorPages.SearchKey, DoctorPages.Fetched>

    public init(database: Database, searchLifetime: Duration = .zero) {
        self.database = database
        self.recentSearches = RecentReads(lifetime: searchLifetime)
    }

    static let columns = """
        SELECT u.id, u.email, u.name, u.role, u.status, u.phone, u.profile_picture, u.is_email_verified, u.is_phone_verified,
            u.created_at, u.updated_at, u.version, dp.user_id AS dp_user_id, dp.specialisation AS dp_specialisation, dp.rating AS dp_rating,
            dp.rating_count AS dp_rating_count, dp.address AS dp_address, dp.working_hours AS dp_working_hours, dp.bio AS dp_bio,
            dp.is_listed AS dp_is_listed, dp.supported_languages AS dp_supported_languages, dp.time_zone AS dp_time_zone,
            dp.fees AS dp_fees, dp.currency AS dp_currency, dp.version AS dp_version, dp.created_at AS dp_created_at, dp.updated_at AS dp_updated_at
        """

    static let from = "FROM users u LEFT JOIN doctor_profiles dp ON dp.user_id = u.id"

    static let select = "\(columns) \(from)"

    /// The LIKE pattern of the query's search text (spaces around it dropped); nil when there is none.
    static func searchPattern(_ query: DoctorQuery) -> String? {
        guard let search = query.search?.trimmingCharacters(in: .whitespaces), !search.isEmpty else { return nil }
        return search.likeContainsPattern
    }

    public func find(id: UUID) async throws -> Doctor? {
        try await self.database.read { sql in
            try await sql.raw("\(unsafeRaw: Self.select) WHERE u.role = 'doctor' AND u.id = \(bind: id)").first().map(Self.doctor(from:))
        }
    }

    public func find(ids: [UUID]) async throws -> [UUID: Doctor] {
        guard !ids.isEmpty else { return [:] }
        return try await self.database.read { sql in
            let doctors = try await sql.raw("\(unsafeRaw: Self.select) WHERE u.role = 'doctor' AND u.id IN (\(binds: ids))").all().map(Self.doctor(from:))
            return Dictionary(uniqueKeysWithValues: doctors.map { ($0.user.id, $0) })
        }
    }

    public func list(_ query: DoctorQuery) async throws -> Page<Doctor> {
        // step: the patients' search, the hottest doctor read, is a kept prepared statement
        if let pattern = DoctorPages.pattern(of: query) {
            let key = DoctorPages.SearchKey(pattern: pattern, limit: query.page.limit, offset: query.page.offset)
            let fetched = try await self.recentSearches.value(for: key, in: self.database) { [database = self.database, page = query.page] in
                try await DoctorPages.fetch(pattern: pattern, page: page, in: database)
            }
            if case let (items, total?) = fetched { return Page(items: items, total: total, request: query.page) }
        }
        return try await self.listGeneral(query)
    }

    /// Any list, on either database.
    func listGeneral(_ query: DoctorQuery) async throws -> Page<Doctor> {
        try await self.database.read { sql in
            var filter: SQLQueryString = "WHERE u.role = 'doctor'"
            if query.activeOnly { filter += " AND u.status = 'active'" }
            if let listed = query.isListed { filter += " AND COALESCE(dp.is_listed, FALSE) = \(bind: listed)" }
            if let specialisation = query.specialisation {
                filter += " AND LOWER(dp.specialisation) = \(bind: specialisation.lowercased())"
            }
            if let language = query.language {
                filter += " AND EXISTS (SELECT 1 FROM doctor_languages l WHERE l.doctor_id = u.id AND l.language = \(bind: language.lowercased()))"
            }
            if let minRating = query.minRating { filter += " AND COALESCE(dp.rating, 0) >= \(bind: minRating)" }
            if let pattern = Self.searchPattern(query) {
                filter += """
                     AND (LOWER(u.name) LIKE \(bind: pattern) ESCAPE '\\' OR LOWER(COALESCE(dp.specialisation, '')) LIKE \(bind: pattern) ESCAPE '\\'
                     OR LOWER(COALESCE(dp.bio, '')) LIKE \(bind: pattern) ESCAPE '\\')
                    """
            }
            let column =
                switch query.sortBy {
                case .rating: "COALESCE(dp.rating, 0)"
                case .ratingCount: "COALESCE(dp.rating_count, 0)"
                case .createdAt: "u.created_at"
                }
            let direction = query.sortOrder == .asc ? "ASC" : "DESC"
            let (rows, total) = try await Paging.fetch(
                sql,
                select: """
                    \(unsafeRaw: Self.columns), COUNT(*) OVER () AS total_count \(unsafeRaw: Self.from) \(filter)
                    ORDER BY \(unsafeRaw: column) \(unsafeRaw: direction), u.id \(unsafeRaw: direction)
                    """,
                count: "SELECT COUNT(*) AS total \(unsafeRaw: Self.from) \(filter)", page: query.page
            )
            return Page(items: try rows.map(Self.doctor(from:)), total: total, request: query.page)
        }
    }

    public func save(_ profile: DoctorProfile) async throws -> Bool {
        try await self.database.transaction { sql in
            let fees = Self.feesJSON(profile.fees)
            let languages = profile.supportedLanguages.map { JSON.array($0.map(JSON.string)).text }
            let stored: Bool
            if profile.version == 0 {
                stored = try await sql.raw("""
                    INSERT INTO doctor_profiles (user_id, specialisation, rating, rating_sum, rating_count, address, working_hours, bio,
                        is_listed, supported_languages, time_zone, fees, currency, version, created_at, updated_at)
                    VALUES (\(bind: profile.userId), \(bind: profile.specialisation), 0, 0, 0, \(bind: profile.address),
                        \(bind: profile.workingHours?.text), \(bind: profile.bio), \(bind: profile.isListed), \(bind: languages),
                        \(bind: profile.timeZone), \(bind: fees), \(bind: profile.currency.code), 1, \(bind: profile.createdAt), \(bind: profile.updatedAt))
                    ON CONFLICT (user_id) DO NOTHING RETURNING user_id
                    """).first() != nil
            } else {
                stored = try await sql.raw("""
                    UPDATE doctor_profiles SET specialisation = \(bind: profile.specialisation), address = \(bind: profile.address),
                        working_hours = \(bind: profile.workingHours?.text), bio = \(bind: profile.bio), is_listed = \(bind: profile.isListed),
                        supported_languages = \(bind: languages), time_zone = \(bind: profile.timeZone), fees = \(bind: fees),
                        currency = \(bind: profile.currency.code), version = version + 1, updated_at = \(bind: profile.updatedAt)
                    WHERE user_id = \(bind: profile.userId) AND version = \(bind: profile.version) RETURNING user_id
                    """).first() != nil
            }
            guard stored else { return false }
            try await sql.raw("DELETE FROM doctor_languages WHERE doctor_id = \(bind: profile.userId)").run()
            for language in Set((profile.supportedLanguages ?? []).map { $0.lowercased() }) {
                try await sql.raw("INSERT INTO doctor_languages (doctor_id, language) VALUES (\(bind: profile.userId), \(bind: language))").run()
            }
            return true
        }
    }

    /// `{"video": 4500}`: minor units per consultation type, keys sorted.
    static func feesJSON(_ fees: [ConsultationType: Int64]) -> String? {
        fees.isEmpty ? nil : JSON.object(Dictionary(uniqueKeysWithValues: fees.map { ($0.key.rawValue, JSON.number(Double($0.value))) })).text
    }

    public func addRating(_ rating: DoctorRating) async throws -> DoctorProfile {
        try await self.database.transaction { sql in
            do {
                try await sql.raw("""
                    INSERT INTO doctor_ratings (id, doctor_id, patient_id, appointment_id, rating, comment, created_at)
                    VALUES (\(bind: rating.id), \(bind: rating.doctorId), \(bind: rating.patientId), \(bind: rating.appointmentId),
                        \(bind: rating.rating), \(bind: rating.comment), \(bind: rating.createdAt))
                    """).run()
            } catch where SQLErrors.isUniqueViolation(error) {
                throw DomainError.conflict("This appointment was already rated; each appointment can be rated once.")
            }
            try await sql.raw("""
                INSERT INTO doctor_profiles (user_id, specialisation, rating, rating_sum, rating_count, is_listed, time_zone, created_at, updated_at)
                VALUES (\(bind: rating.doctorId), '', 0, 0, 0, FALSE, 'UTC', \(bind: rating.createdAt), \(bind: rating.createdAt))
                ON CONFLICT (user_id) DO NOTHING
                """).run()
            try await sql.raw("""
                UPDATE doctor_profiles SET rating_sum = rating_sum + \(bind: rating.rating), rating_count = rating_count + 1,
                    rating = (rating_sum + \(bind: rating.rating)) * 1.0 / (rating_count + 1)
                WHERE user_id = \(bind: rating.doctorId)
                """).run()
            guard let row = try await sql.raw("\(unsafeRaw: Self.select) WHERE u.id = \(bind: rating.doctorId)").first() else {
                throw DomainError.notFound("No doctor with id \(rating.doctorId.uuidString.lowercased()).")
            }
            return try Self.doctor(from: row).profile
        }
    }

    static func fees(_ json: JSON?) -> [ConsultationType: Int64] {
        guard case .object(let members) = json else { return [:] }
        var fees: [ConsultationType: Int64] = [:]
        for (key, value) in members {
            if let type = ConsultationType(rawValue: key), case .number(let minor) = value { fees[type] = Int64(minor) }
        }
        return fees
    }

    static func doctor(from row: any SQLRow) throws -> Doctor {
        let user = try SQLUserRepository.user(from: row)
        guard try !row.decodeNil(column: "dp_user_id") else {
            return Doctor(user: user, profile: .empty(for: user))
        }
        let languages = try row.json("dp_supported_languages")?.strings
        let profile = DoctorProfile(
            userId: user.id,
            specialisation: try row.value("dp_specialisation"),
            rating: try row.value("dp_rating", as: Double.self),
            ratingCount: try row.value("dp_rating_count", as: Int.self),
            address: try row.optional("dp_address"),
            workingHours: try row.json("dp_working_hours"),
            bio: try row.optional("dp_bio"),
            isListed: try row.value("dp_is_listed"),
            supportedLanguages: languages,
            timeZone: try row.value("dp_time_zone"),
            fees: Self.fees(try row.json("dp_fees")),
            currency: (try? Currency(try row.value("dp_currency", as: String.self))) ?? .defaultFeeCurrency,
            version: try row.value("dp_version", as: Int.self),
            createdAt: try row.value("dp_created_at"),
            updatedAt: try row.value("dp_updated_at")
        )
        return Doctor(user: user, profile: profile)
    }
}
