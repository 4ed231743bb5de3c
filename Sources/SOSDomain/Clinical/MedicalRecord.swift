import Foundation

/// Kinds of medical records (the seed's enum).
public enum RecordType: String, DomainEnum {
    case prescription
    case labResult = "lab_result"
    case diagnosis
    case imaging
    case note
    case other
}

/// A medical record about a patient, written by a doctor (or staff for one).
public struct MedicalRecord: Sendable, Equatable {
    public var id: UUID
    public var patientId: UUID
    public var appointmentId: UUID?
    public var doctorId: UUID
    public var recordType: RecordType
    public var title: String
    public var description: String?
    public var diagnosis: String?
    public var medications: JSON?
    public var labResults: JSON?
    public var attachments: JSON?
    public var notes: String?
    public var isSharedWithPatient: Bool
    public var createdAt: Date
    public var updatedAt: Date
    /// Grows by one with every stored change; updates are compare-and-set on it.
    public var version: Int

    public init(
        id: UUID = UUID(), patientId: UUID, appointmentId: UUID?, doctorId: UUID, recordType: RecordType, title: String,
        description: String? = nil, diagnosis: String? = nil, medications: JSON? = nil, labResults: JSON? = nil, attachments: JSON? = nil,
        notes: String? = nil, isSharedWithPatient: Bool = true, createdAt: Date, updatedAt: Date, version: Int = 1
    ) {
        self.id = id
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
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }
}

/// A record with the people and appointment it concerns.
public struct MedicalRecordDetails: Sendable, Equatable {
    public var record: MedicalRecord
    public var patient: PersonSummary
    public var doctor: DoctorSummary
    public var appointment: AppointmentSummary?

    public init(record: MedicalRecord, patient: PersonSummary, doctor: DoctorSummary, appointment: AppointmentSummary?) {
        self.record = record
        self.patient = patient
        self.doctor = doctor
        self.appointment = appointment
    }
}

/// Which records a caller may see.
public enum RecordScope: Sendable, Equatable {
    case all
    /// A patient: own records shared with them.
    case sharedWithPatient(UUID)
    /// Doctors: records they wrote, plus records of patients they have a paid (or later) appointment with.
    case careTeam(doctorIds: [UUID])
    /// Secretaries: records written by the doctors they work for.
    case writtenBy(doctorIds: [UUID])
}

/// Sort keys for record lists.
public enum RecordSort: String, DomainEnum {
    case createdAt = "created_at"
    case updatedAt = "updated_at"
    case title
}

/// Filters for `GET /medical-records`.
public struct RecordQuery: Sendable {
    public var page: PageRequest
    public var scope: RecordScope
    public var patientId: UUID?
    public var doctorId: UUID?
    public var appointmentId: UUID?
    public var recordType: RecordType?
    public var sortBy: RecordSort
    public var sortOrder: SortOrder

    public init(page: PageRequest, scope: RecordScope, patientId: UUID? = nil, doctorId: UUID? = nil, appointmentId: UUID? = nil,
                recordType: RecordType? = nil, sortBy: RecordSort = .createdAt, sortOrder: SortOrder = .desc) {
        self.page = page
        self.scope = scope
        self.patientId = patientId
        self.doctorId = doctorId
        self.appointmentId = appointmentId
        self.recordType = recordType
        self.sortBy = sortBy
        self.sortOrder = sortOrder
    }
}

/// A file attached to a medical record (stored on disk under the data directory).
public struct RecordAttachment: Sendable, Equatable {
    public var id: UUID
    public var recordId: UUID
    public var fileName: String
    public var contentType: String
    public var size: Int
    public var storageKey: String
    public var uploadedBy: UUID
    public var createdAt: Date

    public init(id: UUID = UUID(), recordId: UUID, fileName: String, contentType: String, size: Int, storageKey: String, uploadedBy: UUID, createdAt: Date) {
        self.id = id
        self.recordId = recordId
        self.fileName = fileName
        self.contentType = contentType
        self.size = size
        self.storageKey = storageKey
        self.uploadedBy = uploadedBy
        self.createdAt = createdAt
    }
}

/// What was done to a record, for the audit log.
public enum RecordAction: String, DomainEnum {
    case create
    case read
    case update
    case delete
    case attachmentUpload = "attachment_upload"
    case attachmentDownload = "attachment_download"
}

/// One audit log line: who did what to which record, when.
public struct RecordAuditEntry: Sendable, Equatable {
    public var id: UUID
    public var recordId: UUID
    public var actorId: UUID
    public var actorRole: Role
    public var action: RecordAction
    public var detail: String?
    public var at: Date

    public init(id: UUID = UUID(), recordId: UUID, actorId: UUID, actorRole: Role, action: RecordAction, detail: String? = nil, at: Date) {
        self.id = id
        self.recordId = recordId
        self.actorId = actorId
        self.actorRole = actorRole
        self.action = action
        self.detail = detail
        self.at = at
    }
}

/// One line of a patient's access log: someone else's read or change of one of his records.
public struct RecordAccess: Sendable, Equatable {
    public var entry: RecordAuditEntry
    /// The record's title when it is shared with the patient; nil for a record kept from him (he learns that
    /// someone opened a record about him, not what it says).
    public var recordTitle: String?
    public var actorName: String

    public init(entry: RecordAuditEntry, recordTitle: String?, actorName: String) {
        self.entry = entry
        self.recordTitle = recordTitle
        self.actorName = actorName
    }
}
