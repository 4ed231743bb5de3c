import Foundation
import Logging
import PostgresNIO
import SOSDomain

/// The hottest reads — a patient's or a doctor's appointment list, newest first, no filter — as prepared statements
/// (parsed and planned once per pooled PostgreSQL connection or SQLite reader instead of on every request), one round
/// trip with the people joined to the page, decoded by column position instead of through `Codable`, by one decoder
/// for both databases.
///
/// Any other list (filters, other orders, staff scopes) takes `SQLAppointmentRepository`'s general path.
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
    protocol OwnerPage: KeptStatement {
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

    /// The page and the total (nil past the end, with 0 rows: the caller counts apart).
    static func fetch(_ owner: Owner, page: PageRequest, in database: Database) async throws -> (items: [AppointmentDetails], total: Int?) {
        let rows =
            switch owner {
            case .patient(let id): try await database.rows(PatientPage(owner: id, limit: page.limit, offset: page.offset))
            case .doctor(let id): try await database.rows(DoctorPage(owner: id, limit: page.limit, offset: page.offset))
            }
        return Paging.kept(rows, page: page)
    }

    /// One row of the page as the domain's details (the same values `SQLAppointmentRepository.details` decodes).
    static func details(from r: some ColumnReader) throws -> AppointmentDetails {
        let patientId = try r.uuid(1)
        let doctorId = try r.uuid(2)
        let fee: Fee? = if let minor = try r.optionalInt(20), let code = try r.optionalText(21) { Fee(amountMinor: Int64(minor), currency: try Currency(code)) } else { nil }
        let appointment = Appointment(
            id: try r.uuid(0), patientId: patientId, doctorId: doctorId, date: try r.stored(3, LocalDate.init),
            startTime: try r.stored(4, LocalTime.init), endTime: try r.stored(5, LocalTime.init),
            status: AppointmentStatus(rawValue: try r.text(6)) ?? .cancelled, streamChannelId: try r.optionalText(7),
            consultationType: ConsultationType(rawValue: try r.text(8)) ?? .online, symptoms: JSON.parse(try r.text(9))?.strings ?? [],
            additionalNote: try r.optionalText(10), visitLocation: JSON.parse(try r.optionalText(11)), startsAt: try r.date(12),
            endsAt: try r.date(13), createdAt: try r.date(14), updatedAt: try r.date(15),
            bookedBy: try r.optionalUUID(16), patientAcceptance: PatientAcceptance(rawValue: try r.text(17)) ?? .pending,
            holdExpiresAt: try r.optionalDate(18), cancellationReason: try r.optionalText(19), fee: fee,
            version: try r.int(22)
        )
        let patient = PersonSummary(id: patientId, name: try r.text(23), email: try r.optionalText(24), phone: try r.optionalText(25), profilePicture: try r.optionalText(26))
        let doctor = DoctorSummary(
            person: PersonSummary(id: doctorId, name: try r.text(27), email: try r.optionalText(28), phone: try r.optionalText(29), profilePicture: try r.optionalText(30)),
            specialisation: try r.text(31), rating: try r.double(32)
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

    var sqliteBinds: [SQLiteReader.Bind] { [.text(self.owner.uuidString), .integer(Int64(self.limit)), .integer(Int64(self.offset))] }

    /// A row and the page's total.
    static func value(from columns: some ColumnReader) throws -> (AppointmentDetails, Int) {
        (try AppointmentPages.details(from: columns), try columns.int(33))
    }
}
