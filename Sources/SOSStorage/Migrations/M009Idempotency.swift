extension Migration {
    /// `Idempotency-Key` on `POST /appointments` and `POST /payments`: the key, what it was used for and what it
    /// created, written in the same transaction as the resource, so a retry after a crash or a lost answer finds it.
    static let m009Idempotency = Migration(9, "idempotency", [
        """
        CREATE TABLE idempotency_keys (
            owner_id {uuid} NOT NULL,
            idempotency_key TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            resource_id {uuid} NOT NULL,
            created_at {ts} NOT NULL,
            PRIMARY KEY (owner_id, idempotency_key)
        )
        """,
        "CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)",
    ])
}
