extension Migration {
    /// Payments (one open or paid payment per appointment, enforced by a partial unique index) and the ids of
    /// processed provider webhook events.
    static let m003Payments = Migration(3, "payments", [
        """
        CREATE TABLE payments (
            id {uuid} PRIMARY KEY,
            appointment_id {uuid} NOT NULL REFERENCES appointments (id),
            user_id {uuid} NOT NULL REFERENCES users (id),
            amount_minor BIGINT NOT NULL,
            currency TEXT NOT NULL,
            exponent INTEGER NOT NULL,
            status TEXT NOT NULL,
            payment_method TEXT NOT NULL,
            provider TEXT NOT NULL,
            stripe_payment_intent_id TEXT UNIQUE,
            stripe_charge_id TEXT,
            stripe_refund_id TEXT,
            refunded_minor BIGINT NOT NULL,
            refund_reason TEXT,
            metadata TEXT,
            error_message TEXT,
            paid_at {ts},
            refunded_at {ts},
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL,
            CHECK (amount_minor > 0),
            CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor)
        )
        """,
        "CREATE UNIQUE INDEX payments_one_open_idx ON payments (appointment_id) WHERE status IN ('pending', 'processing', 'succeeded', 'partially_refunded')",
        "CREATE INDEX payments_user_idx ON payments (user_id, created_at)",
        "CREATE INDEX payments_appointment_idx ON payments (appointment_id)",
        "CREATE INDEX payments_created_idx ON payments (created_at)",
        """
        CREATE TABLE payment_events (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            received_at {ts} NOT NULL
        )
        """,
    ])
}
