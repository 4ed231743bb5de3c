import Foundation
import Hummingbird
import SOSDomain

/// `/api/v1/medical-records`: records, their attachments and audit log.
struct MedicalRecordController {
    let records: MedicalRecordService

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get(use: self.list)
        group.post(use: self.create)
        group.get("access-log", use: self.accessLog)
        group.get(":id", use: self.get)
        group.put(":id", use: self.update)
        group.delete(":id", use: self.delete)
        group.get(":id/audit", use: self.audit)
        group.get(":id/attachments", use: self.attachments)
        group.post(":id/attachments", use: self.attach)
        group.get(":id/attachments/:attachmentId", use: self.download)
    }

    struct Body: Decodable {
        var input: MedicalRecordInput

        enum CodingKeys: String, CodingKey {
            case user_id, appointment_id, doctor_id, record_type, title, description, diagnosis, medications, lab_results, attachments, notes,
                 is_shared_with_patient, version
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.input = MedicalRecordInput(
                patientId: try c.decodeIfPresent(UUID.self, forKey: .user_id),
                appointmentId: try c.decodeIfPresent(UUID.self, forKey: .appointment_id),
                doctorId: try c.decodeIfPresent(UUID.self, forKey: .doctor_id),
                recordType: try c.decodeIfPresent(RecordType.self, forKey: .record_type),
                title: try c.decodeIfPresent(String.self, forKey: .title),
                description: try c.update(String.self, forKey: .description),
                diagnosis: try c.update(String.self, forKey: .diagnosis),
                medications: try c.update(JSON.self, forKey: .medications),
                labResults: try c.update(JSON.self, forKey: .lab_results),
                attachments: try c.update(JSON.self, forKey: .attachments),
                notes: try c.update(String.self, forKey: .notes),
                isSharedWithPatient: try c.decodeIfPresent(Bool.self, forKey: .is_shared_with_patient)
            )
            self.input.expectedVersion = try c.decodeIfPresent(Int.self, forKey: .version)
        }
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> RecordListPayload {
        let query = QueryParameters(request)
        let page = try await self.records.list(context.principal, RecordQuery(
            page: try query.page(), scope: .all, patientId: try query.uuid("userId"), doctorId: try query.uuid("doctorId"),
            appointmentId: try query.uuid("appointmentId"), recordType: try query.enum("recordType", as: RecordType.self),
            sortBy: try query.enum("sortBy", as: RecordSort.self) ?? .createdAt, sortOrder: try query.enum("sortOrder", as: SortOrder.self) ?? .desc
        ))
        return RecordListPayload(records: page.items.map { MedicalRecordPayload($0, withStatus: false) }, pagination: PaginationPayload(page))
    }

    @Sendable func accessLog(_ request: Request, context: AuthenticatedContext) async throws -> AccessLogPayload {
        let query = QueryParameters(request)
        let page = try await self.records.accessLog(context.principal, patientId: try query.uuid("userId"), page: try query.page())
        return AccessLogPayload(entries: page.items.map(AccessLogPayload.Entry.init), pagination: PaginationPayload(page))
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<RecordMessageEnvelope> {
        let body = try await request.decode(as: Body.self, context: context)
        let record = try await self.records.create(context.principal, body.input)
        return EditedResponse(status: .created, response: RecordMessageEnvelope(message: "Medical record created", record: MedicalRecordPayload(record)))
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<RecordEnvelope> {
        let details = try await self.records.get(context.principal, id: try context.uuid("id"))
        return EditedResponse(headers: [.eTag: Versioning.etag(details.record.version)], response: RecordEnvelope(record: MedicalRecordPayload(details, withStatus: true)))
    }

    @Sendable func update(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<RecordMessageEnvelope> {
        let id = try context.uuid("id")
        var body = try await request.decode(as: Body.self, context: context)
        body.input.expectedVersion = try Versioning.expected(request, body: body.input.expectedVersion)
        let record = try await self.records.update(context.principal, id: id, body.input)
        return EditedResponse(headers: [.eTag: Versioning.etag(record.version)],
                              response: RecordMessageEnvelope(message: "Medical record updated", record: MedicalRecordPayload(record)))
    }

    @Sendable func delete(_ request: Request, context: AuthenticatedContext) async throws -> MessagePayload {
        try await self.records.delete(context.principal, id: try context.uuid("id"))
        return MessagePayload(message: "Medical record deleted")
    }

    @Sendable func audit(_ request: Request, context: AuthenticatedContext) async throws -> AuditLogPayload {
        let id = try context.uuid("id")
        return AuditLogPayload(recordId: id, entries: try await self.records.auditLog(context.principal, id: id))
    }

    @Sendable func attachments(_ request: Request, context: AuthenticatedContext) async throws -> AttachmentListPayload {
        let list = try await self.records.attachments(context.principal, recordId: try context.uuid("id"))
        return AttachmentListPayload(attachments: list.map(AttachmentPayload.init))
    }

    @Sendable func attach(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<AttachmentMessageEnvelope> {
        let id = try context.uuid("id")
        try await self.records.authorizeAttachment(context.principal, recordId: id, size: request.headers[.contentLength].flatMap { Int($0) })
        let file = try await MultipartForm.file(named: "file", from: request, maxBytes: MedicalRecordService.maxAttachmentBytes)
        let attachment = try await self.records.attach(context.principal, recordId: id, file: file)
        return EditedResponse(status: .created, response: AttachmentMessageEnvelope(message: "Attachment uploaded", attachment: AttachmentPayload(attachment)))
    }

    @Sendable func download(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (attachment, bytes) = try await self.records.download(
            context.principal, recordId: try context.uuid("id"), attachmentId: try context.uuid("attachmentId")
        )
        let name = attachment.fileName.replacingOccurrences(of: "\"", with: "")
        let ascii = String(name.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? Character($0) : "_" })
        return Response(
            status: .ok,
            headers: [
                .contentType: attachment.contentType,
                .contentDisposition: "attachment; filename=\"\(ascii)\"",
                .cacheControl: "private, no-store",
                .init("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
