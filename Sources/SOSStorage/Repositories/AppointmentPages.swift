import Foundation
import Logging
import PostgresNIO
import SOSDomain

/// The hottest reads — a patient's or a doctor's appointment list, newest first, no filter — as PostgreSQL prepared
/// statements (parsed and planned once per pooled connection instead of on every request), one round trip with the
/// people joined to the page, decoded by column position instead of through `Codable`.
///
/// Any other list (filters, other orders, staff scopes) and SQLite take `SQLAppointmentRepository`'s general path.
/// Both paths decode into the same `AppointmentDetails`; `AppointmentPagesTests` checks them field by field on the
/// same rows, so a new column is added to `columns` and `details(from:)` here and to the general path, or the test fails.
enum AppointmentPages {
    /// Which appointments a page lists.
    enum Owner {
        case patient(UUID)
        case doctor(UUID)
    }

    /// The page, counted on the appointments alone, then joined to the people of its rows only.
    static func sql(ownerColumn: String) -> String {
        """
        WITH page AS (
            SELECT \(SQLAppointmentRepository.columns), COUNT(*) OVER () AS total_count FROM appointments a
            WHERE a.\(ownerColumn) = $1 ORDER BY a.date DESC, a.start_time DESC, a.id DESC LIMIT $2 OFFSET $3
        )
        SELECT a.id, a.patient_id, a.doctor_id, a.date, a.start_time, a.end_time, a.status, a.stream_channel_id, a.consultation_type,
            a.symptoms, a.additional_note, a.visit_location, a.starts_at, a.ends_at, a.created_at, a.updated_at, a.booked_by,
            a.patient_acceptance, a.hold_expires_at, a.cancellation_reason, a.fee_minor, a.fee_currency, a.version,
            p.name, p.email, p.phone, p.profile_picture, d.name, d.email, d.phone, d.profile_picture,
            COALESCE(dp.specialisation, ''), COALESCE(dp.rating, 0.0), a.total_count
        FROM page a JOIN users p ON p.id = a.patient_id JOIN users d ON d.id = a.doctor_id LEFT JOIN doctor_profiles dp ON dp.user_id = a.doctor_id
        ORDER BY a.date DESC, a.start_time DESC, a.id DESC
        """
    }

    /// One owner's page: the patient's or the doctor's statement differ only in their name and owner column (a
    /// prepared statement's name and SQL are static, so each is a type of its own).
    protocol OwnerPage: PostgresPreparedStatement where Row == PostgresRow {
        var owner: UUID { get }
        var limit: Int { get }
        var offset: Int { get }
    }

    struct PatientPage: OwnerPage {
        static let name = "sos_appointments_patient_v1"
        static let sql = AppointmentPages.sql(ownerColumn: "patient_id")
        let owner: UUID
        let limit: Int
        let offset: Int
    }

    struct DoctorPage: OwnerPage {
        static let name = "sos_appointments_doctor_v1"
        static let sql = AppointmentPages.sql(ownerColumn: "doctor_id")
        let owner: UUID
        let limit: Int
        let offset: Int
    }

    /// The owner whose page `query` asks for, when it is a shape this fast path serves.
    static func owner(of query: AppointmentQuery) -> Owner? {
        guard query.status == nil, query.doctorId == nil, query.patientId == nil, query.consultationType == nil, query.startDate == nil,
              query.endDate == nil, query.sortBy == .date, query.sortOrder == .desc
        else { return nil }
        switch query.scope {
        case .patient(let id): return .patient(id)
        case .doctor(let id): return .doctor(id)
        case .all, .doctors: return nil
        }
    }

    /// Runs the page on a pooled connection; the rows and the total (0 rows past the end: the total is counted apart).
    static func fetch(_ owner: Owner, page: PageRequest, on connection: PostgresConnection, logger: Logger) async throws -> (rows: [PostgresRow], total: Int?) {
        var rows: [PostgresRow] = []
        switch owner {
        case .patient(let id):
            for try await row in try await connection.execute(PatientPage(owner: id, limit: page.limit, offset: page.offset), logger: logger) { rows.append(row) }
        case .doctor(let id):
            for try await row in try await connection.execute(DoctorPage(owner: id, limit: page.limit, offset: page.offset), logger: logger) { rows.append(row) }
        }
        guard let first = rows.first else { return ([], page.offset > 0 ? nil : 0) }
        return (rows, Int(try first.makeRandomAccess()[33].decode(Int64.self)))
    }

    /// One row of the page as the domain's details (the same values `SQLAppointmentRepository.details` decodes).
    static func details(from row: PostgresRow) throws -> AppointmentDetails {
        let r = row.makeRandomAccess()
        func text(_ index: Int) throws -> String { try r[index].decode(String.self) }
        func optionalText(_ index: Int) throws -> String? { try r[index].decode(String?.self) }
        func stored<T>(_ index: Int, _ parse: (String) -> T?) throws -> T {
            let value = try text(index)
            guard let parsed = parse(value) else { throw StoredValueError(column: "#\(index)", value: value) }
            return parsed
        }
        let patientId = try r[1].decode(UUID.self)
        let doctorId = try r[2].decode(UUID.self)
        let fee: Fee? = if let minor = try r[20].decode(Int64?.self), let code = try optionalText(21) { Fee(amountMinor: minor, currency: try Currency(code)) } else { nil }
        let appointment = Appointment(
            id: try r[0].decode(UUID.self), patientId: patientId, doctorId: doctorId, date: try stored(3, LocalDate.init),
            startTime: try stored(4, LocalTime.init), endTime: try stored(5, LocalTime.init),
            status: AppointmentStatus(rawValue: try text(6)) ?? .cancelled, streamChannelId: try optionalText(7),
            consultationType: ConsultationType(rawValue: try text(8)) ?? .online, symptoms: JSON.parse(try text(9))?.strings ?? [],
            additionalNote: try optionalText(10), visitLocation: JSON.parse(try optionalText(11)), startsAt: try r[12].decode(Date.self),
            endsAt: try r[13].decode(Date.self), createdAt: try r[14].decode(Date.self), updatedAt: try r[15].decode(Date.self),
            bookedBy: try r[16].decode(UUID?.self), patientAcceptance: PatientAcceptance(rawValue: try text(17)) ?? .pending,
            holdExpiresAt: try r[18].decode(Date?.self), cancellationReason: try optionalText(19), fee: fee,
            version: Int(try r[22].decode(Int32.self))
        )
        let patient = PersonSummary(id: patientId, name: try text(23), email: try optionalText(24), phone: try optionalText(25), profilePicture: try optionalText(26))
        let doctor = DoctorSummary(
            person: PersonSummary(id: doctorId, name: try text(27), email: try optionalText(28), phone: try optionalText(29), profilePicture: try optionalText(30)),
            specialisation: try text(31), rating: try r[32].decode(Double.self)
        )
        return AppointmentDetails(appointment: appointment, patient: patient, doctor: doctor)
    }
}

extension AppointmentPages.OwnerPage {
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(self.owner)
        bindings.append(Int64(self.limit))
        bindings.append(Int64(self.offset))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
