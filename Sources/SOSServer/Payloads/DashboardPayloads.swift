import Foundation
import Hummingbird
import SOSDomain

/// `GET /admin/dashboard/stats`: the seed's counts. `totalRevenue` is in the reporting currency
/// (`SOS_REPORTING_CURRENCY`, named in `currency`); `revenueByCurrency` lists the money kept in every currency.
struct StatsPayload: ResponseEncodable, Sendable {
    struct Stats: Encodable, Sendable {
        struct Users: Encodable, Sendable { let total, active, blocked, pending: Int }
        struct Doctors: Encodable, Sendable { let total, listed, unlisted: Int }
        struct Appointments: Encodable, Sendable { let total, confirmed, completed, cancelled, pending: Int }
        struct Payments: Encodable, Sendable {
            let totalRevenue: Double
            let currency: String
            let revenueByCurrency: [String: Double]
            let successful, failed, refunded: Int
        }
        struct Records: Encodable, Sendable { let total, shared: Int; let `private`: Int }

        let users: Users
        let doctors: Doctors
        let appointments: Appointments
        let payments: Payments
        let medicalRecords: Records
    }

    let stats: Stats

    init(_ stats: DashboardStats, reportingCurrency: Currency) {
        let byCurrency = Dictionary(uniqueKeysWithValues: stats.payments.revenueMinor.map { ($0.key.code, $0.key.majorUnits($0.value)) })
        self.stats = Stats(
            users: .init(total: stats.users.total, active: stats.users.active, blocked: stats.users.blocked, pending: stats.users.pending),
            doctors: .init(total: stats.doctors.total, listed: stats.doctors.listed, unlisted: stats.doctors.unlisted),
            appointments: .init(
                total: stats.appointments.total, confirmed: stats.appointments.confirmed, completed: stats.appointments.completed,
                cancelled: stats.appointments.cancelled, pending: stats.appointments.pending
            ),
            payments: .init(
                totalRevenue: byCurrency[reportingCurrency.code] ?? 0, currency: reportingCurrency.code, revenueByCurrency: byCurrency,
                successful: stats.payments.successful, failed: stats.payments.failed, refunded: stats.payments.refunded
            ),
            medicalRecords: .init(total: stats.records.total, shared: stats.records.shared, private: stats.records.privateCount)
        )
    }
}

/// `GET /admin/dashboard/recent-activity`.
struct RecentActivityPayload: ResponseEncodable, Sendable {
    struct NameEmail: Encodable, Sendable {
        let name: String
        let email: String
    }

    struct RecentUser: Encodable, Sendable {
        let id, name, email, phone: String
        let role: Role
        let created_at, updated_at: Date
    }

    struct RecentAppointment: Encodable, Sendable {
        let id, user_id, doctor_id: String
        let date: LocalDate
        let start_time, end_time: LocalTime
        let status: AppointmentStatus
        let consultation_type: ConsultationType
        let symptoms: [String]
        let additional_note: Nullable<String>
        let visit_location: Nullable<JSON>
        let created_at, updated_at: Date
        let patient: NameEmail
        let doctor: NameEmail
    }

    struct RecentPayment: Encodable, Sendable {
        let id, appointment_id, user_id: String
        let amount: Double
        let currency: String
        let status: PaymentStatus
        let payment_method: PaymentMethod
        let stripe_payment_intent_id: Nullable<String>
        let paid_at: Nullable<Date>
        let created_at, updated_at: Date
        let user: NameEmail
    }

    let recentUsers: [RecentUser]
    let recentAppointments: [RecentAppointment]
    let recentPayments: [RecentPayment]

    init(_ activity: RecentActivity) {
        self.recentUsers = activity.users.map {
            RecentUser(id: $0.id.apiString, name: $0.name, email: $0.email ?? "", phone: $0.phone ?? "", role: $0.role, created_at: $0.createdAt, updated_at: $0.updatedAt)
        }
        self.recentAppointments = activity.appointments.map { details in
            let a = details.appointment
            return RecentAppointment(
                id: a.id.apiString, user_id: a.patientId.apiString, doctor_id: a.doctorId.apiString, date: a.date, start_time: a.startTime,
                end_time: a.endTime, status: a.status, consultation_type: a.consultationType, symptoms: a.symptoms,
                additional_note: Nullable(a.additionalNote), visit_location: Nullable(a.visitLocation), created_at: a.createdAt, updated_at: a.updatedAt,
                patient: NameEmail(name: details.patient.name, email: details.patient.email ?? ""),
                doctor: NameEmail(name: details.doctor.person.name, email: details.doctor.person.email ?? "")
            )
        }
        self.recentPayments = activity.payments.map { details in
            let p = details.payment
            return RecentPayment(
                id: p.id.apiString, appointment_id: p.appointmentId.apiString, user_id: p.userId.apiString, amount: p.currency.majorUnits(p.amountMinor),
                currency: p.currency.code, status: p.status, payment_method: p.method, stripe_payment_intent_id: Nullable(p.stripePaymentIntentId),
                paid_at: Nullable(p.paidAt), created_at: p.createdAt, updated_at: p.updatedAt,
                user: NameEmail(name: details.payer.name, email: details.payer.email ?? "")
            )
        }
    }
}

/// `GET /admin/dashboard/analytics`.
struct AnalyticsPayload: ResponseEncodable, Sendable {
    struct CurrencyTotal: Encodable, Sendable {
        let total: Double
        let count: Int
    }

    struct Bucket: Encodable, Sendable {
        let date: String
        let count: Int
        let totalAmount: Double
        let averageAmount: Double
        let successful, failed, pending: Int
        let currencies: [String: CurrencyTotal]
    }

    struct Summary: Encodable, Sendable {
        let totalPayments: Int
        let totalAmount: Double
        let successfulPayments, failedPayments, pendingPayments: Int
        let averagePayment: Double
        let currencies: [String: CurrencyTotal]
    }

    struct DateRange: Encodable, Sendable {
        let start: Date
        let end: Date
    }

    let data: [Bucket]
    let summary: Summary
    let period: AnalyticsPeriod
    let dateRange: DateRange

    init(_ analytics: PaymentAnalytics) {
        func totals(_ bucket: PaymentBucket) -> [String: CurrencyTotal] { bucket.currencies.mapValues { CurrencyTotal(total: $0.total, count: $0.count) } }
        self.data = analytics.buckets.map {
            Bucket(date: $0.date, count: $0.count, totalAmount: $0.totalAmount, averageAmount: $0.averageAmount, successful: $0.successful,
                   failed: $0.failed, pending: $0.pending, currencies: totals($0))
        }
        let s = analytics.summary
        self.summary = Summary(
            totalPayments: s.count, totalAmount: s.totalAmount, successfulPayments: s.successful, failedPayments: s.failed,
            pendingPayments: s.pending, averagePayment: s.averageAmount, currencies: totals(s)
        )
        self.period = analytics.period
        let utc = TimeZone(identifier: "UTC")!
        self.dateRange = DateRange(
            start: WallClock.instant(analytics.start, LocalTime(seconds: 0)!, in: utc),
            end: WallClock.instant(analytics.end.adding(days: 1), LocalTime(seconds: 0)!, in: utc).addingTimeInterval(-0.001)
        )
    }
}
