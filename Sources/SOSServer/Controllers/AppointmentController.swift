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

    struct UpdateBody: Decodable {
        let changes: AppointmentChanges

        enum CodingKeys: String, CodingKey {
            case date, start_time, end_time, status, consultation_type, symptoms, additional_note, visit_location
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
                visitLocation: try c.update(JSON.self, forKey: .visit_location)
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
        ))
        return EditedResponse(status: .created, response: AppointmentMessageEnvelope(message: "Appointment created", appointment: AppointmentPayload(appointment)))
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> AppointmentEnvelope {
        AppointmentEnvelope(appointment: AppointmentPayload(try await self.appointments.get(context.principal, id: try context.uuid("id"))))
    }

    @Sendable func update(_ request: Request, context: AuthenticatedContext) async throws -> AppointmentMessageEnvelope {
        let id = try context.uuid("id")
        let body = try await request.decode(as: UpdateBody.self, context: context)
        let appointment = try await self.appointments.update(context.principal, id: id, body.changes)
        return AppointmentMessageEnvelope(message: "Appointment updated", appointment: AppointmentPayload(appointment))
    }

    @Sendable func delete(_ request: Request, context: AuthenticatedContext) async throws -> MessagePayload {
        try await self.appointments.delete(context.principal, id: try context.uuid("id"))
        return MessagePayload(message: "Appointment deleted")
    }
}
