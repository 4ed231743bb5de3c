import Foundation
import Hummingbird
import SOSDomain

/// `/api/v1/users`: profiles, the staff's user list and the admin's user administration.
struct UserController {
    let users: UserService

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get("me", use: self.me)
        group.put("me", use: self.updateMe)
        group.get(use: self.list)
        group.post(use: self.create)
        group.get(":id", use: self.get)
        group.put(":id", use: self.update)
        group.delete(":id", use: self.delete)
    }

    /// Body of `PUT /users/me` and `PUT /users/:id`; which fields are allowed is the service's decision.
    struct ChangesBody: Decodable {
        let name: String?
        let email: String?
        let phone: String?
        let profilePicture: String?
        let role: Role?
        let isStatus: UserStatus?
        let associatedDoctors: [UUID]?

        enum CodingKeys: String, CodingKey {
            case name, email, phone, role
            case profilePicture = "profile_picture"
            case isStatus = "is_status"
            case associatedDoctors = "associated_doctors"
        }

        var changes: UserChanges {
            UserChanges(
                name: self.name, email: self.email, phone: self.phone, profilePicture: self.profilePicture,
                role: self.role, status: self.isStatus, associatedDoctors: self.associatedDoctors
            )
        }
    }

    struct CreateBody: Decodable {
        let email: String
        let password: String
        let name: String
        let phone: String?
        let role: Role
        let isStatus: UserStatus?
        let profilePicture: String?
        let associatedDoctors: [UUID]?

        enum CodingKeys: String, CodingKey {
            case email, password, name, phone, role
            case isStatus = "is_status"
            case profilePicture = "profile_picture"
            case associatedDoctors = "associated_doctors"
        }
    }

    @Sendable func me(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<UserEnvelope> {
        let user = try await self.users.me(context.principal)
        return EditedResponse(headers: [.eTag: Versioning.etag(user.version)], response: UserEnvelope(user: UserPayload(user)))
    }

    @Sendable func updateMe(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<UserMessageEnvelope> {
        var changes = try await request.decode(as: ChangesBody.self, context: context).changes
        changes.expectedVersion = try Versioning.expected(request, body: nil)
        let user = try await self.users.updateOwnProfile(context.principal, changes)
        return EditedResponse(headers: [.eTag: Versioning.etag(user.version)], response: UserMessageEnvelope(message: "Profile updated", user: UserPayload(user)))
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> UserListPayload {
        let query = QueryParameters(request)
        let result = try await self.users.list(
            context.principal,
            UserQuery(
                page: try query.page(),
                role: try query.enum("role", as: Role.self),
                status: try query.enum("status", as: UserStatus.self),
                search: try query.string("search")
            )
        )
        return UserListPayload(users: result.items.map(UserPayload.init), pagination: PaginationPayload(result))
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<UserMessageEnvelope> {
        let body = try await request.decode(as: CreateBody.self, context: context)
        let user = try await self.users.create(
            context.principal,
            NewUser(
                email: body.email, password: body.password, name: body.name, phone: body.phone, role: body.role,
                status: body.isStatus, profilePicture: body.profilePicture, associatedDoctors: body.associatedDoctors
            )
        )
        return EditedResponse(status: .created, response: UserMessageEnvelope(message: "User created", user: UserPayload(user)))
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<UserEnvelope> {
        let user = try await self.users.get(context.principal, id: try context.uuid("id"))
        return EditedResponse(headers: [.eTag: Versioning.etag(user.version)], response: UserEnvelope(user: UserPayload(user)))
    }

    @Sendable func update(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<UserMessageEnvelope> {
        let id = try context.uuid("id")
        var changes = try await request.decode(as: ChangesBody.self, context: context).changes
        changes.expectedVersion = try Versioning.expected(request, body: nil)
        let user = try await self.users.update(context.principal, id: id, changes)
        return EditedResponse(headers: [.eTag: Versioning.etag(user.version)], response: UserMessageEnvelope(message: "User updated", user: UserPayload(user)))
    }

    @Sendable func delete(_ request: Request, context: AuthenticatedContext) async throws -> MessagePayload {
        try await self.users.delete(context.principal, id: try context.uuid("id"))
        return MessagePayload(message: "User deleted")
    }
}
