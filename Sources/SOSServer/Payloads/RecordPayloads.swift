import Foundation
import Hummingbird
import SOSDomain

/// The seed's medical record object, with `patient`, `doctor` and `appointment` in detail views.
struct MedicalRecordPayload: Encodable, Sendable {
    /// The seed's nested `appointment` (`status` only in the single-record view).
    struct AppointmentPart: Encodable, Sendable {
        let id: String
        let date: LocalDate
        let start_time: LocalTime
        let consultation_type: ConsultationType
        let status: AppointmentStatus?
    }

    let id: String
    let user_id: String
    let appointment_id: Nullable<String>
    let doctor_id: String
    let record_type: RecordType
    let title: String
    let description: Nullable<String>
    let diagnosis: Nullable<String>
    let medications: Nullable<JSON>
    let lab_results: Nullable<JSON>
    let attachments: Nullable<JSON>
    let notes: Nullable<String>
    let is_shared_with_patient: Bool
    let created_at: Date
    let updated_at: Date
    let version: Int
    let patient: PersonPayload?
    let doctor: NestedDoctorPayload?
    let appointment: Nullable<AppointmentPart>?

    init(_ record: MedicalRecord) {
        self.init(record, details: nil, withStatus: false)
    }

    init(_ details: MedicalRecordDetails, withStatus: Bool) {
        self.init(details.record, details: details, withStatus: withStatus)
    }

    private init(_ record: MedicalRecord, details: MedicalRecordDetails?, withStatus: Bool) {
        self.id = record.id.apiString
        self.user_id = record.patientId.apiString
        self.appointment_id = Nullable(record.appointmentId?.apiString)
        self.doctor_id = record.doctorId.apiString
        self.record_type = record.recordType
        self.title = record.title
        self.description = Nullable(record.description)
        self.diagnosis = Nullable(record.diagnosis)
        self.medications = Nullable(record.medications)
        self.lab_results = Nullable(record.labResults)
        self.attachments = Nullable(record.attachments)
        self.notes = Nullable(record.notes)
        self.is_shared_with_patient = record.isSharedWithPatient
        self.created_at = record.createdAt
        self.updated_at = record.updatedAt
        self.version = record.version
        self.patient = details.map { PersonPayload($0.patient) }
        self.doctor = details.map { NestedDoctorPayload($0.doctor) }
        self.appointment = details.map { details in
            Nullable(details.appointment.map {
                AppointmentPart(id: $0.id.apiString, date: $0.date, start_time: $0.startTime, consultation_type: $0.consultationType,
                                status: withStatus ? $0.status : nil)
            })
        }
    }
}

struct RecordEnvelope: ResponseEncodable, Sendable {
    let record: MedicalRecordPayload
}

struct RecordMessageEnvelope: ResponseEncodable, Sendable {
    let message: String
    let record: MedicalRecordPayload
}

struct RecordListPayload: ResponseEncodable, Sendable {
    let records: [MedicalRecordPayload]
    let pagination: PaginationPayload
}

/// `GET /medical-records/:id/audit`.
struct AuditLogPayload: ResponseEncodable, Sendable {
    struct Entry: Encodable, Sendable {
        let id: String
        let record_id: String
        let actor_id: String
        let actor_role: Role
        let action: RecordAction
        let detail: Nullable<String>
        let at: Date
    }

    let record_id: String
    let entries: [Entry]

    init(recordId: UUID, entries: [RecordAuditEntry]) {
        self.record_id = recordId.apiString
        self.entries = entries.map {
            Entry(id: $0.id.apiString, record_id: $0.recordId.apiString, actor_id: $0.actorId.apiString, actor_role: $0.actorRole,
                  action: $0.action, detail: Nullable($0.detail), at: $0.at)
        }
    }
}

/// An uploaded attachment's metadata.
struct AttachmentPayload: Encodable, Sendable {
    let id: String
    let record_id: String
    let file_name: String
    let content_type: String
    let size: Int
    let url: String
    let uploaded_by: String
    let created_at: Date

    init(_ attachment: RecordAttachment) {
        self.id = attachment.id.apiString
        self.record_id = attachment.recordId.apiString
        self.file_name = attachment.fileName
        self.content_type = attachment.contentType
        self.size = attachment.size
        self.url = "/api/v1/medical-records/\(attachment.recordId.apiString)/attachments/\(attachment.id.apiString)"
        self.uploaded_by = attachment.uploadedBy.apiString
        self.created_at = attachment.createdAt
    }
}

struct AttachmentListPayload: ResponseEncodable, Sendable {
    let attachments: [AttachmentPayload]
}

struct AttachmentMessageEnvelope: ResponseEncodable, Sendable {
    let message: String
    let attachment: AttachmentPayload
}

/// `{message, url}` of an upload.
struct UploadPayload: ResponseEncodable, Sendable {
    let message: String
    let url: String
}

/// The seed's notification preferences.
struct PreferencesPayload: Encodable, Sendable {
    let email: Bool
    let sms: Bool
    let push: Bool
    let appointmentReminders: Bool
    let appointmentConfirmations: Bool
    let paymentNotifications: Bool
    let reminderTime: Int

    init(_ preferences: NotificationPreferences) {
        self.email = preferences.email
        self.sms = preferences.sms
        self.push = preferences.push
        self.appointmentReminders = preferences.appointmentReminders
        self.appointmentConfirmations = preferences.appointmentConfirmations
        self.paymentNotifications = preferences.paymentNotifications
        self.reminderTime = preferences.reminderTime
    }
}

struct PreferencesEnvelope: ResponseEncodable, Sendable {
    let userId: String
    let preferences: PreferencesPayload
}

struct PreferencesUpdatedEnvelope: ResponseEncodable, Sendable {
    let userId: String
    let preferences: PreferencesPayload
    let updatedAt: Date
}

/// An in-app notification.
struct NotificationPayload: Encodable, Sendable {
    let id: String
    let type: String
    let title: String
    let body: String
    let data: Nullable<JSON>
    let is_read: Bool
    let read_at: Nullable<Date>
    let created_at: Date

    init(_ notification: AppNotification) {
        self.id = notification.id.apiString
        self.type = notification.type
        self.title = notification.title
        self.body = notification.body
        self.data = Nullable(notification.data)
        self.is_read = notification.readAt != nil
        self.read_at = Nullable(notification.readAt)
        self.created_at = notification.createdAt
    }
}

struct NotificationListPayload: ResponseEncodable, Sendable {
    let notifications: [NotificationPayload]
    let pagination: PaginationPayload
}

struct NotificationEnvelope: ResponseEncodable, Sendable {
    let message: String
    let notification: NotificationPayload
}

/// `GET /calendar/token`.
struct CalendarTokenPayload: ResponseEncodable, Sendable {
    let token: String
    let url: String
}

/// `GET /dev/outbox`.
struct OutboxPayload: ResponseEncodable, Sendable {
    struct Message: Encodable, Sendable {
        let id: String
        let channel: OutboxMessage.Channel
        let recipient: String
        let subject: Nullable<String>
        let body: String
        let status: OutboxMessage.Status
        let attempts: Int
        /// Why the last attempt failed (provider answer or network error), while retrying or after giving up.
        let last_error: Nullable<String>
        let created_at: Date
        let sent_at: Nullable<Date>
    }

    let messages: [Message]

    init(_ messages: [OutboxMessage]) {
        self.messages = messages.map {
            Message(id: $0.id.apiString, channel: $0.channel, recipient: $0.recipient, subject: Nullable($0.subject), body: $0.body,
                    status: $0.status, attempts: $0.attempts, last_error: Nullable($0.lastError), created_at: $0.createdAt, sent_at: Nullable($0.sentAt))
        }
    }
}

/// `GET /medical-records/access-log`: who else read or changed the patient's records.
struct AccessLogPayload: ResponseEncodable, Sendable {
    struct Actor: Encodable, Sendable {
        let id: String
        let name: String
        let role: Role
    }

    struct Entry: Encodable, Sendable {
        let id: String
        let record_id: String
        /// Null for a record that is not shared with the patient.
        let record_title: Nullable<String>
        let actor: Actor
        let action: RecordAction
        let detail: Nullable<String>
        let at: Date

        init(_ access: RecordAccess) {
            self.id = access.entry.id.apiString
            self.record_id = access.entry.recordId.apiString
            self.record_title = Nullable(access.recordTitle)
            self.actor = Actor(id: access.entry.actorId.apiString, name: access.actorName, role: access.entry.actorRole)
            self.action = access.entry.action
            self.detail = Nullable(access.recordTitle == nil ? nil : access.entry.detail)
            self.at = access.entry.at
        }
    }

    let entries: [Entry]
    let pagination: PaginationPayload
}
