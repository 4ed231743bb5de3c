import Foundation
import Hummingbird
import SOSDomain

/// `/api/v1/appointments`: booking, lists, details, changes and deletion.
struct AppointmentController {
    let appointments: AppointmentService

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get(use: self.list)
        group.post(use: self.create)
        group.get("all", use: self.listAll)
        group.get(":id", use: self.get)
        group.put(":id", use: self.update)
        group.delete(":id", use: self.delete)
        group.post(":id/accept", use: self.accept)
        group.post(":id/decline", use: self.decline)
    }

    struct CreateBody: Decodable {
        let user_id: UUID?
        let doctor_id: UUID
        let date: LocalDate
        let start_time: LocalTime
        let end_time: LocalTime
        let consultation_type: ConsultationType
        let symptoms: [String]?
        let additional_note: String?
        let visit_location: JSON?
    }

    struct DeclineBody: Decodable {
        let reason: String?
    }

    struct UpdateBody: Decodable {
        var changes: AppointmentChanges

        enum CodingKeys: String, CodingKey {
            case date, start_time, end_time, status, consultation_type, symptoms, additional_note, visit_location, cancellation_reason, version
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.changes = AppointmentChanges(
                date: try c.decodeIfPresent(LocalDate.self, forKey: .date),
                startTime: try c.decodeIfPresent(LocalTime.self, forKey: .start_time),
                endTime: try c.decodeIfPresent(LocalTime.self, forKey: .end_time),
                status: try c.decodeIfPresent(AppointmentStatus.self, forKey: .status),
                consultationType: try c.decodeIfPresent(ConsultationType.self, forKey: .consultation_type),
                symptoms: try c.decodeIfPresent([String].self, forKey: .symptoms),
                additionalNote: try c.update(String.self, forKey: .additional_note),
                visitLocation: try c.update(JSON.self, forKey: .visit_location),
                cancellationReason: try c.decodeIfPresent(String.self, forKey: .cancellation_reason),
                expectedVersion: try c.decodeIfPresent(Int.self, forKey: .version)
            )
        }
    }

    /// The seed's query parameters for appointment lists.
    static func query(_ request: Request) throws -> AppointmentQuery {
        let query = QueryParameters(request)
        let start = try query.date("startDate")
        let end = try query.date("endDate")
        if let start, let end, end < start { throw APIError.badRequest("'endDate' must not be before 'startDate'.") }
        return AppointmentQuery(
            page: try query.page(), status: try query.enum("status", as: AppointmentStatus.self), doctorId: try query.uuid("doctorId"),
            patientId: try query.uuid("userId"), consultationType: try query.enum("consultationType", as: ConsultationType.self),
            startDate: start, endDate: end, sortBy: try query.enum("sortBy", as: AppointmentSort.self) ?? .date,
            sortOrder: try query.enum("sortOrder", as: SortOrder.self) ?? .desc
        )
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> AppointmentListPayload {
        let page = try await self.appointments.list(context.principal, try Self.query(request))
        return AppointmentListPayload(appointments: page.items.map(AppointmentPayload.init), pagination: PaginationPayload(page))
    }

    @Sendable func listAll(_ request: Request, context: AuthenticatedContext) async throws -> AppointmentListPayload {
        let page = try await self.appointments.listAll(context.principal, try Self.query(request))
        return AppointmentListPayload(appointments: page.items.map(AppointmentPayload.init), pagination: PaginationPayload(page))
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<AppointmentMessageEnvelope> {
        let body = try await request.decode(as: CreateBody.self, context: context)
        let appointment = try await self.appointments.book(context.principal, NewAppointment(
            patientId: body.user_id, doctorId: body.doctor_id, date: body.date, startTime: body.start_time, endTime: body.end_time,
            consultationType: body.consultation_type, symptoms: body.symptoms, additionalNote: body.additional_note,
            visitLocation: body.visit_location == .null ? nil : body.visit_location
        ), idempotencyKey: request.headers[.idempotencyKey])
        return EditedResponse(status: .created, response: AppointmentMessageEnvelope(message: "Appointment created", appointment: AppointmentPayload(appointment)))
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<AppointmentEnvelope> {
        let details = try await self.appointments.get(context.principal, id: try context.uuid("id"))
        return EditedResponse(headers: [.eTag: Versioning.etag(details.appointment.version)], response: AppointmentEnvelope(appointment: AppointmentPayload(details)))
    }

    @Sendable func update(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<AppointmentMessageEnvelope> {
        let id = try context.uuid("id")
        var body = try await request.decode(as: UpdateBody.self, context: context)
        body.changes.expectedVersion = try Versioning.expected(request, body: body.changes.expectedVersion)
        let appointment = try await self.appointments.update(context.principal, id: id, body.changes)
        return EditedResponse(headers: [.eTag: Versioning.etag(appointment.version)],
                              response: AppointmentMessageEnvelope(message: "Appointment updated", appointment: AppointmentPayload(appointment)))
    }

    /// The patient accepts a booking that staff or the doctor made for him.
    @Sendable func accept(_ request: Request, context: AuthenticatedContext) async throws -> AppointmentMessageEnvelope {
        let appointment = try await self.appointments.respond(context.principal, id: try context.uuid("id"), accept: true)
        return AppointmentMessageEnvelope(message: "Appointment accepted", appointment: AppointmentPayload(appointment))
    }

    /// The patient declines a booking made for him; it is cancelled.
    @Sendable func decline(_ request: Request, context: AuthenticatedContext) async throws -> AppointmentMessageEnvelope {
        let body = try await request.decodeIfPresent(as: DeclineBody.self, context: context)
        let appointment = try await self.appointments.respond(context.principal, id: try context.uuid("id"), accept: false, reason: body?.reason)
        return AppointmentMessageEnvelope(message: "Appointment declined", appointment: AppointmentPayload(appointment))
    }

    @Sendable func delete(_ request: Request, context: AuthenticatedContext) async throws -> MessagePayload {
        try await self.appointments.delete(context.principal, id: try context.uuid("id"))
        return MessagePayload(message: "Appointment deleted")
    }
}
