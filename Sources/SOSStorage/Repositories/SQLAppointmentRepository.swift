import Foundation
import SOSDomain
import SQLKit

/// `AppointmentRepository` over SQLKit. Booking holds a per-doctor lock (and, with an unpaid limit, a per-patient
/// lock: advisory locks on PostgreSQL; the single serialized connection on SQLite) across the checks and the write.
public struct SQLAppointmentRepository: AppointmentRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = """
        a.id, a.patient_id, a.doctor_id, a.date, a.start_time, a.end_time, a.status, a.stream_channel_id, a.consultation_type,
        a.symptoms, a.additional_note, a.visit_location, a.starts_at, a.ends_at, a.created_at, a.updated_at, a.booked_by,
        a.patient_acceptance, a.hold_expires_at, a.cancellation_reason, a.fee_minor, a.fee_currency, a.version
        """

    static let detailsColumns = """
        SELECT \(columns), p.name AS p_name, p.email AS p_email, p.phone AS p_phone, p.profile_picture AS p_picture,
            d.name AS d_name, d.email AS d_email, d.phone AS d_phone, d.profile_picture AS d_picture,
            COALESCE(dp.specialisation, '') AS d_specialisation, COALESCE(dp.rating, 0.0) AS d_rating
        """

    static let detailsFrom = """
        FROM appointments a JOIN users p ON p.id = a.patient_id JOIN users d ON d.id = a.doctor_id
        LEFT JOIN doctor_profiles dp ON dp.user_id = a.doctor_id
        """

    static let detailsSelect = "\(detailsColumns) \(detailsFrom)"

    public func insert(_ appointment: Appointment, unpaidLimit: UnpaidLimit?, idempotency: IdempotencyKey?) async throws -> AppointmentWrite {
        do {
            return try await self.insertChecked(appointment, unpaidLimit: unpaidLimit, idempotency: idempotency)
        } catch where idempotency != nil && SQLErrors.isUniqueViolation(error) {
            // step: the only unique key of a new appointment besides its fresh id is the Idempotency-Key
            return .keyTaken
        }
    }

    public func idempotencyRecord(owner: UUID, key: String) async throws -> IdempotencyRecord? {
        try await SQLIdempotencyKeys.find(owner: owner, key: key, database: self.database)
    }

    private func insertChecked(_ appointment: Appointment, unpaidLimit: UnpaidLimit?, idempotency: IdempotencyKey?) async throws -> AppointmentWrite {
        try await self.database.transaction { [kind = self.database.kind] sql in
            try await Self.lock(.doctor, appointment.doctorId, kind: kind, in: sql)
            // step: a retry that waited on the doctor's lock behind the original request finds its key here
            if let idempotency, try await SQLIdempotencyKeys.exists(idempotency, in: sql) { return .keyTaken }
            if appointment.status.holdsSlot, try await Self.overlaps(appointment, in: sql) { return .slotTaken }
            if let limit = unpaidLimit, let reached = try await Self.unpaidLimitReached(appointment, limit, kind: kind, in: sql) { return reached }
            if let idempotency {
                try await SQLIdempotencyKeys.record(idempotency, resourceId: appointment.id, at: appointment.createdAt, in: sql)
            }
            try await sql.raw("""
                INSERT INTO appointments (id, patient_id, doctor_id, date, start_time, end_time, status, stream_channel_id, consultation_type,
                    symptoms, additional_note, visit_location, starts_at, ends_at, created_at, updated_at, booked_by, patient_acceptance,
                    hold_expires_at, cancellation_reason, fee_minor, fee_currency, version)
                VALUES (\(bind: appointment.id), \(bind: appointment.patientId), \(bind: appointment.doctorId), \(bind: appointment.date.description),
                    \(bind: appointment.startTime.description), \(bind: appointment.endTime.description), \(bind: appointment.status.rawValue),
                    \(bind: appointment.streamChannelId), \(bind: appointment.consultationType.rawValue),
                    \(bind: JSON.array(appointment.symptoms.map(JSON.string)).text), \(bind: appointment.additionalNote),
                    \(bind: appointment.visitLocation?.text), \(bind: appointment.startsAt), \(bind: appointment.endsAt),
                    \(bind: appointment.createdAt), \(bind: appointment.updatedAt), \(bind: appointment.bookedBy),
                    \(bind: appointment.patientAcceptance.rawValue), \(bind: appointment.holdExpiresAt), \(bind: appointment.cancellationReason),
                    \(bind: appointment.fee?.amountMinor), \(bind: appointment.fee?.currency.code), \(bind: appointment.version))
                """).run()
            return .saved
        }
    }

    public func update(_ appointment: Appointment, expectedVersion: Int, checkOverlap: Bool, unpaidLimit: UnpaidLimit?) async throws -> AppointmentWrite {
        try await self.database.transaction { [kind = self.database.kind] sql in
            if checkOverlap {
                try await Self.lock(.doctor, appointment.doctorId, kind: kind, in: sql)
                if try await Self.overlaps(appointment, in: sql) { return .slotTaken }
            }
            if let limit = unpaidLimit, let reached = try await Self.unpaidLimitReached(appointment, limit, kind: kind, in: sql) { return reached }
            let saved = try await sql.raw("""
                UPDATE appointments SET date = \(bind: appointment.date.description), start_time = \(bind: appointment.startTime.description),
                    end_time = \(bind: appointment.endTime.description), status = \(bind: appointment.status.rawValue),
                    stream_channel_id = \(bind: appointment.streamChannelId), consultation_type = \(bind: appointment.consultationType.rawValue),
                    symptoms = \(bind: JSON.array(appointment.symptoms.map(JSON.string)).text), additional_note = \(bind: appointment.additionalNote),
                    visit_location = \(bind: appointment.visitLocation?.text), starts_at = \(bind: appointment.startsAt),
                    ends_at = \(bind: appointment.endsAt), updated_at = \(bind: appointment.updatedAt),
                    patient_acceptance = \(bind: appointment.patientAcceptance.rawValue), hold_expires_at = \(bind: appointment.holdExpiresAt),
                    cancellation_reason = \(bind: appointment.cancellationReason), fee_minor = \(bind: appointment.fee?.amountMinor),
                    fee_currency = \(bind: appointment.fee?.currency.code), version = \(bind: expectedVersion + 1)
                WHERE id = \(bind: appointment.id) AND version = \(bind: expectedVersion) RETURNING id
                """).first()
            return saved == nil ? .stale : .saved
        }
    }

    public func find(id: UUID) async throws -> Appointment? {
        try await self.database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM appointments a WHERE a.id = \(bind: id)").first().map(Self.appointment(from:))
        }
    }

    public func details(id: UUID) async throws -> AppointmentDetails? {
        try await self.database.read { sql in
            try await sql.raw("\(unsafeRaw: Self.detailsSelect) WHERE a.id = \(bind: id)").first().map(Self.details(from:))
        }
    }

    public func list(_ query: AppointmentQuery) async throws -> Page<AppointmentDetails> {
        // step: a patient's or doctor's newest-first page, the hottest read, is a kept prepared statement
        if let owner = AppointmentPages.owner(of: query), case let (items, total?) = try await AppointmentPages.fetch(owner, page: query.page, in: self.database) {
            return Page(items: items, total: total, request: query.page)
        }
        return try await self.listGeneral(query)
    }

    /// Any list, on either database: one page of appointments, then their people in one lookup.
    func listGeneral(_ query: AppointmentQuery) async throws -> Page<AppointmentDetails> {
        try await self.database.read { sql in
            let filter = Self.filter(query)
            let direction = query.sortOrder == .asc ? "ASC" : "DESC"
            let order =
                switch query.sortBy {
                case .date: "a.date \(direction), a.start_time \(direction)"
                case .createdAt: "a.created_at \(direction)"
                case .startTime: "a.start_time \(direction), a.date \(direction)"
                }
            // step: a single-table page, then the people in one lookup; cheaper to plan than one four-table join
            let (rows, total) = try await Paging.fetch(
                sql,
                select: "SELECT \(unsafeRaw: Self.columns), COUNT(*) OVER () AS total_count FROM appointments a \(filter) ORDER BY \(unsafeRaw: order), a.id \(unsafeRaw: direction)",
                count: "SELECT COUNT(*) AS total FROM appointments a \(filter)", page: query.page
            )
            let appointments = try rows.map(Self.appointment(from:))
            let people = try await Self.people(Set(appointments.flatMap { [$0.patientId, $0.doctorId] }), in: sql)
            let items = appointments.compactMap { appointment -> AppointmentDetails? in
                guard let patient = people[appointment.patientId], let doctor = people[appointment.doctorId] else { return nil }
                return AppointmentDetails(appointment: appointment, patient: patient.person, doctor: doctor)
            }
            return Page(items: items, total: total, request: query.page)
        }
    }

    /// Contact cards (with doctor profile fields) for a set of users, in one query.
    static func people(_ ids: Set<UUID>, in sql: any SQLDatabase) async throws -> [UUID: DoctorSummary] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await sql.raw("""
            SELECT u.id, u.name AS d_name, u.email AS d_email, u.phone AS d_phone, u.profile_picture AS d_picture,
                COALESCE(dp.specialisation, '') AS d_specialisation, COALESCE(dp.rating, 0.0) AS d_rating
            FROM users u LEFT JOIN doctor_profiles dp ON dp.user_id = u.id WHERE u.id IN (\(binds: Array(ids)))
            """).all()
        var result: [UUID: DoctorSummary] = [:]
        for row in rows {
            let id = try row.value("id", as: UUID.self)
            result[id] = try row.doctorSummary(id: id)
        }
        return result
    }

    public func delete(id: UUID) async throws -> Bool {
        do {
            return try await self.database.write { sql in
                try await sql.raw("DELETE FROM appointments WHERE id = \(bind: id) RETURNING id").first() != nil
            }
        } catch where SQLErrors.isForeignKeyViolation(error) {
            throw DomainError.conflict("This appointment has a rating or payments that must be kept; cancel it instead (PUT status 'cancelled').")
        }
    }

    public func booked(doctorId: UUID, date: LocalDate) async throws -> [Appointment] {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM appointments a WHERE a.doctor_id = \(bind: doctorId) AND a.date = \(bind: date.description)
                AND a.status IN (\(binds: AppointmentStatus.slotHolding.map(\.rawValue))) ORDER BY a.start_time
                """).all().map(Self.appointment(from:))
        }
    }

    public func hasCareRelationship(patientId: UUID, doctorIds: [UUID]) async throws -> Bool {
        guard !doctorIds.isEmpty else { return false }
        return try await self.database.read { sql in
            try await sql.raw("SELECT 1 AS found WHERE \(Self.careRelationship(patient: "\(bind: patientId)", doctorIds: doctorIds))").first() != nil
        }
    }

    public func hasAcceptedBooking(patientId: UUID, doctorIds: [UUID]) async throws -> Bool {
        guard !doctorIds.isEmpty else { return false }
        return try await self.database.read { sql in
            try await sql.raw("""
                SELECT 1 AS found FROM appointments WHERE patient_id = \(bind: patientId) AND doctor_id IN (\(binds: doctorIds))
                AND patient_acceptance = \(bind: PatientAcceptance.accepted.rawValue) AND status <> \(bind: AppointmentStatus.cancelled.rawValue) LIMIT 1
                """).first() != nil
        }
    }

    public func holdsEnded(at now: Date, limit: Int) async throws -> [Appointment] {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM appointments a WHERE a.hold_expires_at <= \(bind: now)
                AND a.status IN (\(binds: AppointmentStatus.unpaid.map(\.rawValue))) ORDER BY a.hold_expires_at LIMIT \(bind: limit)
                """).all().map(Self.appointment(from:))
        }
    }

    /// `AccessPolicy.CareRelationship` as SQL: an accepted, not cancelled appointment of the patient (an SQL
    /// expression, e.g. a bound id or `r.patient_id`) with one of the doctors, paid by a recorded payment or under
    /// way. The one place the rule is written in SQL; record reads (`canRead`) and record lists both use it.
    static func careRelationship(patient: SQLQueryString, doctorIds: [UUID]) -> SQLQueryString {
        let care = AccessPolicy.CareRelationship.self
        return """
            EXISTS (SELECT 1 FROM appointments c WHERE c.patient_id = \(patient) AND c.doctor_id IN (\(binds: doctorIds))
            AND c.patient_acceptance = \(bind: care.acceptance.rawValue) AND c.status <> \(bind: AppointmentStatus.cancelled.rawValue)
            AND (c.status IN (\(binds: care.underway.map(\.rawValue)))
                OR EXISTS (SELECT 1 FROM payments cp WHERE cp.appointment_id = c.id AND cp.status IN (\(binds: care.paid.map(\.rawValue))))))
            """
    }

    public func starting(from: Date, to: Date, statuses: [AppointmentStatus]) async throws -> [Appointment] {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM appointments a WHERE a.starts_at > \(bind: from) AND a.starts_at <= \(bind: to)
                AND a.status IN (\(binds: statuses.map(\.rawValue))) ORDER BY a.starts_at LIMIT 5000
                """).all().map(Self.appointment(from:))
        }
    }

    // MARK: - SQL pieces

    static func filter(_ query: AppointmentQuery) -> SQLQueryString {
        var filter: SQLQueryString = "WHERE 1 = 1"
        switch query.scope {
        case .all: break
        case .patient(let id): filter += " AND a.patient_id = \(bind: id)"
        case .doctor(let id): filter += " AND a.doctor_id = \(bind: id)"
        case .doctors(let ids): filter += .andIn("a.doctor_id", ids)
        }
        if let status = query.status { filter += " AND a.status = \(bind: status.rawValue)" }
        if let doctorId = query.doctorId { filter += " AND a.doctor_id = \(bind: doctorId)" }
        if let patientId = query.patientId { filter += " AND a.patient_id = \(bind: patientId)" }
        if let type = query.consultationType { filter += " AND a.consultation_type = \(bind: type.rawValue)" }
        if let start = query.startDate { filter += " AND a.date >= \(bind: start.description)" }
        if let end = query.endDate { filter += " AND a.date <= \(bind: end.description)" }
        return filter
    }

    /// What a booking lock serializes: one doctor's calendar, or one patient's unpaid bookings.
    enum LockSpace: Int32 {
        case doctor = 1
        case patient = 2
        /// A doctor's SOS accepts, so that he never holds two cases at once.
        case sosDoctor = 3
    }

    /// Serializes bookings of one doctor (or one patient) across connections on PostgreSQL, until the transaction
    /// ends; SQLite is already serialized. Doctor locks are always taken before patient locks, so two bookings never
    /// wait on each other in a cycle.
    static func lock(_ space: LockSpace, _ id: UUID, kind: DatabaseKind, in sql: any SQLDatabase) async throws {
        guard kind == .postgres else { return }
        let bytes = id.uuid
        let key = [bytes.0, bytes.1, bytes.2, bytes.3].reduce(Int32(0)) { ($0 << 8) | Int32($1) }
        try await sql.raw("SELECT pg_advisory_xact_lock(\(bind: space.rawValue), \(bind: key))").run()
    }

    /// `.unpaidLimitReached` when the write would give the patient more open unpaid bookings of his own than allowed.
    static func unpaidLimitReached(_ appointment: Appointment, _ limit: UnpaidLimit, kind: DatabaseKind, in sql: any SQLDatabase) async throws -> AppointmentWrite? {
        guard appointment.isUnpaid, appointment.patientAcceptance == .accepted else { return nil }
        try await Self.lock(.patient, appointment.patientId, kind: kind, in: sql)
        let open = try await sql.raw("""
            SELECT COUNT(*) AS open FROM appointments WHERE patient_id = \(bind: appointment.patientId) AND id <> \(bind: appointment.id)
            AND status IN (\(binds: AppointmentStatus.unpaid.map(\.rawValue))) AND patient_acceptance = \(bind: PatientAcceptance.accepted.rawValue)
            AND starts_at > \(bind: limit.now) AND (hold_expires_at IS NULL OR hold_expires_at > \(bind: limit.now))
            """).first()?.value("open", as: Int.self) ?? 0
        return open >= limit.maximum ? .unpaidLimitReached(maximum: limit.maximum) : nil
    }

    /// True when another slot-holding appointment of the doctor overlaps (half-open intervals).
    static func overlaps(_ appointment: Appointment, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.raw("""
            SELECT 1 AS found FROM appointments WHERE doctor_id = \(bind: appointment.doctorId) AND date = \(bind: appointment.date.description)
            AND status IN (\(binds: AppointmentStatus.slotHolding.map(\.rawValue))) AND id <> \(bind: appointment.id)
            AND start_time < \(bind: appointment.endTime.description) AND end_time > \(bind: appointment.startTime.description) LIMIT 1
            """).first() != nil
    }

    static func appointment(from row: any SQLRow) throws -> Appointment {
        let symptoms = try row.json("symptoms")?.strings ?? []
        return Appointment(
            id: try row.value("id"), patientId: try row.value("patient_id"), doctorId: try row.value("doctor_id"),
            date: try row.localDate("date"), startTime: try row.localTime("start_time"), endTime: try row.localTime("end_time"),
            status: AppointmentStatus(rawValue: try row.value("status")) ?? .cancelled, streamChannelId: try row.optional("stream_channel_id"),
            consultationType: ConsultationType(rawValue: try row.value("consultation_type")) ?? .online, symptoms: symptoms,
            additionalNote: try row.optional("additional_note"), visitLocation: try row.json("visit_location"),
            startsAt: try row.value("starts_at"), endsAt: try row.value("ends_at"), createdAt: try row.value("created_at"),
            updatedAt: try row.value("updated_at"), bookedBy: try row.optional("booked_by"),
            patientAcceptance: PatientAcceptance(rawValue: try row.value("patient_acceptance")) ?? .pending,
            holdExpiresAt: try row.optional("hold_expires_at"), cancellationReason: try row.optional("cancellation_reason"),
            fee: try Self.fee(row), version: try row.value("version", as: Int.self)
        )
    }

    static func fee(_ row: any SQLRow) throws -> Fee? {
        guard let minor: Int64 = try row.optional("fee_minor"), let code: String = try row.optional("fee_currency") else { return nil }
        return Fee(amountMinor: minor, currency: try Currency(code))
    }

    static func details(from row: any SQLRow) throws -> AppointmentDetails {
        let appointment = try Self.appointment(from: row)
        return AppointmentDetails(
            appointment: appointment,
            patient: try row.person(prefix: "p_", id: appointment.patientId),
            doctor: try row.doctorSummary(id: appointment.doctorId)
        )
    }
}
