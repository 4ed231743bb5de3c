extension Migration {
    /// Who booked an appointment and whether the patient accepted it, how long an unpaid booking holds its slot,
    /// why it was cancelled, the fee fixed at booking, and a version per appointment, record, user and doctor
    /// profile for compare-and-set updates. Doctors get fees per consultation type; uploaded files are counted
    /// per owner for storage quotas. Revocations say why (blocked, role changed…), so a client can tell its user.
    ///
    /// Appointments booked before this migration are taken as the patient's own (`accepted`): who made them was
    /// not recorded.
    static let m008Trust = Migration(8, "trust", [
        "ALTER TABLE appointments ADD COLUMN booked_by {uuid}",
        "ALTER TABLE appointments ADD COLUMN patient_acceptance TEXT NOT NULL DEFAULT 'accepted'",
        "ALTER TABLE appointments ADD COLUMN hold_expires_at {ts}",
        "ALTER TABLE appointments ADD COLUMN cancellation_reason TEXT",
        "ALTER TABLE appointments ADD COLUMN fee_minor BIGINT",
        "ALTER TABLE appointments ADD COLUMN fee_currency TEXT",
        "ALTER TABLE appointments ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
        "CREATE INDEX appointments_hold_idx ON appointments (hold_expires_at)",
        "CREATE INDEX appointments_patient_status_idx ON appointments (patient_id, status)",
        "ALTER TABLE doctor_profiles ADD COLUMN fees TEXT",
        "ALTER TABLE doctor_profiles ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD'",
        "ALTER TABLE doctor_profiles ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE medical_records ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE revoked_tokens ADD COLUMN reason TEXT",
        "ALTER TABLE refresh_tokens ADD COLUMN revoked_reason TEXT",
        """
        CREATE TABLE stored_files (
            area TEXT NOT NULL,
            storage_key TEXT NOT NULL,
            owner_id {uuid} NOT NULL,
            size BIGINT NOT NULL,
            created_at {ts} NOT NULL,
            PRIMARY KEY (area, storage_key)
        )
        """,
        "CREATE INDEX stored_files_owner_idx ON stored_files (owner_id)",
    ])
}
