import Foundation

/// A medical record as a client sends it; unchanged fields keep their value on update.
public struct MedicalRecordInput: Sendable {
    public var patientId: UUID?
    public var appointmentId: UUID?
    public var doctorId: UUID?
    public var recordType: RecordType?
    public var title: String?
    public var description: FieldUpdate<String>
    public var diagnosis: FieldUpdate<String>
    public var medications: FieldUpdate<JSON>
    public var labResults: FieldUpdate<JSON>
    public var attachments: FieldUpdate<JSON>
    public var notes: FieldUpdate<String>
    public var isSharedWithPatient: Bool?
    /// The version the client last saw (`If-Match` or the body's `version`); nil: the version read before the write.
    public var expectedVersion: Int?

    public init(patientId: UUID? = nil, appointmentId: UUID? = nil, doctorId: UUID? = nil, recordType: RecordType? = nil, title: String? = nil,
                description: FieldUpdate<String> = .unchanged, diagnosis: FieldUpdate<String> = .unchanged, medications: FieldUpdate<JSON> = .unchanged,
                labResults: FieldUpdate<JSON> = .unchanged, attachments: FieldUpdate<JSON> = .unchanged, notes: FieldUpdate<String> = .unchanged,
                isSharedWithPatient: Bool? = nil) {
        self.patientId = patientId
        self.appointmentId = appointmentId
        self.doctorId = doctorId
        self.recordType = recordType
        self.title = title
        self.description = description
        self.diagnosis = diagnosis
        self.medications = medications
        self.labResults = labResults
        self.attachments = attachments
        self.notes = notes
        self.isSharedWithPatient = isSharedWithPatient
    }
}

/// An uploaded file, checked for size; the content type is decided from the bytes.
public struct UploadedFile: Sendable {
    public var fileName: String
    public var bytes: [UInt8]

    public init(fileName: String, bytes: [UInt8]) {
        self.fileName = fileName
        self.bytes = bytes
    }
}

/// Medical records, their attachments and the audit log of every read and write.
///
/// Rules: a patient sees only their own records that are shared with them; a doctor sees records of patients
/// who have an appointment with them (and records they wrote); a secretary sees those of their doctors; admins
/// see all. Doctors write records for their patients, secretaries for their doctors, admins for anyone; only
/// admins delete. Nobody else learns that a record exists (404).
public struct MedicalRecordService: Sendable {
    let records: any MedicalRecordRepository
    let appointments: any AppointmentRepository
    let users: any UserRepository
    let files: any FileStore
    let quota: UploadQuota
    let events: any EventPublisher
    let now: @Sendable () -> Date

    /// Largest attachment accepted.
    public static let maxAttachmentBytes = 10 << 20

    public init(records: any MedicalRecordRepository, appointments: any AppointmentRepository, users: any UserRepository, files: any FileStore,
                quota: UploadQuota, events: any EventPublisher, now: @escaping @Sendable () -> Date = { Date() }) {
        self.records = records
        self.appointments = appointments
        self.users = users
        self.files = files
        self.quota = quota
        self.events = events
        self.now = now
    }

    public func list(_ principal: Principal, _ query: RecordQuery) async throws -> Page<MedicalRecordDetails> {
        guard let scope = AccessPolicy.recordScope(principal) else { throw DomainError.forbidden(Permission.seeRecords.refusal) }
        if query.patientId != nil { try AccessPolicy.require(.filterRecordsByPatient, principal) }
        if query.doctorId != nil { try AccessPolicy.require(.filterRecordsByDoctor, principal) }
        var query = query
        query.scope = scope
        let page = try await self.records.list(query)
        try await self.records.audit(page.items.map { self.entry($0.record.id, principal, .read, "list") })
        return page
    }

    public func get(_ principal: Principal, id: UUID) async throws -> MedicalRecordDetails {
        guard let details = try await self.records.details(id: id),
              try await AccessPolicy.canRead(details.record, principal, appointments: self.appointments)
        else {
            throw DomainError.notFound("No medical record with id \(id.uuidString.lowercased()).")
        }
        try await self.records.audit([self.entry(id, principal, .read, nil)])
        return details
    }

    public func create(_ principal: Principal, _ input: MedicalRecordInput) async throws -> MedicalRecord {
        try AccessPolicy.require(.writeRecords, principal)
        guard let patientId = input.patientId else { throw DomainError.invalid("'user_id' (the patient) is required.") }
        guard let recordType = input.recordType else { throw DomainError.invalid("'record_type' is required.") }
        guard let title = input.title else { throw DomainError.invalid("'title' is required.") }
        let doctorId = input.doctorId ?? principal.id
        guard AccessPolicy.manages(doctorId: doctorId, principal) else {
            throw DomainError.forbidden("You can only write records as yourself (doctors) or for doctors you work for (secretaries).")
        }
        guard let doctor = try await self.users.find(id: doctorId), doctor.role == .doctor else {
            throw DomainError.invalid("'doctor_id' must be a doctor (admins: pass the doctor who wrote it).")
        }
        guard let patient = try await self.users.find(id: patientId), patient.role == .patient else {
            throw DomainError.notFound("No patient with id \(patientId.uuidString.lowercased()).")
        }
        if !AccessPolicy.allows(.writeRecordsWithoutAppointment, principal) {
            guard try await self.appointments.hasAcceptedBooking(patientId: patientId, doctorIds: [doctorId]) else {
                throw DomainError.forbidden(Permission.writeRecordsWithoutAppointment.refusal)
            }
        }
        if let appointmentId = input.appointmentId {
            guard let appointment = try await self.appointments.find(id: appointmentId),
                  appointment.patientId == patientId, appointment.doctorId == doctorId
            else {
                throw DomainError.invalid("'appointment_id' must be an appointment between this patient and doctor.")
            }
        }
        let now = self.now()
        var record = MedicalRecord(
            patientId: patientId, appointmentId: input.appointmentId, doctorId: doctorId, recordType: recordType, title: title,
            isSharedWithPatient: input.isSharedWithPatient ?? true, createdAt: now, updatedAt: now
        )
        try Self.apply(input, to: &record)
        try await self.records.create(record, audit: self.entry(record.id, principal, .create, nil))
        await self.publish("medical_record.created", record)
        return record
    }

    public func update(_ principal: Principal, id: UUID, _ input: MedicalRecordInput) async throws -> MedicalRecord {
        guard var record = try await self.records.find(id: id),
              try await AccessPolicy.canRead(record, principal, appointments: self.appointments)
        else {
            throw DomainError.notFound("No medical record with id \(id.uuidString.lowercased()).")
        }
        guard AccessPolicy.canWrite(record, principal) else {
            throw DomainError.forbidden("Only the record's doctor, their secretary or an administrator can change it.")
        }
        if input.patientId.map({ $0 != record.patientId }) == true || input.doctorId.map({ $0 != record.doctorId }) == true {
            throw DomainError.invalid("A record's patient and doctor cannot change; create a new record instead.")
        }
        if let expected = input.expectedVersion, expected != record.version { throw DomainError.stale("medical record", version: expected) }
        let before = record
        try Self.apply(input, to: &record)
        guard record != before else { return record }
        record.updatedAt = self.now()
        let changed = Self.changedFields(before, record)
        guard try await self.records.update(
            record, expectedVersion: before.version, audit: self.entry(id, principal, .update, "changed: \(changed.joined(separator: ", "))")
        ) else {
            throw DomainError.stale("medical record")
        }
        record.version = before.version + 1
        await self.publish("medical_record.updated", record)
        return record
    }

    public func delete(_ principal: Principal, id: UUID) async throws {
        try AccessPolicy.require(.deleteRecords, principal)
        guard let record = try await self.records.find(id: id),
              try await self.records.delete(id: id, audit: self.entry(id, principal, .delete, nil))
        else {
            throw DomainError.notFound("No medical record with id \(id.uuidString.lowercased()).")
        }
        await self.events.publish(DomainEvent(
            type: "medical_record.deleted", userIds: [record.doctorId],
            subject: .medicalRecordDeleted(id: record.id, patientId: record.patientId, doctorId: record.doctorId), occurredAt: self.now()
        ))
    }

    /// The audit log of one record; admins only.
    public func auditLog(_ principal: Principal, id: UUID) async throws -> [RecordAuditEntry] {
        try AccessPolicy.require(.readRecordAuditLog, principal)
        let entries = try await self.records.auditLog(recordId: id)
        guard !entries.isEmpty else {
            throw DomainError.notFound("No medical record with id \(id.uuidString.lowercased()) has an audit log.")
        }
        return entries
    }

    /// Who else opened or changed a patient's records and when (`GET /medical-records/access-log`): the patient
    /// his own; an administrator any patient's (`patientId`). Built from the audit log every access writes.
    public func accessLog(_ principal: Principal, patientId: UUID?, page: PageRequest) async throws -> Page<RecordAccess> {
        let target: UUID
        if AccessPolicy.allows(.readAnyAccessLog, principal) {
            guard let patientId else { throw DomainError.invalid("'userId' (the patient) is required for an administrator.") }
            target = patientId
        } else {
            try AccessPolicy.require(.readOwnAccessLog, principal)
            guard patientId == nil || patientId == principal.id else { throw DomainError.forbidden(Permission.readAnyAccessLog.refusal) }
            target = principal.id
        }
        return try await self.records.accessLog(patientId: target, page: page)
    }

    // MARK: - Attachments

    public func attachments(_ principal: Principal, recordId: UUID) async throws -> [RecordAttachment] {
        _ = try await self.readable(principal, recordId)
        let attachments = try await self.records.attachments(recordId: recordId)
        try await self.records.audit([self.entry(recordId, principal, .read, "attachments")])
        return attachments
    }

    /// Checks that the caller may attach a file of (about) `size` bytes to the record, before the upload's body is
    /// read: nobody makes the server read 10 MB it would refuse.
    public func authorizeAttachment(_ principal: Principal, recordId: UUID, size: Int?) async throws {
        let record = try await self.readable(principal, recordId)
        guard AccessPolicy.canWrite(record, principal) else {
            throw DomainError.forbidden("Only the record's doctor, their secretary or an administrator can attach files.")
        }
        if let size {
            guard size <= Self.maxAttachmentBytes + (64 << 10) else {
                throw DomainError(.tooLarge, message: "Payload too large", details: "Attachments may be at most \(Self.maxAttachmentBytes >> 20) MB.")
            }
            try await self.quota.check(owner: principal.id, adding: size)
        }
    }

    public func attach(_ principal: Principal, recordId: UUID, file: UploadedFile) async throws -> RecordAttachment {
        let record = try await self.readable(principal, recordId)
        guard AccessPolicy.canWrite(record, principal) else {
            throw DomainError.forbidden("Only the record's doctor, their secretary or an administrator can attach files.")
        }
        try await self.quota.check(owner: principal.id, adding: file.bytes.count)
        guard !file.bytes.isEmpty else { throw DomainError.invalid("The uploaded file is empty.") }
        guard file.bytes.count <= Self.maxAttachmentBytes else {
            throw DomainError(.tooLarge, message: "Payload too large", details: "Attachments may be at most \(Self.maxAttachmentBytes >> 20) MB.")
        }
        guard let kind = FileKind.detect(file.bytes), FileKind.attachmentKinds.contains(kind) else {
            throw DomainError(.unsupportedMediaType, message: "Unsupported file type",
                              details: "Attachments must be PDF, PNG, JPEG or WebP files (checked from the file's content).")
        }
        let key = try await self.files.store(file.bytes, area: "attachments", fileExtension: kind.fileExtension)
        try await self.quota.uploads.record(area: "attachments", key: key, owner: principal.id, size: file.bytes.count, at: self.now())
        let name = Self.safeFileName(file.fileName, fallback: "attachment.\(kind.fileExtension)")
        let attachment = RecordAttachment(
            recordId: recordId, fileName: name, contentType: kind.contentType, size: file.bytes.count, storageKey: key,
            uploadedBy: principal.id, createdAt: self.now()
        )
        try await self.records.addAttachment(attachment, audit: self.entry(recordId, principal, .attachmentUpload, "\(attachment.id.uuidString.lowercased()) \(name)"))
        return attachment
    }

    public func download(_ principal: Principal, recordId: UUID, attachmentId: UUID) async throws -> (RecordAttachment, [UInt8]) {
        _ = try await self.readable(principal, recordId)
        guard let attachment = try await self.records.attachment(id: attachmentId), attachment.recordId == recordId,
              let bytes = try await self.files.load(area: "attachments", key: attachment.storageKey)
        else {
            throw DomainError.notFound("No attachment with id \(attachmentId.uuidString.lowercased()) on this record.")
        }
        try await self.records.audit([self.entry(recordId, principal, .attachmentDownload, attachment.id.uuidString.lowercased())])
        return (attachment, bytes)
    }

    // MARK: - Helpers

    private func readable(_ principal: Principal, _ id: UUID) async throws -> MedicalRecord {
        guard let record = try await self.records.find(id: id),
              try await AccessPolicy.canRead(record, principal, appointments: self.appointments)
        else {
            throw DomainError.notFound("No medical record with id \(id.uuidString.lowercased()).")
        }
        return record
    }

    private func entry(_ recordId: UUID, _ principal: Principal, _ action: RecordAction, _ detail: String?) -> RecordAuditEntry {
        RecordAuditEntry(recordId: recordId, actorId: principal.id, actorRole: principal.role, action: action, detail: detail, at: self.now())
    }

    private func publish(_ type: String, _ record: MedicalRecord) async {
        var audience: Set<UUID> = [record.doctorId]
        if record.isSharedWithPatient { audience.insert(record.patientId) }
        audience.formUnion((try? await self.users.secretaryIds(forDoctor: record.doctorId)) ?? [])
        await self.events.publish(DomainEvent(type: type, userIds: audience, subject: .medicalRecord(record), occurredAt: self.now()))
    }

    static func apply(_ input: MedicalRecordInput, to record: inout MedicalRecord) throws {
        if let type = input.recordType { record.recordType = type }
        if let title = input.title {
            let trimmed = title.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= InputLimits.title else { throw DomainError.invalid("'title' must be 1 to \(InputLimits.title) characters.") }
            record.title = trimmed
        }
        record.description = try InputLimits.text(input.description.applied(to: record.description), field: "description", limit: InputLimits.clinicalText)
        record.diagnosis = try InputLimits.text(input.diagnosis.applied(to: record.diagnosis), field: "diagnosis", limit: InputLimits.clinicalText)
        record.notes = try InputLimits.text(input.notes.applied(to: record.notes), field: "notes", limit: InputLimits.clinicalText)
        record.medications = try InputLimits.json(input.medications.applied(to: record.medications), field: "medications", maxBytes: InputLimits.medicationsBytes)
        record.labResults = try InputLimits.json(input.labResults.applied(to: record.labResults), field: "lab_results", maxBytes: InputLimits.labResultsBytes)
        record.attachments = try InputLimits.json(input.attachments.applied(to: record.attachments), field: "attachments", maxBytes: InputLimits.attachmentsJSONBytes)
        if let shared = input.isSharedWithPatient { record.isSharedWithPatient = shared }
    }

    static func changedFields(_ a: MedicalRecord, _ b: MedicalRecord) -> [String] {
        var fields: [String] = []
        if a.recordType != b.recordType { fields.append("record_type") }
        if a.title != b.title { fields.append("title") }
        if a.description != b.description { fields.append("description") }
        if a.diagnosis != b.diagnosis { fields.append("diagnosis") }
        if a.medications != b.medications { fields.append("medications") }
        if a.labResults != b.labResults { fields.append("lab_results") }
        if a.attachments != b.attachments { fields.append("attachments") }
        if a.notes != b.notes { fields.append("notes") }
        if a.isSharedWithPatient != b.isSharedWithPatient { fields.append("is_shared_with_patient") }
        return fields
    }

    /// A display name for a stored file: the last path component, printable, at most 120 characters.
    static func safeFileName(_ name: String, fallback: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = String(last.unicodeScalars.filter { !Validate.isControl($0) && $0 != "\"" }.prefix(120).map(Character.init))
        return cleaned.isEmpty || cleaned == "." || cleaned == ".." ? fallback : cleaned
    }
}

/// File types recognised from their first bytes (never from the name or the client's Content-Type).
public enum FileKind: Sendable, Equatable {
    case png, jpeg, webp, pdf

    public static let imageKinds: [FileKind] = [.png, .jpeg, .webp]
    public static let attachmentKinds: [FileKind] = [.png, .jpeg, .webp, .pdf]

    public static func detect(_ bytes: [UInt8]) -> FileKind? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) { return .webp }
        if bytes.starts(with: Array("%PDF-".utf8)) { return .pdf }
        return nil
    }

    public var contentType: String {
        switch self {
        case .png: "image/png"
        case .jpeg: "image/jpeg"
        case .webp: "image/webp"
        case .pdf: "application/pdf"
        }
    }

    public var fileExtension: String {
        switch self {
        case .png: "png"
        case .jpeg: "jpg"
        case .webp: "webp"
        case .pdf: "pdf"
        }
    }

    /// The kind a stored file's extension stands for.
    public static func forExtension(_ ext: String) -> FileKind? {
        switch ext.lowercased() {
        case "png": .png
        case "jpg", "jpeg": .jpeg
        case "webp": .webp
        case "pdf": .pdf
        default: nil
        }
    }
}
