import Foundation
import SOSDomain
import SQLKit

/// `MedicalRecordRepository` over SQLKit. Every write goes with its audit entry in one transaction.
public struct SQLMedicalRecordRepository: MedicalRecordRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = """
        r.id, r.patient_id, r.appointment_id, r.doctor_id, r.record_type, r.title, r.description, r.diagnosis, r.medications,
        r.lab_results, r.attachments, r.notes, r.is_shared_with_patient, r.created_at, r.updated_at, r.version
        """

    static let detailsSelect = """
        SELECT \(columns), p.name AS p_name, p.email AS p_email, p.phone AS p_phone, p.profile_picture AS p_picture,
            d.name AS d_name, d.email AS d_email, d.phone AS d_phone, d.profile_picture AS d_picture,
            COALESCE(dp.specialisation, '') AS d_specialisation, COALESCE(dp.rating, 0.0) AS d_rating,
            ap.date AS ap_date, ap.start_time AS ap_start_time, ap.consultation_type AS ap_consultation_type, ap.status AS ap_status
        FROM medical_records r JOIN users p ON p.id = r.patient_id JOIN users d ON d.id = r.doctor_id
        LEFT JOIN doctor_profiles dp ON dp.user_id = r.doctor_id LEFT JOIN appointments ap ON ap.id = r.appointment_id
        """

    public func create(_ record: MedicalRecord, audit: RecordAuditEntry) async throws {
        try await self.database.transaction { sql in
            try await sql.raw("""
                INSERT INTO medical_records (id, patient_id, appointment_id, doctor_id, record_type, title, description, diagnosis, medications,
                    lab_results, attachments, notes, is_shared_with_patient, created_at, updated_at)
                VALUES (\(bind: record.id), \(bind: record.patientId), \(bind: record.appointmentId), \(bind: record.doctorId),
                    \(bind: record.recordType.rawValue), \(bind: record.title), \(bind: record.description), \(bind: record.diagnosis),
                    \(bind: record.medications?.text), \(bind: record.labResults?.text), \(bind: record.attachments?.text), \(bind: record.notes),
                    \(bind: record.isSharedWithPatient), \(bind: record.createdAt), \(bind: record.updatedAt))
                """).run()
            try await Self.insert([audit], in: sql)
        }
    }

    public func update(_ record: MedicalRecord, expectedVersion: Int, audit: RecordAuditEntry) async throws -> Bool {
        try await self.database.transaction { sql in
            guard try await sql.raw("""
                UPDATE medical_records SET record_type = \(bind: record.recordType.rawValue), title = \(bind: record.title),
                    description = \(bind: record.description), diagnosis = \(bind: record.diagnosis), medications = \(bind: record.medications?.text),
                    lab_results = \(bind: record.labResults?.text), attachments = \(bind: record.attachments?.text), notes = \(bind: record.notes),
                    is_shared_with_patient = \(bind: record.isSharedWithPatient), updated_at = \(bind: record.updatedAt), version = \(bind: expectedVersion + 1)
                WHERE id = \(bind: record.id) AND version = \(bind: expectedVersion) RETURNING id
                """).first() != nil
            else { return false }
            try await Self.insert([audit], in: sql)
            return true
        }
    }

    public func delete(id: UUID, audit: RecordAuditEntry) async throws -> Bool {
        try await self.database.transaction { sql in
            guard try await sql.raw("DELETE FROM medical_records WHERE id = \(bind: id) RETURNING id").first() != nil else { return false }
            try await Self.insert([audit], in: sql)
            return true
        }
    }

    public func find(id: UUID) async throws -> MedicalRecord? {
        try await self.database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM medical_records r WHERE r.id = \(bind: id)").first().map(Self.record(from:))
        }
    }

    public func details(id: UUID) async throws -> MedicalRecordDetails? {
        try await self.database.read { sql in
            try await sql.raw("\(unsafeRaw: Self.detailsSelect) WHERE r.id = \(bind: id)").first().map(Self.details(from:))
        }
    }

    public func list(_ query: RecordQuery) async throws -> Page<MedicalRecordDetails> {
        try await self.database.read { sql in
            var filter: SQLQueryString = "WHERE 1 = 1"
            switch query.scope {
            case .all:
                break
            case .sharedWithPatient(let patientId):
                filter += " AND r.patient_id = \(bind: patientId) AND r.is_shared_with_patient = TRUE"
            case .careTeam(let doctorIds):
                if doctorIds.isEmpty {
                    filter += " AND 1 = 0"
                } else {
                    filter += " AND (r.doctor_id IN (\(binds: doctorIds)) OR \(SQLAppointmentRepository.careRelationship(patient: "r.patient_id", doctorIds: doctorIds)))"
                }
            case .writtenBy(let doctorIds):
                filter += .andIn("r.doctor_id", doctorIds)
            }
            if let patientId = query.patientId { filter += " AND r.patient_id = \(bind: patientId)" }
            if let doctorId = query.doctorId { filter += " AND r.doctor_id = \(bind: doctorId)" }
            if let appointmentId = query.appointmentId { filter += " AND r.appointment_id = \(bind: appointmentId)" }
            if let type = query.recordType { filter += " AND r.record_type = \(bind: type.rawValue)" }
            let total = try await sql.raw("SELECT COUNT(*) AS total FROM medical_records r \(filter)").first()?.value("total", as: Int.self) ?? 0
            let direction = query.sortOrder == .asc ? "ASC" : "DESC"
            let column =
                switch query.sortBy {
                case .createdAt: "r.created_at"
                case .updatedAt: "r.updated_at"
                case .title: "LOWER(r.title)"
                }
            let rows = try await sql.raw("""
                \(unsafeRaw: Self.detailsSelect) \(filter) ORDER BY \(unsafeRaw: column) \(unsafeRaw: direction), r.id \(unsafeRaw: direction)
                LIMIT \(bind: query.page.limit) OFFSET \(bind: query.page.offset)
                """).all()
            return Page(items: try rows.map(Self.details(from:)), total: total, request: query.page)
        }
    }

    public func audit(_ entries: [RecordAuditEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await self.database.transaction { sql in
            try await Self.insert(entries, in: sql)
        }
    }

    public func auditLog(recordId: UUID) async throws -> [RecordAuditEntry] {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT id, record_id, actor_id, actor_role, action, detail, at FROM record_audit WHERE record_id = \(bind: recordId) ORDER BY at, id
                """).all().map(Self.auditEntry(from:))
        }
    }

    public func accessLog(patientId: UUID, page: PageRequest) async throws -> Page<RecordAccess> {
        try await self.database.read { sql in
            let filter: SQLQueryString = "FROM record_audit ra JOIN medical_records r ON r.id = ra.record_id LEFT JOIN users u ON u.id = ra.actor_id WHERE r.patient_id = \(bind: patientId) AND ra.actor_id <> \(bind: patientId)"
            let total = try await sql.raw("SELECT COUNT(*) AS total \(filter)").first()?.value("total", as: Int.self) ?? 0
            let rows = try await sql.raw("""
                SELECT ra.id, ra.record_id, ra.actor_id, ra.actor_role, ra.action, ra.detail, ra.at, r.title, r.is_shared_with_patient,
                    COALESCE(u.name, '') AS actor_name \(filter) ORDER BY ra.at DESC, ra.id DESC LIMIT \(bind: page.limit) OFFSET \(bind: page.offset)
                """).all()
            let items = try rows.map { row in
                RecordAccess(
                    entry: try Self.auditEntry(from: row),
                    recordTitle: try row.value("is_shared_with_patient", as: Bool.self) ? try row.value("title", as: String.self) : nil,
                    actorName: try row.value("actor_name")
                )
            }
            return Page(items: items, total: total, request: page)
        }
    }

    static func auditEntry(from row: any SQLRow) throws -> RecordAuditEntry {
        RecordAuditEntry(
            id: try row.value("id"), recordId: try row.value("record_id"), actorId: try row.value("actor_id"),
            actorRole: Role(rawValue: try row.value("actor_role")) ?? .guest,
            action: RecordAction(rawValue: try row.value("action")) ?? .read, detail: try row.optional("detail"), at: try row.value("at")
        )
    }

    public func addAttachment(_ attachment: RecordAttachment, audit: RecordAuditEntry) async throws {
        try await self.database.transaction { sql in
            try await sql.raw("""
                INSERT INTO record_attachments (id, record_id, file_name, content_type, size, storage_key, uploaded_by, created_at)
                VALUES (\(bind: attachment.id), \(bind: attachment.recordId), \(bind: attachment.fileName), \(bind: attachment.contentType),
                    \(bind: attachment.size), \(bind: attachment.storageKey), \(bind: attachment.uploadedBy), \(bind: attachment.createdAt))
                """).run()
            try await Self.insert([audit], in: sql)
        }
    }

    public func attachments(recordId: UUID) async throws -> [RecordAttachment] {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT id, record_id, file_name, content_type, size, storage_key, uploaded_by, created_at FROM record_attachments
                WHERE record_id = \(bind: recordId) ORDER BY created_at, id
                """).all().map(Self.attachment(from:))
        }
    }

    public func attachment(id: UUID) async throws -> RecordAttachment? {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT id, record_id, file_name, content_type, size, storage_key, uploaded_by, created_at FROM record_attachments WHERE id = \(bind: id)
                """).first().map(Self.attachment(from:))
        }
    }

    static func insert(_ entries: [RecordAuditEntry], in sql: any SQLDatabase) async throws {
        for entry in entries {
            try await sql.raw("""
                INSERT INTO record_audit (id, record_id, actor_id, actor_role, action, detail, at)
                VALUES (\(bind: entry.id), \(bind: entry.recordId), \(bind: entry.actorId), \(bind: entry.actorRole.rawValue),
                    \(bind: entry.action.rawValue), \(bind: entry.detail), \(bind: entry.at))
                """).run()
        }
    }

    static func record(from row: any SQLRow) throws -> MedicalRecord {
        MedicalRecord(
            id: try row.value("id"), patientId: try row.value("patient_id"), appointmentId: try row.optional("appointment_id"),
            doctorId: try row.value("doctor_id"), recordType: RecordType(rawValue: try row.value("record_type")) ?? .other,
            title: try row.value("title"), description: try row.optional("description"), diagnosis: try row.optional("diagnosis"),
            medications: try row.json("medications"), labResults: try row.json("lab_results"), attachments: try row.json("attachments"),
            notes: try row.optional("notes"), isSharedWithPatient: try row.value("is_shared_with_patient"),
            createdAt: try row.value("created_at"), updatedAt: try row.value("updated_at"), version: try row.value("version", as: Int.self)
        )
    }

    static func details(from row: any SQLRow) throws -> MedicalRecordDetails {
        let record = try Self.record(from: row)
        var appointment: AppointmentSummary?
        if let appointmentId = record.appointmentId, try !row.decodeNil(column: "ap_date") {
            appointment = try row.appointmentSummary(id: appointmentId)
        }
        return MedicalRecordDetails(
            record: record,
            patient: try row.person(prefix: "p_", id: record.patientId),
            doctor: try row.doctorSummary(id: record.doctorId),
            appointment: appointment
        )
    }

    static func attachment(from row: any SQLRow) throws -> RecordAttachment {
        RecordAttachment(
            id: try row.value("id"), recordId: try row.value("record_id"), fileName: try row.value("file_name"),
            contentType: try row.value("content_type"), size: try row.value("size"), storageKey: try row.value("storage_key"),
            uploadedBy: try row.value("uploaded_by"), createdAt: try row.value("created_at")
        )
    }
}
