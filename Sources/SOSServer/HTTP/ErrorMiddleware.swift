import Foundation
import Hummingbird
import Logging

/// The outermost middleware: renders every failure in the seed's error shape, tags each response with
/// `X-Request-Id`, and writes one log line per request (method, path, status, duration — never the query).
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        context.maxBodyBytes = self.maxBodyBytes
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            if let apiError = APIError.from(error, request: request) {
                response = try apiError.response(from: request, context: context)
            } else {
                context.logger.error("Unhandled error", metadata: ["error": "\(String(reflecting: error))"])
                response = APIError.render(
                    ErrorBody(error: "Internal server error", details: "The request failed unexpectedly (request id \(context.id)); it has been logged.", status: 500),
                    status: .internalServerError
                )
            }
        }
        response.headers[.xRequestID] = context.id
        if context.logger.logLevel <= .info {
            let elapsed = ContinuousClock.now - start
            let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
            context.logger.info(
                "\(request.method) \(request.uri.path) \(response.status.code)",
                metadata: ["duration_ms": .stringConvertible(Double(micros) / 1000)]
            )
        }
        return response
    }
}
