import Foundation

/// Calendar subscriptions: each user gets an unguessable feed token; the feed lists their own appointments (as
/// patient or doctor; a secretary's doctors'), from 90 days ago on, for Google/Apple calendar subscription. A
/// feed URL is a bearer secret that calendar services keep, so an admin's feed never lists the whole clinic.
public struct CalendarService: Sendable {
    let tokens: any CalendarTokenRepository
    let users: any UserRepository
    let appointments: any AppointmentRepository
    let secrets: any SecretSource
    let now: @Sendable () -> Date

    public init(tokens: any CalendarTokenRepository, users: any UserRepository, appointments: any AppointmentRepository,
                secrets: any SecretSource, now: @escaping @Sendable () -> Date = { Date() }) {
        self.tokens = tokens
        self.users = users
        self.appointments = appointments
        self.secrets = secrets
        self.now = now
    }

    /// The caller's feed token, created on first use; `rotate` replaces it (old subscription URLs stop working).
    public func token(_ principal: Principal, rotate: Bool = false) async throws -> String {
        if !rotate, let existing = try await self.tokens.token(userId: principal.id) { return existing }
        let token = self.secrets.randomToken()
        try await self.tokens.save(token: token, userId: principal.id, at: self.now())
        return token
    }

    /// The appointments behind a feed token; 404 for an unknown token or a blocked account.
    public func feed(token: String) async throws -> (user: User, appointments: [AppointmentDetails]) {
        guard !token.isEmpty, let userId = try await self.tokens.user(forToken: token),
              let user = try await self.users.find(id: userId), user.status != .blocked
        else {
            throw DomainError.notFound("Unknown calendar token. Get your feed URL from GET /api/v1/calendar/token.")
        }
        let scope: AppointmentScope
        switch user.role {
        case .patient: scope = .patient(user.id)
        case .doctor: scope = .doctor(user.id)
        case .secretary: scope = .doctors(user.associatedDoctors)
        case .admin, .superadmin, .guest: return (user, [])
        }
        let today = LocalDate.today(in: TimeZone(identifier: "UTC")!, now: self.now())
        var items: [AppointmentDetails] = []
        var page = 1
        while page <= 50 {
            let result = try await self.appointments.list(AppointmentQuery(
                page: try PageRequest(page: page, limit: 100), scope: scope, startDate: today.adding(days: -90), sortBy: .date, sortOrder: .asc
            ))
            items.append(contentsOf: result.items)
            guard page < result.totalPages else { break }
            page += 1
        }
        return (user, items)
    }
}
