import Foundation
import SOSDomain
import SQLKit

/// `UserRepository` over SQLKit; the same statements run on SQLite and PostgreSQL.
public struct SQLUserRepository: UserRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = "id, email, name, role, status, phone, profile_picture, is_email_verified, is_phone_verified, created_at, updated_at, version"

    public func create(_ user: User, passwordHash: String?) async throws {
        try await self.database.transaction { sql in
            do {
                try await sql.raw("""
                    INSERT INTO users (id, email, name, password_hash, role, status, phone, profile_picture,
                        is_email_verified, is_phone_verified, created_at, updated_at)
                    VALUES (\(bind: user.id), \(bind: user.email), \(bind: user.name), \(bind: passwordHash),
                        \(bind: user.role.rawValue), \(bind: user.status.rawValue), \(bind: user.phone), \(bind: user.profilePicture),
                        \(bind: user.isEmailVerified), \(bind: user.isPhoneVerified), \(bind: user.createdAt), \(bind: user.updatedAt))
                    """).run()
            } catch where SQLErrors.isUniqueViolation(error) {
                throw DomainError.conflict("An account with email \(user.email ?? "") already exists.")
            }
            try await Self.replaceAssociations(user, in: sql)
        }
    }

    public func find(id: UUID) async throws -> User? {
        try await self.database.read { sql in
            guard let row = try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM users WHERE id = \(bind: id)").first() else {
                return nil
            }
            return try await Self.withAssociations(Self.user(from: row), in: sql)
        }
    }

    public func find(email: String) async throws -> User? {
        try await self.credentials(email: email)?.user
    }

    public func find(phone: String) async throws -> User? {
        try await self.database.read { sql in
            guard let row = try await sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM users WHERE phone = \(bind: phone)
                ORDER BY is_phone_verified DESC, created_at ASC LIMIT 1
                """).first() else { return nil }
            return try await Self.withAssociations(Self.user(from: row), in: sql)
        }
    }

    public func setLanguage(userId: UUID, language: String) async throws {
        try await self.database.write { sql in
            try await sql.raw("UPDATE users SET language = \(bind: language) WHERE id = \(bind: userId)").run()
        }
    }

    public func languages(ids: [UUID]) async throws -> [UUID: String] {
        guard !ids.isEmpty else { return [:] }
        return try await self.database.read { sql in
            var languages: [UUID: String] = [:]
            for row in try await sql.raw("SELECT id, language FROM users WHERE id IN (\(binds: ids)) AND language IS NOT NULL").all() {
                languages[try row.value("id", as: UUID.self)] = try row.value("language", as: String.self)
            }
            return languages
        }
    }

    public func credentials(email: String) async throws -> (user: User, passwordHash: String?)? {
        try await self.database.read { sql in
            guard let row = try await sql.raw("SELECT \(unsafeRaw: Self.columns), password_hash FROM users WHERE email = \(bind: email)").first() else {
                return nil
            }
            let user = try await Self.withAssociations(Self.user(from: row), in: sql)
            return (user, try row.optional("password_hash", as: String.self))
        }
    }

    public func authSnapshot(id: UUID, tokenKey: String) async throws -> (user: User?, revoked: RevocationReason?) {
        try await self.database.read { sql in
            let row = try await sql.raw("""
                SELECT \(unsafeRaw: Self.columns),
                    (SELECT COUNT(*) FROM revoked_tokens WHERE token_key = \(bind: tokenKey)) AS revoked,
                    (SELECT MAX(reason) FROM revoked_tokens WHERE token_key = \(bind: tokenKey)) AS revoked_reason
                FROM users WHERE id = \(bind: id)
                """).first()
            guard let row else { return (nil, nil) }
            let user = try await Self.withAssociations(Self.user(from: row), in: sql)
            guard try row.value("revoked", as: Int.self) > 0 else { return (user, nil) }
            let reason: String? = try row.optional("revoked_reason")
            return (user, reason.flatMap(RevocationReason.init(rawValue:)) ?? .signedOut)
        }
    }

    @discardableResult
    public func update(_ user: User) async throws -> User {
        try await self.database.transaction { sql in
            let saved: (any SQLRow)?
            do {
                saved = try await sql.raw("""
                    UPDATE users SET email = \(bind: user.email), name = \(bind: user.name), role = \(bind: user.role.rawValue),
                        status = \(bind: user.status.rawValue), phone = \(bind: user.phone), profile_picture = \(bind: user.profilePicture),
                        is_email_verified = \(bind: user.isEmailVerified), is_phone_verified = \(bind: user.isPhoneVerified),
                        updated_at = \(bind: user.updatedAt), version = version + 1
                    WHERE id = \(bind: user.id) AND version = \(bind: user.version) RETURNING id
                    """).first()
            } catch where SQLErrors.isUniqueViolation(error) {
                throw DomainError.conflict("An account with email \(user.email ?? "") already exists.")
            }
            guard saved != nil else { throw DomainError.stale("account") }
            try await Self.replaceAssociations(user, in: sql)
            var stored = user
            stored.version += 1
            return stored
        }
    }

    public func setPasswordHash(userId: UUID, hash: String?) async throws {
        try await self.database.write { sql in
            try await sql.raw("UPDATE users SET password_hash = \(bind: hash) WHERE id = \(bind: userId)").run()
        }
    }

    public func delete(id: UUID) async throws -> Bool {
        do {
            return try await self.database.write { sql in
                try await sql.raw("DELETE FROM users WHERE id = \(bind: id) RETURNING id").first() != nil
            }
        } catch where SQLErrors.isForeignKeyViolation(error) {
            throw DomainError.conflict("This user has appointments or medical records, which must be kept; block the account (is_status 'blocked') instead.")
        }
    }

    public func list(_ query: UserQuery) async throws -> Page<User> {
        try await self.database.read { sql in
            var filter: SQLQueryString = "WHERE 1 = 1"
            if let role = query.role { filter += " AND role = \(bind: role.rawValue)" }
            if let status = query.status { filter += " AND status = \(bind: status.rawValue)" }
            if let search = query.search?.trimmingCharacters(in: .whitespaces), !search.isEmpty {
                let pattern = search.likeContainsPattern
                filter += " AND (LOWER(name) LIKE \(bind: pattern) ESCAPE '\\' OR LOWER(COALESCE(email, '')) LIKE \(bind: pattern) ESCAPE '\\')"
            }
            let total = try await sql.raw("SELECT COUNT(*) AS total FROM users \(filter)").first()?.value("total", as: Int.self) ?? 0
            let rows = try await sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM users \(filter)
                ORDER BY created_at DESC, id DESC LIMIT \(bind: query.page.limit) OFFSET \(bind: query.page.offset)
                """).all()
            let users = try await Self.withAssociations(rows.map(Self.user(from:)), in: sql)
            return Page(items: users, total: total, request: query.page)
        }
    }

    public func count(role: Role) async throws -> Int {
        try await self.database.read { sql in
            try await sql.raw("SELECT COUNT(*) AS total FROM users WHERE role = \(bind: role.rawValue)").first()?.value("total", as: Int.self) ?? 0
        }
    }

    public func existing(ids: [UUID], role: Role) async throws -> Set<UUID> {
        guard !ids.isEmpty else { return [] }
        return try await self.database.read { sql in
            let rows = try await sql.raw("SELECT id FROM users WHERE role = \(bind: role.rawValue) AND id IN (\(binds: ids))").all()
            return Set(try rows.map { try $0.value("id", as: UUID.self) })
        }
    }

    public func secretaryIds(forDoctor doctorId: UUID) async throws -> [UUID] {
        try await self.database.read { sql in
            try await sql.raw("SELECT secretary_id FROM secretary_doctors WHERE doctor_id = \(bind: doctorId)").all().map {
                try $0.value("secretary_id", as: UUID.self)
            }
        }
    }

    public func find(ids: [UUID]) async throws -> [UUID: User] {
        guard !ids.isEmpty else { return [:] }
        return try await self.database.read { sql in
            let rows = try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM users WHERE id IN (\(binds: ids))").all()
            let users = try await Self.withAssociations(rows.map(Self.user(from:)), in: sql)
            return Dictionary(uniqueKeysWithValues: users.map { ($0.id, $0) })
        }
    }

    // MARK: - Rows

    static func user(from row: any SQLRow) throws -> User {
        User(
            id: try row.value("id"),
            email: try row.optional("email"),
            name: try row.value("name"),
            role: Role(rawValue: try row.value("role")) ?? .guest,
            status: UserStatus(rawValue: try row.value("status")) ?? .blocked,
            phone: try row.optional("phone"),
            profilePicture: try row.optional("profile_picture"),
            isEmailVerified: try row.value("is_email_verified"),
            isPhoneVerified: try row.value("is_phone_verified"),
            associatedDoctors: [],
            createdAt: try row.value("created_at"),
            updatedAt: try row.value("updated_at"),
            version: try row.value("version", as: Int.self)
        )
    }

    static func withAssociations(_ user: User, in sql: any SQLDatabase) async throws -> User {
        try await Self.withAssociations([user], in: sql)[0]
    }

    /// Fills `associatedDoctors` for the secretaries among `users` with one query.
    static func withAssociations(_ users: [User], in sql: any SQLDatabase) async throws -> [User] {
        let secretaries = users.filter { $0.role == .secretary }.map(\.id)
        guard !secretaries.isEmpty else { return users }
        let rows = try await sql.raw("""
            SELECT secretary_id, doctor_id FROM secretary_doctors WHERE secretary_id IN (\(binds: secretaries)) ORDER BY doctor_id
            """).all()
        var bySecretary: [UUID: [UUID]] = [:]
        for row in rows {
            bySecretary[try row.value("secretary_id", as: UUID.self), default: []].append(try row.value("doctor_id", as: UUID.self))
        }
        return users.map { user in
            var user = user
            user.associatedDoctors = bySecretary[user.id] ?? []
            return user
        }
    }

    static func replaceAssociations(_ user: User, in sql: any SQLDatabase) async throws {
        try await sql.raw("DELETE FROM secretary_doctors WHERE secretary_id = \(bind: user.id)").run()
        for doctor in user.associatedDoctors {
            try await sql.raw("INSERT INTO secretary_doctors (secretary_id, doctor_id) VALUES (\(bind: user.id), \(bind: doctor))").run()
        }
    }
}
