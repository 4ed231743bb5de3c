extension Migration {
    /// SOS dispatch (issue 15): doctors' on-call states, SOS requests and the offers made for them.
    ///
    /// Candidate lookup is a range query on `doctor_on_call (on_call, latitude, longitude)` — a bounding box around
    /// the patient, so its cost follows the doctors near the request, not all of them. `sos_requests (state,
    /// next_step_at)` finds due waves and timeouts; `(accepted_doctor_id, state)` answers "is this doctor on a case".
    static let m010Dispatch = Migration(10, "dispatch", [
        """
        CREATE TABLE doctor_on_call (
            doctor_id {uuid} PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
            on_call {bool} NOT NULL,
            latitude DOUBLE PRECISION,
            longitude DOUBLE PRECISION,
            radius_km DOUBLE PRECISION NOT NULL,
            offers_home {bool} NOT NULL,
            offers_video {bool} NOT NULL,
            updated_at {ts} NOT NULL
        )
        """,
        "CREATE INDEX doctor_on_call_location_idx ON doctor_on_call (on_call, latitude, longitude)",
        """
        CREATE TABLE sos_requests (
            id {uuid} PRIMARY KEY,
            patient_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            symptoms TEXT NOT NULL,
            severity TEXT NOT NULL,
            latitude DOUBLE PRECISION NOT NULL,
            longitude DOUBLE PRECISION NOT NULL,
            place TEXT NOT NULL,
            country TEXT NOT NULL,
            language TEXT NOT NULL,
            kinds TEXT NOT NULL,
            state TEXT NOT NULL,
            wave INTEGER NOT NULL,
            search_radius_km DOUBLE PRECISION,
            accepted_doctor_id {uuid} REFERENCES users (id) ON DELETE SET NULL,
            accepted_kind TEXT,
            appointment_id {uuid} REFERENCES appointments (id) ON DELETE SET NULL,
            eta_minutes INTEGER,
            red_flag {bool} NOT NULL,
            search_started_at {ts} NOT NULL,
            next_step_at {ts},
            reason TEXT,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL,
            version INTEGER NOT NULL
        )
        """,
        "CREATE INDEX sos_requests_due_idx ON sos_requests (state, next_step_at)",
        "CREATE INDEX sos_requests_patient_idx ON sos_requests (patient_id, state)",
        "CREATE INDEX sos_requests_doctor_idx ON sos_requests (accepted_doctor_id, state)",
        """
        CREATE TABLE sos_offers (
            request_id {uuid} NOT NULL REFERENCES sos_requests (id) ON DELETE CASCADE,
            doctor_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            wave INTEGER NOT NULL,
            kind TEXT NOT NULL,
            distance_km DOUBLE PRECISION NOT NULL,
            offered_at {ts} NOT NULL,
            declined_at {ts},
            PRIMARY KEY (request_id, doctor_id)
        )
        """,
        "CREATE INDEX sos_offers_doctor_idx ON sos_offers (doctor_id)",
    ])
}
