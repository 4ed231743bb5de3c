extension Migration {
    /// Doctors' profiles and ratings, availability, appointments, medical records (attachments, audit),
    /// notifications and preferences, reminders, the message outbox and calendar tokens.
    static let m002Clinical = Migration(2, "clinical", [
        """
        CREATE TABLE doctor_profiles (
            user_id {uuid} PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
            specialisation TEXT NOT NULL,
            rating DOUBLE PRECISION NOT NULL,
            rating_sum BIGINT NOT NULL,
            rating_count INTEGER NOT NULL,
            address TEXT,
            working_hours TEXT,
            bio TEXT,
            is_listed {bool} NOT NULL,
            supported_languages TEXT,
            time_zone TEXT NOT NULL,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )
        """,
        "CREATE INDEX doctor_profiles_listed_idx ON doctor_profiles (is_listed, rating)",
        """
        CREATE TABLE doctor_languages (
            doctor_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            language TEXT NOT NULL,
            PRIMARY KEY (doctor_id, language)
        )
        """,
        "CREATE INDEX doctor_languages_language_idx ON doctor_languages (language)",
        """
        CREATE TABLE availabilities (
            id {uuid} PRIMARY KEY,
            doctor_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            start_date TEXT NOT NULL,
            end_date TEXT NOT NULL,
            start_time TEXT NOT NULL,
            end_time TEXT NOT NULL,
            is_recurring {bool} NOT NULL,
            recurrence TEXT,
            recurrence_days TEXT NOT NULL,
            recurrence_end_date TEXT,
            consultation_types TEXT NOT NULL,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )
        """,
        "CREATE INDEX availabilities_doctor_idx ON availabilities (doctor_id, start_date)",
        """
        CREATE TABLE appointments (
            id {uuid} PRIMARY KEY,
            patient_id {uuid} NOT NULL REFERENCES users (id),
            doctor_id {uuid} NOT NULL REFERENCES users (id),
            date TEXT NOT NULL,
            start_time TEXT NOT NULL,
            end_time TEXT NOT NULL,
            status TEXT NOT NULL,
            stream_channel_id TEXT,
            consultation_type TEXT NOT NULL,
            symptoms TEXT NOT NULL,
            additional_note TEXT,
            visit_location TEXT,
            starts_at {ts} NOT NULL,
            ends_at {ts} NOT NULL,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )
        """,
        "CREATE INDEX appointments_doctor_date_idx ON appointments (doctor_id, date, start_time)",
        "CREATE INDEX appointments_patient_date_idx ON appointments (patient_id, date, start_time)",
        "CREATE INDEX appointments_date_idx ON appointments (date, start_time)",
        "CREATE INDEX appointments_starts_idx ON appointments (starts_at)",
        "CREATE INDEX appointments_created_idx ON appointments (created_at)",
        """
        CREATE TABLE doctor_ratings (
            id {uuid} PRIMARY KEY,
            doctor_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            patient_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            appointment_id {uuid} NOT NULL UNIQUE REFERENCES appointments (id),
            rating INTEGER NOT NULL,
            comment TEXT,
            created_at {ts} NOT NULL
        )
        """,
        "CREATE INDEX doctor_ratings_doctor_idx ON doctor_ratings (doctor_id)",
        """
        CREATE TABLE medical_records (
            id {uuid} PRIMARY KEY,
            patient_id {uuid} NOT NULL REFERENCES users (id),
            appointment_id {uuid} REFERENCES appointments (id) ON DELETE SET NULL,
            doctor_id {uuid} NOT NULL REFERENCES users (id),
            record_type TEXT NOT NULL,
            title TEXT NOT NULL,
            description TEXT,
            diagnosis TEXT,
            medications TEXT,
            lab_results TEXT,
            attachments TEXT,
            notes TEXT,
            is_shared_with_patient {bool} NOT NULL,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )
        """,
        "CREATE INDEX medical_records_patient_idx ON medical_records (patient_id, created_at)",
        "CREATE INDEX medical_records_doctor_idx ON medical_records (doctor_id, created_at)",
        "CREATE INDEX medical_records_appointment_idx ON medical_records (appointment_id)",
        """
        CREATE TABLE record_attachments (
            id {uuid} PRIMARY KEY,
            record_id {uuid} NOT NULL REFERENCES medical_records (id) ON DELETE CASCADE,
            file_name TEXT NOT NULL,
            content_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            storage_key TEXT NOT NULL,
            uploaded_by {uuid} NOT NULL,
            created_at {ts} NOT NULL
        )
        """,
        "CREATE INDEX record_attachments_record_idx ON record_attachments (record_id)",
        """
        CREATE TABLE record_audit (
            id {uuid} PRIMARY KEY,
            record_id {uuid} NOT NULL,
            actor_id {uuid} NOT NULL,
            actor_role TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT,
            at {ts} NOT NULL
        )
        """,
        "CREATE INDEX record_audit_record_idx ON record_audit (record_id, at)",
        """
        CREATE TABLE notifications (
            id {uuid} PRIMARY KEY,
            user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            type TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            data TEXT,
            read_at {ts},
            created_at {ts} NOT NULL
        )
        """,
        "CREATE INDEX notifications_user_idx ON notifications (user_id, created_at)",
        """
        CREATE TABLE notification_preferences (
            user_id {uuid} PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
            email {bool} NOT NULL,
            sms {bool} NOT NULL,
            push {bool} NOT NULL,
            appointment_reminders {bool} NOT NULL,
            appointment_confirmations {bool} NOT NULL,
            payment_notifications {bool} NOT NULL,
            reminder_time INTEGER NOT NULL,
            updated_at {ts} NOT NULL
        )
        """,
        """
        CREATE TABLE reminders_sent (
            appointment_id {uuid} NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
            user_id {uuid} NOT NULL,
            starts_at {ts} NOT NULL,
            sent_at {ts} NOT NULL,
            PRIMARY KEY (appointment_id, user_id, starts_at)
        )
        """,
        """
        CREATE TABLE outbox_messages (
            id {uuid} PRIMARY KEY,
            channel TEXT NOT NULL,
            recipient TEXT NOT NULL,
            subject TEXT,
            body TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at {ts} NOT NULL,
            last_error TEXT,
            created_at {ts} NOT NULL,
            sent_at {ts}
        )
        """,
        "CREATE INDEX outbox_messages_pending_idx ON outbox_messages (status, next_attempt_at)",
        """
        CREATE TABLE calendar_tokens (
            user_id {uuid} PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
            token TEXT NOT NULL UNIQUE,
            created_at {ts} NOT NULL
        )
        """,
    ])
}
