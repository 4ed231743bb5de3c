import Foundation
import Hummingbird
import SOSDomain

/// `/api/v1/availabilities`: doctors' availability rules and free slots.
struct AvailabilityController {
    let availabilities: AvailabilityService

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get(use: self.list)
        group.post(use: self.create)
        group.get("slots", use: self.slots)
        group.get(":id", use: self.get)
        group.put(":id", use: self.update)
        group.delete(":id", use: self.delete)
    }

    /// Body of `POST` and `PUT`; `user_id` names the doctor (default: the caller).
    struct Body: Decodable {
        let input: AvailabilityInput

        enum CodingKeys: String, CodingKey {
            case user_id, doctor_id, start_date, end_date, start_time, end_time, is_recurring, recurrence, recurrence_days, recurrence_end_date,
                 consultation_types
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let recurrenceEnd = try c.update(String.self, forKey: .recurrence_end_date).map { text -> LocalDate in
                if let date = LocalDate(text) { return date }
                if text.count > 10, Timestamp.date(from: text) != nil, let date = LocalDate(text.prefix(10)) { return date }
                throw DecodingError.dataCorruptedError(
                    forKey: .recurrence_end_date, in: c, debugDescription: "expected a date as YYYY-MM-DD or an ISO 8601 timestamp")
            }
            self.input = AvailabilityInput(
                doctorId: try c.decodeIfPresent(UUID.self, forKey: .user_id) ?? c.decodeIfPresent(UUID.self, forKey: .doctor_id),
                startDate: try c.decodeIfPresent(LocalDate.self, forKey: .start_date),
                endDate: try c.decodeIfPresent(LocalDate.self, forKey: .end_date),
                startTime: try c.decodeIfPresent(LocalTime.self, forKey: .start_time),
                endTime: try c.decodeIfPresent(LocalTime.self, forKey: .end_time),
                isRecurring: try c.decodeIfPresent(Bool.self, forKey: .is_recurring),
                recurrence: try c.update(Recurrence.self, forKey: .recurrence),
                recurrenceDays: try c.decodeIfPresent([Weekday].self, forKey: .recurrence_days),
                recurrenceEndDate: recurrenceEnd,
                consultationTypes: try c.decodeIfPresent([ConsultationType].self, forKey: .consultation_types)
            )
        }
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> AvailabilityListPayload {
        let query = QueryParameters(request)
        let rules = try await self.availabilities.list(context.principal, AvailabilityQuery(
            doctorId: try query.uuid("doctorId"), startDate: try query.date("startDate"), endDate: try query.date("endDate"),
            consultationType: try query.enum("consultationType", as: ConsultationType.self)
        ))
        return AvailabilityListPayload(availabilities: rules.map(AvailabilityPayload.init))
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> AvailabilityEnvelope {
        AvailabilityEnvelope(availability: AvailabilityPayload(try await self.availabilities.get(context.principal, id: try context.uuid("id"))))
    }

    @Sendable func slots(_ request: Request, context: AuthenticatedContext) async throws -> SlotListPayload {
        let query = QueryParameters(request)
        guard let doctorId = try query.uuid("doctorId") else { throw APIError.badRequest("'doctorId' is required.") }
        guard let date = try query.date("date") else { throw APIError.badRequest("'date' is required (YYYY-MM-DD).") }
        let list = try await self.availabilities.slots(
            context.principal, doctorId: doctorId, date: date,
            type: try query.enum("consultationType", as: ConsultationType.self) ?? .online, duration: try query.int("duration") ?? 30
        )
        return SlotListPayload(list)
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<AvailabilityMessageEnvelope> {
        let body = try await request.decode(as: Body.self, context: context)
        let rule = try await self.availabilities.create(context.principal, body.input)
        return EditedResponse(status: .created, response: AvailabilityMessageEnvelope(message: "Availability created", availability: AvailabilityPayload(rule)))
    }

    @Sendable func update(_ request: Request, context: AuthenticatedContext) async throws -> AvailabilityMessageEnvelope {
        let id = try context.uuid("id")
        let body = try await request.decode(as: Body.self, context: context)
        let rule = try await self.availabilities.update(context.principal, id: id, body.input)
        return AvailabilityMessageEnvelope(message: "Availability updated", availability: AvailabilityPayload(rule))
    }

    @Sendable func delete(_ request: Request, context: AuthenticatedContext) async throws -> MessagePayload {
        try await self.availabilities.delete(context.principal, id: try context.uuid("id"))
        return MessagePayload(message: "Availability deleted")
    }
}
