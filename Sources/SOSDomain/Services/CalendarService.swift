import Foundation

/// Calendar subscriptions: each user gets an unguessable feed token; the feed lists the appointments they
/// could see through the API (from 90 days ago on), for Google/Apple calendar subscription.
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
        let principal = Principal(user: user, tokenKey: "calendar-feed", tokenExpiresAt: self.now())
        guard let scope = AccessPolicy.appointmentScope(principal) else { return (user, []) }
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
