import Foundation

/// Counts for `GET /admin/dashboard/stats`, all computed by the database.
public struct DashboardStats: Sendable, Equatable {
    public struct Users: Sendable, Equatable { public var total = 0, active = 0, blocked = 0, pending = 0; public init() {} }
    public struct Doctors: Sendable, Equatable { public var total = 0, listed = 0, unlisted = 0; public init() {} }
    public struct Appointments: Sendable, Equatable { public var total = 0, confirmed = 0, completed = 0, cancelled = 0, pending = 0; public init() {} }
    public struct Payments: Sendable, Equatable {
        /// Money kept, per currency, in minor units: succeeded amounts plus the unrefunded part of partial refunds.
        public var revenueMinor: [Currency: Int64] = [:]
        public var successful = 0, failed = 0, refunded = 0
        public init() {}
    }
    public struct Records: Sendable, Equatable { public var total = 0, shared = 0, privateCount = 0; public init() {} }

    public var users = Users()
    public var doctors = Doctors()
    public var appointments = Appointments()
    public var payments = Payments()
    public var records = Records()

    public init() {}
}

/// The newest rows for `GET /admin/dashboard/recent-activity`.
public struct RecentActivity: Sendable {
    public var users: [User]
    public var appointments: [AppointmentDetails]
    public var payments: [PaymentDetails]

    public init(users: [User], appointments: [AppointmentDetails], payments: [PaymentDetails]) {
        self.users = users
        self.appointments = appointments
        self.payments = payments
    }
}

/// Bucket sizes for payment analytics.
public enum AnalyticsPeriod: String, DomainEnum {
    case day, week, month, year
}

/// One group of payments: a bucket, a currency and a status, with its count and sum (minor units).
public struct PaymentAggregate: Sendable, Equatable {
    public var bucket: String
    public var currency: Currency
    public var status: PaymentStatus
    public var count: Int
    public var sumMinor: Int64

    public init(bucket: String, currency: Currency, status: PaymentStatus, count: Int, sumMinor: Int64) {
        self.bucket = bucket
        self.currency = currency
        self.status = status
        self.count = count
        self.sumMinor = sumMinor
    }
}

/// One analytics bucket (or the summary). Sums are kept per currency in minor units (exact); `totalAmount`
/// adds the major-unit totals of every currency, as the seed's field does, and `currencies` gives the
/// per-currency totals that do not mix.
public struct PaymentBucket: Sendable, Equatable {
    public var date: String
    public var count = 0
    public var successful = 0
    public var failed = 0
    public var pending = 0
    /// Per currency: sum in minor units and number of payments.
    public var byCurrency: [Currency: PerCurrency] = [:]

    public struct PerCurrency: Sendable, Equatable {
        public var sumMinor: Int64 = 0
        public var count = 0
    }

    public init(date: String) {
        self.date = date
    }

    /// Major-unit totals per upper-case ISO code.
    public var currencies: [String: (total: Double, count: Int)] {
        Dictionary(uniqueKeysWithValues: self.byCurrency.map { ($0.key.code, ($0.key.majorUnits($0.value.sumMinor), $0.value.count)) })
    }

    /// Sum of every currency's major-unit total, rounded to a thousandth (the finest minor unit).
    public var totalAmount: Double {
        (self.byCurrency.reduce(0.0) { $0 + $1.key.majorUnits($1.value.sumMinor) } * 1000).rounded() / 1000
    }

    public var averageAmount: Double { self.count == 0 ? 0 : ((self.totalAmount / Double(self.count)) * 1000).rounded() / 1000 }

    mutating func add(_ aggregate: PaymentAggregate) {
        self.count += aggregate.count
        switch aggregate.status {
        case .succeeded: self.successful += aggregate.count
        case .failed: self.failed += aggregate.count
        case .pending: self.pending += aggregate.count
        default: break
        }
        self.byCurrency[aggregate.currency, default: PerCurrency()].sumMinor += aggregate.sumMinor
        self.byCurrency[aggregate.currency, default: PerCurrency()].count += aggregate.count
    }
}

/// `GET /admin/dashboard/analytics`.
public struct PaymentAnalytics: Sendable {
    public var buckets: [PaymentBucket]
    public var summary: PaymentBucket
    public var period: AnalyticsPeriod
    public var start: LocalDate
    public var end: LocalDate
}

/// Aggregations for the admin dashboard; the database does the counting and summing.
/// `doctors`: nil for the whole clinic; otherwise only appointments, payments and records of those doctors (and, in
/// recent activity, only those doctors and their patients).
public protocol DashboardRepository: Sendable {
    func stats(doctors: [UUID]?) async throws -> DashboardStats
    func recent(limit: Int, doctors: [UUID]?) async throws -> RecentActivity
    /// Payments created on `start` … `end` (UTC dates, inclusive), grouped by bucket, currency and status.
    func paymentAggregates(period: AnalyticsPeriod, start: LocalDate, end: LocalDate, doctors: [UUID]?) async throws -> [PaymentAggregate]
}

/// The admin dashboard: statistics, recent activity and payment analytics. Admins see the whole clinic; a
/// secretary sees the appointments, payments and records of the doctors she works for (user and doctor counts
/// stay clinic-wide: they are counts, not people).
public struct DashboardService: Sendable {
    let dashboard: any DashboardRepository
    let now: @Sendable () -> Date

    public init(dashboard: any DashboardRepository, now: @escaping @Sendable () -> Date = { Date() }) {
        self.dashboard = dashboard
        self.now = now
    }

    public func stats(_ principal: Principal) async throws -> DashboardStats {
        try await self.dashboard.stats(doctors: try Self.scope(principal))
    }

    public func recent(_ principal: Principal, limit: Int) async throws -> RecentActivity {
        try await self.dashboard.recent(limit: limit, doctors: try Self.scope(principal))
    }

    /// Buckets over `start` … `end` (default: a window ending today sized to the period).
    public func analytics(_ principal: Principal, period: AnalyticsPeriod, start: LocalDate?, end: LocalDate?) async throws -> PaymentAnalytics {
        let doctors = try Self.scope(principal)
        let today = LocalDate.today(in: TimeZone(identifier: "UTC")!, now: self.now())
        let last = end ?? today
        let window =
            switch period {
            case .day: 30
            case .week: 7 * 12
            case .month: 365
            case .year: 365 * 5
            }
        let first = start ?? last.adding(days: -window + 1)
        guard first <= last else { throw DomainError.invalid("'startDate' must not be after 'endDate'.") }
        guard last.dayNumber - first.dayNumber <= 366 * 20 else { throw DomainError.invalid("The date range may span at most 20 years.") }
        let aggregates = try await self.dashboard.paymentAggregates(period: period, start: first, end: last, doctors: doctors)
        var buckets: [String: PaymentBucket] = [:]
        var summary = PaymentBucket(date: "\(first)/\(last)")
        for aggregate in aggregates {
            buckets[aggregate.bucket, default: PaymentBucket(date: aggregate.bucket)].add(aggregate)
            summary.add(aggregate)
        }
        return PaymentAnalytics(buckets: buckets.values.sorted { $0.date < $1.date }, summary: summary, period: period, start: first, end: last)
    }

    /// nil (everything) for admins, the associated doctors for a secretary; others are refused.
    static func scope(_ principal: Principal) throws -> [UUID]? {
        try AccessPolicy.dashboardDoctors(principal)
    }
}
