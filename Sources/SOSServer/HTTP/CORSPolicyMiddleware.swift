import Hummingbird

/// Cross-origin access for the origins in `CORS_ORIGINS` (`*` for any): answers preflights and adds
/// `Access-Control-*` headers to every response, error responses included.
struct CORSPolicyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let allowedOrigins: [String]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], let allowed = self.allowed(origin) else {
            return try await next(request, context)
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            var response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            response.headers[.accessControlAllowHeaders] = request.headers[.accessControlRequestHeaders]
                ?? "Accept, Authorization, Content-Type, X-Request-Id"
            response.headers[.accessControlMaxAge] = "600"
            self.decorate(&response, allowed: allowed)
            return response
        }
        var response = try await next(request, context)
        self.decorate(&response, allowed: allowed)
        response.headers[.accessControlExposeHeaders] = "X-Request-Id, Retry-After"
        return response
    }

    private func allowed(_ origin: String) -> String? {
        if self.allowedOrigins.contains("*") { return "*" }
        return self.allowedOrigins.contains(origin) ? origin : nil
    }

    private func decorate(_ response: inout Response, allowed: String) {
        response.headers[.accessControlAllowOrigin] = allowed
        if allowed != "*" { response.headers[values: .vary].append("Origin") }
    }
}
