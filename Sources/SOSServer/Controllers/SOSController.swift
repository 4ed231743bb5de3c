import Foundation
import Hummingbird
import SOSDomain

/// `/api/v1/sos` (requests, offers, the case's life) and `/api/v1/doctors/me/on-call`.
struct SOSController {
    let sos: SOSService

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get(use: self.list)
        group.post(use: self.create)
        group.get("offers", use: self.offers)
        group.get(":id", use: self.get)
        group.post(":id/accept", use: self.accept)
        group.post(":id/decline", use: self.decline)
        group.post(":id/cancel", use: self.cancel)
        group.post(":id/hand-back", use: self.handBack)
        group.post(":id/status", use: self.report)
    }

    /// Mounted on the `doctors` group.
    func addOnCallRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get("me/on-call", use: self.onCall)
        group.put("me/on-call", use: self.setOnCall)
    }

    struct OnCallBody: Decodable {
        let on_call: Bool
        let by_schedule: Bool?
        let latitude: Double?
        let longitude: Double?
        let radius_km: Double?
        let kinds: [SOSKind]?
    }

    struct CreateBody: Decodable {
        let symptoms: [String]
        let severity: SOSSeverity
        let latitude: Double
        let longitude: Double
        let place: String?
        let country: String
        let language: String
        let kinds: [SOSKind]?
    }

    struct AcceptBody: Decodable {
        let kind: SOSKind?
    }

    struct ReasonBody: Decodable {
        let reason: String?
    }

    struct StatusBody: Decodable {
        let status: SOSDoctorStatus
        let eta_minutes: Int?
    }

    @Sendable func onCall(_ request: Request, context: AuthenticatedContext) async throws -> OnCallPayload {
        OnCallPayload(try await self.sos.onCall(context.principal))
    }

    @Sendable func setOnCall(_ request: Request, context: AuthenticatedContext) async throws -> OnCallPayload {
        let body = try await request.decode(as: OnCallBody.self, context: context)
        return OnCallPayload(try await self.sos.setOnCall(context.principal, OnCallChange(
            onCall: body.on_call, bySchedule: body.by_schedule, latitude: body.latitude, longitude: body.longitude, radiusKm: body.radius_km,
            kinds: body.kinds
        )))
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<SOSRequestEnvelope> {
        let body = try await request.decode(as: CreateBody.self, context: context)
        let created = try await self.sos.request(context.principal, NewSOSRequest(
            symptoms: body.symptoms, severity: body.severity, latitude: body.latitude, longitude: body.longitude, place: body.place,
            country: body.country, language: body.language, kinds: body.kinds ?? SOSKind.allCases
        ))
        return EditedResponse(status: .created, response: SOSRequestEnvelope(message: "SOS request sent", request: SOSRequestPayload(created)))
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> SOSRequestListPayload {
        SOSRequestListPayload(requests: try await self.sos.list(context.principal).map(SOSRequestPayload.init))
    }

    @Sendable func offers(_ request: Request, context: AuthenticatedContext) async throws -> SOSOfferListPayload {
        SOSOfferListPayload(offers: try await self.sos.offers(context.principal).map(SOSOfferPayload.init))
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> SOSRequestEnvelope {
        SOSRequestEnvelope(message: "SOS request", request: SOSRequestPayload(try await self.sos.get(context.principal, id: try context.uuid("id"))))
    }

    @Sendable func accept(_ request: Request, context: AuthenticatedContext) async throws -> SOSRequestEnvelope {
        let body = try await request.decodeIfPresent(as: AcceptBody.self, context: context)
        let accepted = try await self.sos.accept(context.principal, id: try context.uuid("id"), kind: body?.kind)
        return SOSRequestEnvelope(message: "SOS request accepted", request: SOSRequestPayload(accepted))
    }

    @Sendable func decline(_ request: Request, context: AuthenticatedContext) async throws -> MessagePayload {
        try await self.sos.decline(context.principal, id: try context.uuid("id"))
        return MessagePayload(message: "SOS offer declined")
    }

    @Sendable func cancel(_ request: Request, context: AuthenticatedContext) async throws -> SOSRequestEnvelope {
        let body = try await request.decodeIfPresent(as: ReasonBody.self, context: context)
        let cancelled = try await self.sos.cancel(context.principal, id: try context.uuid("id"), reason: body?.reason)
        return SOSRequestEnvelope(message: "SOS request cancelled", request: SOSRequestPayload(cancelled))
    }

    @Sendable func handBack(_ request: Request, context: AuthenticatedContext) async throws -> SOSRequestEnvelope {
        let body = try await request.decodeIfPresent(as: ReasonBody.self, context: context)
        let restarted = try await self.sos.handBack(context.principal, id: try context.uuid("id"), reason: body?.reason)
        return SOSRequestEnvelope(message: "SOS case handed back", request: SOSRequestPayload(restarted))
    }

    @Sendable func report(_ request: Request, context: AuthenticatedContext) async throws -> SOSRequestEnvelope {
        let body = try await request.decode(as: StatusBody.self, context: context)
        let updated = try await self.sos.report(context.principal, id: try context.uuid("id"), status: body.status, etaMinutes: body.eta_minutes)
        return SOSRequestEnvelope(message: "SOS status updated", request: SOSRequestPayload(updated))
    }
}
