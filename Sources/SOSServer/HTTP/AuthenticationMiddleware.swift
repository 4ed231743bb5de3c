import Hummingbird
import SOSDomain

/// Requires `Authorization: Bearer <token>` and resolves it to the caller through `AuthService`.
///
/// A missing, malformed, expired or revoked token, or a blocked account, is answered with 401 here.
extension Character {
    /// Space or tab, the whitespace an HTTP header value may carry around a token.
    fileprivate var isHeaderSpace: Bool { self == " " || self == "\t" }
}

struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let auth: AuthService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized("This endpoint needs 'Authorization: Bearer <access_token>'; get a token from POST /api/v1/auth/email/login.")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        // step: spaces and tabs around the token are dropped (on every request, so without Foundation's bridging)
        var token = parts.count == 2 ? parts[1] : ""
        while token.first?.isHeaderSpace == true { token.removeFirst() }
        while token.last?.isHeaderSpace == true { token.removeLast() }
        guard parts.count == 2, parts[0].lowercased() == "bearer", !token.isEmpty else {
            throw APIError.unauthorized("The Authorization header must be 'Bearer <access_token>'.")
        }
        var context = context
        context.principal = try await self.auth.authenticate(bearer: String(token))
        return try await next(request, context)
    }
}
