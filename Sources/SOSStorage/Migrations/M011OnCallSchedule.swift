extension Migration {
    /// A doctor may be on call by schedule (issue 15): whenever his published availability covers the moment, without
    /// switching on call by hand. Candidates are those on call or on call by schedule near the request.
    static let m011OnCallSchedule = Migration(11, "on-call-schedule", [
        "ALTER TABLE doctor_on_call ADD COLUMN by_schedule {bool} NOT NULL DEFAULT FALSE",
        "CREATE INDEX doctor_on_call_schedule_idx ON doctor_on_call (by_schedule, latitude, longitude)",
    ])
}
