import Foundation
import SOSDomain
import SQLKit

/// `PaymentRepository` over SQLKit. Status changes are compare-and-set, refunds reserve their amount with a
/// conditional update, so concurrent callers can never push a payment past what was paid.
public struct SQLPaymentRepository: PaymentRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = """
        y.id, y.appointment_id, y.user_id, y.amount_minor, y.currency, y.status, y.payment_method, y.provider, y.stripe_payment_intent_id,
        y.stripe_charge_id, y.stripe_refund_id, y.refunded_minor, y.refund_reason, y.metadata, y.error_message, y.paid_at, y.refunded_at,
        y.created_at, y.updated_at
        """

    static let detailsSelect = """
        SELECT \(columns), p.name AS p_name, p.email AS p_email, p.phone AS p_phone, p.profile_picture AS p_picture,
            a.date AS ap_date, a.start_time AS ap_start_time, a.consultation_type AS ap_consultation_type, a.status AS ap_status,
            d.name AS d_name, COALESCE(dp.specialisation, '') AS d_specialisation
        FROM payments y JOIN users p ON p.id = y.user_id JOIN appointments a ON a.id = y.appointment_id JOIN users d ON d.id = a.doctor_id
        LEFT JOIN doctor_profiles dp ON dp.user_id = a.doctor_id
        """

    static let blocking = ["pending", "processing", "succeeded", "partially_refunded"]

    public func idempotencyRecord(owner: UUID, key: String) async throws -> IdempotencyRecord? {
        try await SQLIdempotencyKeys.find(owner: owner, key: key, database: self.database)
    }

    public func insertIfNoneOpen(_ payment: Payment, idempotency: IdempotencyKey?) async throws -> Payment? {
        do {
            return try await self.database.transaction { sql in
                if let existing = try await sql.raw("""
                    SELECT \(unsafeRaw: Self.columns) FROM payments y WHERE y.appointment_id = \(bind: payment.appointmentId)
                    AND y.status IN (\(binds: Self.blocking)) LIMIT 1
                    """).first() {
                    return try Self.payment(from: existing)
                }
                if let idempotency {
                    try await SQLIdempotencyKeys.record(idempotency, resourceId: payment.id, at: payment.createdAt, in: sql)
                }
                try await sql.raw("""
                    INSERT INTO payments (id, appointment_id, user_id, amount_minor, currency, exponent, status, payment_method, provider,
                        stripe_payment_intent_id, stripe_charge_id, stripe_refund_id, refunded_minor, refund_reason, metadata, error_message,
                        paid_at, refunded_at, created_at, updated_at)
                    VALUES (\(bind: payment.id), \(bind: payment.appointmentId), \(bind: payment.userId), \(bind: payment.amountMinor),
                        \(bind: payment.currency.code), \(bind: payment.currency.exponent), \(bind: payment.status.rawValue), \(bind: payment.method.rawValue),
                        \(bind: payment.provider.rawValue), \(bind: payment.stripePaymentIntentId), \(bind: payment.stripeChargeId),
                        \(bind: payment.stripeRefundId), \(bind: payment.refundedMinor), \(bind: payment.refundReason), \(bind: payment.metadata?.text),
                        \(bind: payment.errorMessage), \(bind: payment.paidAt), \(bind: payment.refundedAt), \(bind: payment.createdAt), \(bind: payment.updatedAt))
                    """).run()
                return nil
            }
        } catch where SQLErrors.isUniqueViolation(error) {
            // step: a concurrent request won the race for this appointment
            return try await self.database.read { sql in
                try await sql.raw("""
                    SELECT \(unsafeRaw: Self.columns) FROM payments y WHERE y.appointment_id = \(bind: payment.appointmentId)
                    AND y.status IN (\(binds: Self.blocking)) LIMIT 1
                    """).first().map(Self.payment(from:))
            } ?? payment
        }
    }

    public func find(id: UUID) async throws -> Payment? {
        try await self.database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM payments y WHERE y.id = \(bind: id)").first().map(Self.payment(from:))
        }
    }

    public func open(appointmentId: UUID) async throws -> Payment? {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM payments y WHERE y.appointment_id = \(bind: appointmentId)
                AND y.status IN (\(binds: [PaymentStatus.pending.rawValue, PaymentStatus.processing.rawValue])) LIMIT 1
                """).first().map(Self.payment(from:))
        }
    }

    public func find(intentId: String) async throws -> Payment? {
        try await self.database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM payments y WHERE y.stripe_payment_intent_id = \(bind: intentId)")
                .first().map(Self.payment(from:))
        }
    }

    public func details(id: UUID) async throws -> PaymentDetails? {
        try await self.database.read { sql in
            try await sql.raw("\(unsafeRaw: Self.detailsSelect) WHERE y.id = \(bind: id)").first().map(Self.details(from:))
        }
    }

    public func list(_ query: PaymentQuery) async throws -> Page<PaymentDetails> {
        try await self.database.read { sql in
            var filter: SQLQueryString = "WHERE 1 = 1"
            switch query.scope {
            case .all: break
            case .payer(let id): filter += " AND y.user_id = \(bind: id)"
            case .doctor(let id): filter += " AND a.doctor_id = \(bind: id)"
            case .doctors(let ids): filter += .andIn("a.doctor_id", ids)
            }
            if let status = query.status { filter += " AND y.status = \(bind: status.rawValue)" }
            if let userId = query.userId { filter += " AND y.user_id = \(bind: userId)" }
            let total = try await sql.raw("SELECT COUNT(*) AS total FROM payments y JOIN appointments a ON a.id = y.appointment_id \(filter)")
                .first()?.value("total", as: Int.self) ?? 0
            let direction = query.sortOrder == .asc ? "ASC" : "DESC"
            let order =
                switch query.sortBy {
                case .createdAt: "y.created_at \(direction)"
                // step: amounts in different currencies are compared in major units
                case .amount: "(y.amount_minor * 1.0 / CASE y.exponent WHEN 0 THEN 1 WHEN 3 THEN 1000 ELSE 100 END) \(direction)"
                case .paidAt: "y.paid_at IS NULL, y.paid_at \(direction)"
                }
            let rows = try await sql.raw("""
                \(unsafeRaw: Self.detailsSelect) \(filter) ORDER BY \(unsafeRaw: order), y.id \(unsafeRaw: direction)
                LIMIT \(bind: query.page.limit) OFFSET \(bind: query.page.offset)
                """).all()
            return Page(items: try rows.map(Self.details(from:)), total: total, request: query.page)
        }
    }

    public func setIntent(id: UUID, intentId: String?, at: Date) async throws {
        try await self.database.write { sql in
            try await sql.raw("""
                UPDATE payments SET stripe_payment_intent_id = COALESCE(stripe_payment_intent_id, \(bind: intentId)), updated_at = \(bind: at)
                WHERE id = \(bind: id)
                """).run()
        }
    }

    public func transition(_ payment: Payment, from expected: PaymentStatus) async throws -> Bool {
        try await self.database.write { sql in
            try await sql.raw("""
                UPDATE payments SET status = \(bind: payment.status.rawValue), stripe_payment_intent_id = \(bind: payment.stripePaymentIntentId),
                    stripe_charge_id = \(bind: payment.stripeChargeId), error_message = \(bind: payment.errorMessage), paid_at = \(bind: payment.paidAt),
                    metadata = \(bind: payment.metadata?.text), updated_at = \(bind: payment.updatedAt), refunded_minor = \(bind: payment.refundedMinor),
                    stripe_refund_id = \(bind: payment.stripeRefundId), refund_reason = \(bind: payment.refundReason), refunded_at = \(bind: payment.refundedAt)
                WHERE id = \(bind: payment.id) AND status = \(bind: expected.rawValue) RETURNING id
                """).first() != nil
        }
    }

    public func reserveRefund(id: UUID, amountMinor: Int64) async throws -> Bool {
        try await self.database.write { sql in
            try await sql.raw("""
                UPDATE payments SET refunded_minor = refunded_minor + \(bind: amountMinor)
                WHERE id = \(bind: id) AND status IN ('succeeded', 'partially_refunded') AND refunded_minor + \(bind: amountMinor) <= amount_minor
                RETURNING id
                """).first() != nil
        }
    }

    public func releaseRefund(id: UUID, amountMinor: Int64) async throws {
        try await self.database.write { sql in
            try await sql.raw("UPDATE payments SET refunded_minor = refunded_minor - \(bind: amountMinor) WHERE id = \(bind: id) AND refunded_minor >= \(bind: amountMinor)").run()
        }
    }

    public func completeRefund(id: UUID, refundedAtLeast refundedMinor: Int64, refundId: String?, reason: String?, at: Date) async throws -> Payment? {
        try await self.database.transaction { sql in
            try await sql.raw("""
                UPDATE payments SET refunded_minor = CASE WHEN refunded_minor < \(bind: refundedMinor) THEN \(bind: refundedMinor) ELSE refunded_minor END
                WHERE id = \(bind: id) AND status IN ('succeeded', 'partially_refunded', 'refunded')
                """).run()
            try await sql.raw("""
                UPDATE payments SET status = CASE WHEN refunded_minor >= amount_minor THEN 'refunded' ELSE 'partially_refunded' END,
                    stripe_refund_id = COALESCE(\(bind: refundId), stripe_refund_id), refund_reason = COALESCE(\(bind: reason), refund_reason),
                    refunded_at = \(bind: at), updated_at = \(bind: at)
                WHERE id = \(bind: id) AND refunded_minor > 0 AND status IN ('succeeded', 'partially_refunded', 'refunded')
                """).run()
            return try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM payments y WHERE y.id = \(bind: id)").first().map(Self.payment(from:))
        }
    }

    public func recordEvent(id: String, type: String, at: Date) async throws -> Bool {
        try await self.database.write { sql in
            try await sql.raw("""
                INSERT INTO payment_events (id, type, received_at) VALUES (\(bind: id), \(bind: type), \(bind: at))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """).first() != nil
        }
    }

    public func hasEvent(id: String) async throws -> Bool {
        try await self.database.read { sql in
            try await sql.raw("SELECT id FROM payment_events WHERE id = \(bind: id)").first() != nil
        }
    }

    static func payment(from row: any SQLRow) throws -> Payment {
        Payment(
            id: try row.value("id"), appointmentId: try row.value("appointment_id"), userId: try row.value("user_id"),
            amountMinor: try row.value("amount_minor"), currency: try Currency(try row.value("currency", as: String.self)),
            status: PaymentStatus(rawValue: try row.value("status")) ?? .failed,
            method: PaymentMethod(rawValue: try row.value("payment_method")) ?? .card,
            provider: PaymentProviderKind(rawValue: try row.value("provider")) ?? .manual,
            stripePaymentIntentId: try row.optional("stripe_payment_intent_id"), stripeChargeId: try row.optional("stripe_charge_id"),
            stripeRefundId: try row.optional("stripe_refund_id"), refundedMinor: try row.value("refunded_minor"),
            refundReason: try row.optional("refund_reason"), metadata: try row.json("metadata"), errorMessage: try row.optional("error_message"),
            paidAt: try row.optional("paid_at"), refundedAt: try row.optional("refunded_at"), createdAt: try row.value("created_at"),
            updatedAt: try row.value("updated_at")
        )
    }

    static func details(from row: any SQLRow) throws -> PaymentDetails {
        let payment = try Self.payment(from: row)
        return PaymentDetails(
            payment: payment, payer: try row.person(prefix: "p_", id: payment.userId),
            appointment: try row.appointmentSummary(id: payment.appointmentId),
            doctorName: try row.value("d_name"), doctorSpecialisation: try row.value("d_specialisation")
        )
    }
}
