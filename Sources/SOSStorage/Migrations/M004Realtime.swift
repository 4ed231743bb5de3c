extension Migration {
    /// Chat messages (idempotent per sender and client message id), video consultations, and the overflow
    /// table for broker messages too large for a PostgreSQL NOTIFY payload.
    static let m004Realtime = Migration(4, "realtime", [
        """
        CREATE TABLE chat_messages (
            id {uuid} PRIMARY KEY,
            sender_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            recipient_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            content TEXT NOT NULL,
            client_msg_id TEXT,
            status TEXT NOT NULL,
            created_at {ts} NOT NULL,
            delivered_at {ts},
            read_at {ts}
        )
        """,
        "CREATE UNIQUE INDEX chat_messages_idempotency_idx ON chat_messages (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL",
        "CREATE INDEX chat_messages_pair_idx ON chat_messages (sender_id, recipient_id, created_at)",
        "CREATE INDEX chat_messages_recipient_idx ON chat_messages (recipient_id, status)",
        """
        CREATE TABLE video_consultations (
            id {uuid} PRIMARY KEY,
            appointment_id {uuid} NOT NULL UNIQUE REFERENCES appointments (id) ON DELETE CASCADE,
            patient_id {uuid} NOT NULL,
            doctor_id {uuid} NOT NULL,
            room_sid TEXT NOT NULL,
            status TEXT NOT NULL,
            started_at {ts},
            ended_at {ts},
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )
        """,
        """
        CREATE TABLE broker_messages (
            id {uuid} PRIMARY KEY,
            payload TEXT NOT NULL,
            created_at {ts} NOT NULL
        )
        """,
    ])
}
