import Foundation
import Hummingbird
import SOSDomain

/// `/api/v1/auth`: email sign-up and sign-in, token refresh, sign-out and the caller's profile.
struct AuthController {
    let auth: AuthService
    let users: UserService
    let otp: OTPService
    let social: SocialSignInService
    let otpLifetimeMinutes: Int
    let trustForwardedFor: Bool

    func addPublicRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("email/login", use: self.login)
        group.post("email/register", use: self.register)
        group.post("refresh", use: self.refresh)
        group.post("email/send-otp") { request, context in try await self.sendCode(.email, request, context) }
        group.post("email/verify-otp") { request, context in try await self.verifyCode(.email, request, context) }
        group.post("phone/send-otp") { request, context in try await self.sendCode(.sms, request, context) }
        group.post("phone/verify-otp") { request, context in try await self.verifyCode(.sms, request, context) }
        group.get("whatsapp/send-otp") { request, context in try await self.sendCode(.whatsapp, request, context) }
        group.post("whatsapp/send-otp") { request, context in try await self.sendCode(.whatsapp, request, context) }
        group.post("whatsapp/verify-otp") { request, context in try await self.verifyCode(.whatsapp, request, context) }
        for provider in SocialProvider.allCases {
            group.get(RouterPath(provider.rawValue)) { request, _ in try await self.startSocial(provider, request) }
            group.get(RouterPath("\(provider.rawValue)/callback")) { request, _ in try await self.finishSocial(provider, request) }
        }
    }

    struct CodeRequest: Decodable {
        let email: String?
        let phone: String?
        let token: String?
        let language: String?
    }

    /// `send-otp`: the same answer whether or not an account exists.
    @Sendable func sendCode(_ channel: OTPChannel, _ request: Request, _ context: AppRequestContext) async throws -> MessagePayload {
        let body = try await request.decodeIfPresent(as: CodeRequest.self, context: context)
        let field = channel == .email ? "email" : "phone"
        let fromBody = channel == .email ? body?.email : body?.phone
        let fromQuery = QueryParameters(request).values[field]
        if let fromBody, let fromQuery, fromBody != fromQuery {
            throw DomainError.invalid("'\(field)' is given twice with different values (body and query): give it once.")
        }
        let destination = fromBody ?? fromQuery  // an empty ?phone= is a phone number that is not E.164
        guard let destination, !destination.isEmpty else {
            throw DomainError.invalid(channel == .email ? "'email' is required." : "'phone' is required, in E.164 format such as +14155550123 (in the body, or ?phone= for GET).")
        }
        let client = request.clientAddress(remote: context.remoteAddress, trustForwardedFor: self.trustForwardedFor)
        try await self.otp.send(channel: channel, to: destination, client: client, language: Self.language(body?.language, request))
        let place = switch channel {
        case .email: "this address"
        case .sms: "this number by SMS"
        case .whatsapp: "this number on WhatsApp"
        }
        return MessagePayload(message: "A 6-digit code is on its way to \(place) if it can receive messages. It is valid for \(self.otpLifetimeMinutes) minutes.")
    }

    @Sendable func verifyCode(_ channel: OTPChannel, _ request: Request, _ context: AppRequestContext) async throws -> AuthPayload {
        let body = try await request.decode(as: CodeRequest.self, context: context)
        let destination = channel == .email ? body.email : body.phone
        guard let destination, !destination.isEmpty else {
            throw DomainError.invalid(channel == .email ? "'email' is required." : "'phone' is required, in E.164 format such as +14155550123.")
        }
        guard let token = body.token, !token.isEmpty else { throw DomainError.invalid("'token' is required: the 6-digit code from the message.") }
        let client = request.clientAddress(remote: context.remoteAddress, trustForwardedFor: self.trustForwardedFor)
        let stated = body.language != nil || request.headers[.acceptLanguage] != nil
        let session = try await self.otp.verify(
            channel: channel, destination: destination, code: token, client: client, language: stated ? Self.language(body.language, request) : nil
        )
        return AuthPayload(message: "Login successful", session: session)
    }

    static func language(_ stated: String?, _ request: Request) -> Language {
        Language(preferred: stated, request.headers[.acceptLanguage])
    }

    struct SocialStart: ResponseEncodable {
        let message: String
        let auth_url: String
    }

    @Sendable func startSocial(_ provider: SocialProvider, _ request: Request) async throws -> SocialStart {
        let url = try await self.social.start(provider, clientState: QueryParameters(request).values["client_state"])
        return SocialStart(message: "Open auth_url to sign in with \(provider.displayName).", auth_url: url)
    }

    @Sendable func finishSocial(_ provider: SocialProvider, _ request: Request) async throws -> AuthPayload {
        let query = QueryParameters(request)
        let session = try await self.social.finish(
            provider, code: try query.string("code"), state: try query.string("state"), error: try query.string("error"), clientState: query.values["client_state"]
        )
        return AuthPayload(message: "Login successful", session: session)
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
