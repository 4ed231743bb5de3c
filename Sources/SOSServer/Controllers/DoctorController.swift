import Foundation
import Hummingbird
import SOSDomain

/// `/api/v1/doctors`: listings, profiles and ratings.
struct DoctorController {
    let doctors: DoctorService

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get(use: self.list)
        group.post(use: self.save)
        group.get("self", use: self.own)
        group.get(":id", use: self.get)
        group.put(":id", use: self.update)
        group.post(":id/ratings", use: self.rate)
    }

    /// Body of `POST /doctors` and `PUT /doctors/:id`.
    struct ProfileBody: Decodable {
        var input: DoctorProfileInput

        enum CodingKeys: String, CodingKey {
            case user_id, name, email, phone, profile_picture, specialisation, address, working_hours, bio, is_listed, supported_languages, time_zone
            case fees, currency, version
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.input = DoctorProfileInput(
                userId: try c.decodeIfPresent(UUID.self, forKey: .user_id),
                name: try c.decodeIfPresent(String.self, forKey: .name),
                email: try c.decodeIfPresent(String.self, forKey: .email),
                phone: try c.decodeIfPresent(String.self, forKey: .phone),
                profilePicture: try c.decodeIfPresent(String.self, forKey: .profile_picture),
                specialisation: try c.decodeIfPresent(String.self, forKey: .specialisation),
                address: try c.update(String.self, forKey: .address),
                workingHours: try c.update(JSON.self, forKey: .working_hours),
                bio: try c.update(String.self, forKey: .bio),
                isListed: try c.decodeIfPresent(Bool.self, forKey: .is_listed),
                supportedLanguages: try c.update([String].self, forKey: .supported_languages),
                timeZone: try c.decodeIfPresent(String.self, forKey: .time_zone),
                fees: try c.decodeIfPresent([String: Double].self, forKey: .fees),
                currency: try c.decodeIfPresent(String.self, forKey: .currency),
                expectedVersion: try c.decodeIfPresent(Int.self, forKey: .version)
            )
        }
    }

    struct RatingBody: Decodable {
        let rating: Int
        let comment: String?
        let appointment_id: UUID?
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> DoctorListPayload {
        let query = QueryParameters(request)
        let page = try await self.doctors.list(context.principal, DoctorQuery(
            page: try query.page(), search: try query.string("search"), specialisation: try query.string("specialisation"),
            language: try query.string("language"), minRating: try query.double("minRating"), isListed: try query.bool("isListed"),
            sortBy: try query.enum("sortBy", as: DoctorSort.self) ?? .rating, sortOrder: try query.enum("sortOrder", as: SortOrder.self) ?? .desc
        ))
        return DoctorListPayload(doctors: page.items.map(DoctorPayload.init), pagination: PaginationPayload(page))
    }

    @Sendable func own(_ request: Request, context: AuthenticatedContext) async throws -> DoctorEnvelope {
        DoctorEnvelope(doctor: DoctorPayload(try await self.doctors.own(context.principal)))
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> DoctorEnvelope {
        DoctorEnvelope(doctor: DoctorPayload(try await self.doctors.get(context.principal, id: try context.uuid("id"))))
    }

    @Sendable func save(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<DoctorMessageEnvelope> {
        var body = try await request.decode(as: ProfileBody.self, context: context)
        body.input.expectedVersion = try Versioning.expected(request, body: body.input.expectedVersion)
        let (doctor, created) = try await self.doctors.save(context.principal, body.input, requireSpecialisation: true)
        return EditedResponse(
            status: created ? .created : .ok,
            response: DoctorMessageEnvelope(message: created ? "Doctor profile created" : "Doctor profile updated", doctor: DoctorPayload(doctor))
        )
    }

    @Sendable func update(_ request: Request, context: AuthenticatedContext) async throws -> DoctorMessageEnvelope {
        let id = try context.uuid("id")
        var body = try await request.decode(as: ProfileBody.self, context: context)
        body.input.expectedVersion = try Versioning.expected(request, body: body.input.expectedVersion)
        let doctor = try await self.doctors.update(context.principal, id: id, body.input)
        return DoctorMessageEnvelope(message: "Doctor profile updated", doctor: DoctorPayload(doctor))
    }

    @Sendable func rate(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<DoctorMessageEnvelope> {
        let id = try context.uuid("id")
        let body = try await request.decode(as: RatingBody.self, context: context)
        let doctor = try await self.doctors.rate(context.principal, doctorId: id, rating: body.rating, comment: body.comment, appointmentId: body.appointment_id)
        return EditedResponse(status: .created, response: DoctorMessageEnvelope(message: "Rating saved", doctor: DoctorPayload(doctor)))
    }
}
