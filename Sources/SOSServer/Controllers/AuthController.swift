import Foundation
import Hummingbird
import SOSDomain

/// `/api/v1/auth`: email sign-up and sign-in, token refresh, sign-out and the caller's profile.
struct AuthController {
    let auth: AuthService
    let users: UserService
    let trustForwardedFor: Bool

    func addPublicRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("email/login", use: self.login)
        group.post("email/register", use: self.register)
        group.post("refresh", use: self.refresh)
    }

    func addAuthenticatedRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.post("logout", use: self.logout)
        group.get("me", use: self.me)
    }

    struct LoginBody: Decodable {
        let email: String
        let password: String
    }

    struct RegisterBody: Decodable {
        let email: String
        let password: String
        let name: String
        let phone: String?
        let role: Role?
    }

    struct RefreshBody: Decodable {
        let refreshToken: String

        enum CodingKeys: String, CodingKey {
            case refreshToken = "refresh_token"
        }
    }

    struct LogoutBody: Decodable {
        let refreshToken: String?

        enum CodingKeys: String, CodingKey {
            case refreshToken = "refresh_token"
        }
    }

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> AuthPayload {
        let body = try await request.decode(as: LoginBody.self, context: context)
        let client = request.clientAddress(remote: context.remoteAddress, trustForwardedFor: self.trustForwardedFor)
        let session = try await self.auth.login(email: body.email, password: body.password, client: client)
        return AuthPayload(message: "Login successful", session: session)
    }

    @Sendable func register(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<AuthPayload> {
        let body = try await request.decode(as: RegisterBody.self, context: context)
        let client = request.clientAddress(remote: context.remoteAddress, trustForwardedFor: self.trustForwardedFor)
        let session = try await self.auth.register(
            email: body.email, password: body.password, name: body.name, phone: body.phone, requestedRole: body.role, client: client
        )
        return EditedResponse(status: .created, response: AuthPayload(message: "Registration successful", session: session))
    }

    @Sendable func refresh(_ request: Request, context: AppRequestContext) async throws -> AuthPayload {
        let body = try await request.decode(as: RefreshBody.self, context: context)
        let session = try await self.auth.refresh(token: body.refreshToken)
        return AuthPayload(message: "Token refreshed", session: session)
    }

    @Sendable func logout(_ request: Request, context: AuthenticatedContext) async throws -> MessagePayload {
        let body = try await request.decodeIfPresent(as: LogoutBody.self, context: context)
        try await self.auth.logout(context.principal, refreshToken: body?.refreshToken)
        return MessagePayload(message: "Logged out successfully")
    }

    @Sendable func me(_ request: Request, context: AuthenticatedContext) async throws -> UserEnvelope {
        UserEnvelope(user: UserPayload(try await self.users.me(context.principal)))
    }
}

extension Request {
    /// Decodes a JSON body when one was sent; `nil` for an empty body.
    func decodeIfPresent<T: Decodable>(as type: T.Type, context: some RequestContext) async throws -> T? {
        var request = self
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return nil }
        return try JSONCoding.decode(T.self, from: buffer)
    }
}
