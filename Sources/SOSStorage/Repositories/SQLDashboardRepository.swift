import Foundation
import SOSDomain
import SQLKit

/// `DashboardRepository` over SQLKit: every number is a `COUNT`/`SUM` over the rows.
public struct SQLDashboardRepository: DashboardRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// ` AND <column> IN (…)` for a secretary's doctors; nothing for the whole clinic.
    static func only(_ column: String, _ doctors: [UUID]?) -> SQLQueryString {
        doctors.map { .andIn(column, $0) } ?? ""
    }

    public func stats(doctors: [UUID]?) async throws -> DashboardStats {
        try await self.database.read { sql in
            var stats = DashboardStats()
            for row in try await sql.raw("SELECT status, COUNT(*) AS n FROM users GROUP BY status").all() {
                let n = try row.value("n", as: Int.self)
                stats.users.total += n
                switch try row.value("status", as: String.self) {
                case "active": stats.users.active += n
                case "blocked": stats.users.blocked += n
                case "pending": stats.users.pending += n
                default: break
                }
            }
            if let row = try await sql.raw("""
                SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN dp.is_listed = TRUE THEN 1 ELSE 0 END), 0) AS listed
                FROM users u LEFT JOIN doctor_profiles dp ON dp.user_id = u.id WHERE u.role = 'doctor'
                """).first() {
                stats.doctors.total = try row.value("total")
                stats.doctors.listed = try row.value("listed")
                stats.doctors.unlisted = stats.doctors.total - stats.doctors.listed
            }
            for row in try await sql.raw("SELECT status, COUNT(*) AS n FROM appointments WHERE 1 = 1\(Self.only("doctor_id", doctors)) GROUP BY status").all() {
                let n = try row.value("n", as: Int.self)
                stats.appointments.total += n
                switch AppointmentStatus(rawValue: try row.value("status", as: String.self)) {
                case .confirmed: stats.appointments.confirmed += n
                case .completed: stats.appointments.completed += n
                case .cancelled: stats.appointments.cancelled += n
                case .pendingPayment: stats.appointments.pending += n
                default: break
                }
            }
            for row in try await sql.raw("""
                SELECT y.status, y.currency, COUNT(*) AS n, CAST(COALESCE(SUM(y.amount_minor - y.refunded_minor), 0) AS BIGINT) AS kept
                FROM payments y JOIN appointments a ON a.id = y.appointment_id WHERE 1 = 1\(Self.only("a.doctor_id", doctors)) GROUP BY y.status, y.currency
                """).all() {
                let n = try row.value("n", as: Int.self)
                let currency = try Currency(try row.value("currency", as: String.self))
                switch PaymentStatus(rawValue: try row.value("status", as: String.self)) {
                case .succeeded:
                    stats.payments.successful += n
                    stats.payments.revenueMinor[currency, default: 0] += try row.value("kept", as: Int64.self)
                case .partiallyRefunded:
                    stats.payments.refunded += n
                    stats.payments.revenueMinor[currency, default: 0] += try row.value("kept", as: Int64.self)
                case .refunded:
                    stats.payments.refunded += n
                case .failed:
                    stats.payments.failed += n
                default:
                    break
                }
            }
            if let row = try await sql.raw("""
                SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN is_shared_with_patient = TRUE THEN 1 ELSE 0 END), 0) AS shared FROM medical_records
                WHERE 1 = 1\(Self.only("doctor_id", doctors))
                """).first() {
                stats.records.total = try row.value("total")
                stats.records.shared = try row.value("shared")
                stats.records.privateCount = stats.records.total - stats.records.shared
            }
            return stats
        }
    }

    public func recent(limit: Int, doctors: [UUID]?) async throws -> RecentActivity {
        try await self.database.read { sql in
            // step: a secretary sees her doctors and their patients, not every new account
            let people: SQLQueryString = doctors.map { ids in
                ids.isEmpty ? " AND 1 = 0" : " AND (id IN (\(binds: ids)) OR id IN (SELECT patient_id FROM appointments WHERE doctor_id IN (\(binds: ids))))"
            } ?? ""
            let users = try await sql.raw("""
                SELECT \(unsafeRaw: SQLUserRepository.columns) FROM users WHERE 1 = 1\(people) ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)
                """).all().map(SQLUserRepository.user(from:))
            let appointments = try await sql.raw("""
                \(unsafeRaw: SQLAppointmentRepository.detailsSelect) WHERE 1 = 1\(Self.only("a.doctor_id", doctors))
                ORDER BY a.created_at DESC, a.id DESC LIMIT \(bind: limit)
                """).all().map(SQLAppointmentRepository.details(from:))
            let payments = try await sql.raw("""
                \(unsafeRaw: SQLPaymentRepository.detailsSelect) WHERE 1 = 1\(Self.only("a.doctor_id", doctors))
                ORDER BY y.created_at DESC, y.id DESC LIMIT \(bind: limit)
                """).all().map(SQLPaymentRepository.details(from:))
            return RecentActivity(users: users, appointments: appointments, payments: payments)
        }
    }

    public func paymentAggregates(period: AnalyticsPeriod, start: LocalDate, end: LocalDate, doctors: [UUID]?) async throws -> [PaymentAggregate] {
        let from = WallClock.instant(start, LocalTime(seconds: 0)!, in: TimeZone(identifier: "UTC")!)
        let until = WallClock.instant(end.adding(days: 1), LocalTime(seconds: 0)!, in: TimeZone(identifier: "UTC")!)
        let bucket: String =
            switch (self.database.kind, period) {
            case (.sqlite, .day): "strftime('%Y-%m-%d', y.created_at, 'unixepoch')"
            case (.sqlite, .week): "date(y.created_at, 'unixepoch', '-6 days', 'weekday 1')"
            case (.sqlite, .month): "strftime('%Y-%m', y.created_at, 'unixepoch')"
            case (.sqlite, .year): "strftime('%Y', y.created_at, 'unixepoch')"
            case (.postgres, .day): "to_char(y.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
            case (.postgres, .week): "to_char(date_trunc('week', y.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
            case (.postgres, .month): "to_char(y.created_at AT TIME ZONE 'UTC', 'YYYY-MM')"
            case (.postgres, .year): "to_char(y.created_at AT TIME ZONE 'UTC', 'YYYY')"
            }
        return try await self.database.read { sql in
            try await sql.raw("""
                SELECT \(unsafeRaw: bucket) AS bucket, y.currency AS currency, y.status AS status, COUNT(*) AS n, CAST(SUM(y.amount_minor) AS BIGINT) AS total
                FROM payments y JOIN appointments a ON a.id = y.appointment_id
                WHERE y.created_at >= \(bind: from) AND y.created_at < \(bind: until)\(Self.only("a.doctor_id", doctors))
                GROUP BY 1, y.currency, y.status ORDER BY 1, y.currency, y.status
                """).all().map { row in
                PaymentAggregate(
                    bucket: try row.value("bucket"), currency: try Currency(try row.value("currency", as: String.self)),
                    status: PaymentStatus(rawValue: try row.value("status")) ?? .failed, count: try row.value("n"), sumMinor: try row.value("total")
                )
            }
        }
    }
}
