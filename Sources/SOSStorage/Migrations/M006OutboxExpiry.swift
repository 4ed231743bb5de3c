extension Migration {
    /// Outbox messages that are useless after a time (sign-in codes) carry it, so the sender drops them then
    /// instead of retrying for hours.
    static let m006OutboxExpiry = Migration(6, "outbox-expiry", [
        "ALTER TABLE outbox_messages ADD COLUMN expires_at {ts}",
    ])
}
