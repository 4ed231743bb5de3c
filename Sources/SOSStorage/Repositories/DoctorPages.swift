import Foundation
import PostgresNIO
import SOSDomain

/// The doctor search as patients send it — listed, active doctors whose name, specialisation or bio contains the
/// text (or all of them), best rated first — as a kept prepared statement on both databases, read by position.
///
/// Any other list (filters by specialisation, language or rating, other orders, staff's views of unlisted doctors)
/// takes `SQLDoctorRepository`'s general path. `DoctorPagesTests` compares the two field by field on the same rows,
/// so a new column is added to `SQLDoctorRepository.columns`, `doctor(from:)` here and the general decoder.
enum DoctorPages {
    struct SearchPage: KeptStatement {
        static let name = "sos_doctors_search_v1"
        static let sql = """
            \(SQLDoctorRepository.columns), COUNT(*) OVER () AS total_count \(SQLDoctorRepository.from)
            WHERE u.role = 'doctor' AND u.status = 'active' AND COALESCE(dp.is_listed, FALSE) = TRUE
            AND (LOWER(u.name) LIKE $1 ESCAPE '\\' OR LOWER(COALESCE(dp.specialisation, '')) LIKE $1 ESCAPE '\\'
                OR LOWER(COALESCE(dp.bio, '')) LIKE $1 ESCAPE '\\')
            ORDER BY COALESCE(dp.rating, 0) DESC, u.id DESC LIMIT $2 OFFSET $3
            """
        /// `%` when there is no search text (every name matches).
        let pattern: String
        let limit: Int
        let offset: Int

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(self.pattern)
            bindings.append(Int64(self.limit))
            bindings.append(Int64(self.offset))
            return bindings
        }

        var sqliteBinds: [SQLiteReader.Bind] { [.text(self.pattern), .integer(Int64(self.limit)), .integer(Int64(self.offset))] }

        /// A row and the page's total.
        static func value(from columns: some ColumnReader) throws -> (Doctor, Int) {
            (try DoctorPages.doctor(from: columns), try columns.int(27))
        }
    }

    /// A page of the search, as kept by `RecentReads`.
    struct SearchKey: Hashable, Sendable {
        let pattern: String
        let limit: Int
        let offset: Int
    }

    typealias Fetched = (items: [Doctor], total: Int?)

    /// The search's LIKE pattern when `query` is the shape this fast path serves.
    static func pattern(of query: DoctorQuery) -> String? {
        guard query.activeOnly, query.isListed == true, query.specialisation == nil, query.language == nil, query.minRating == nil,
              query.sortBy == .rating, query.sortOrder == .desc
        else { return nil }
        return SQLDoctorRepository.searchPattern(query) ?? "%"
    }

    /// The page and the total (nil past the end, with 0 rows: the caller counts apart).
    static func fetch(pattern: String, page: PageRequest, in database: Database) async throws -> (items: [Doctor], total: Int?) {
        let rows = try await database.rows(SearchPage(pattern: pattern, limit: page.limit, offset: page.offset))
        return Paging.kept(rows, page: page)
    }

    /// One row of `SQLDoctorRepository.columns` (the same values `SQLDoctorRepository.doctor(from:)` decodes).
    static func doctor(from r: some ColumnReader) throws -> Doctor {
        let user = User(
            id: try r.uuid(0), email: try r.optionalText(1), name: try r.text(2), role: Role(rawValue: try r.text(3)) ?? .guest,
            status: UserStatus(rawValue: try r.text(4)) ?? .blocked, phone: try r.optionalText(5), profilePicture: try r.optionalText(6),
            isEmailVerified: try r.bool(7), isPhoneVerified: try r.bool(8), associatedDoctors: [], createdAt: try r.date(9),
            updatedAt: try r.date(10), version: try r.int(11)
        )
        guard try r.optionalUUID(12) != nil else { return Doctor(user: user, profile: .empty(for: user)) }
        let profile = DoctorProfile(
            userId: user.id, specialisation: try r.text(13), rating: try r.double(14), ratingCount: try r.int(15), address: try r.optionalText(16),
            workingHours: JSON.parse(try r.optionalText(17)), bio: try r.optionalText(18), isListed: try r.bool(19),
            supportedLanguages: JSON.parse(try r.optionalText(20))?.strings, timeZone: try r.text(21),
            fees: SQLDoctorRepository.fees(JSON.parse(try r.optionalText(22))),
            currency: (try? Currency(try r.text(23))) ?? .defaultFeeCurrency, version: try r.int(24), createdAt: try r.date(25),
            updatedAt: try r.date(26)
        )
        return Doctor(user: user, profile: profile)
    }
}
