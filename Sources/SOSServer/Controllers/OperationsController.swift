import Foundation
import Hummingbird
import SOSStorage

/// Liveness, readiness, metrics and the OpenAPI document.
struct OperationsController {
    let database: Database
    let metrics: PrometheusMetrics
    let gauges: OperationalGauges
    /// The contents of `protocol/openapi.yaml`, read at start-up.
    let openAPI: String?

    struct Health: ResponseEncodable {
        let status: String
    }

    struct Readiness: ResponseEncodable {
        let status: String
        let database: String
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        for prefix in ["", "api/v1/"] {
            router.get("\(prefix)health", use: self.health)
            router.get("\(prefix)ready", use: self.ready)
        }
        router.get("metrics", use: self.renderMetrics)
        router.get("api/v1/openapi.yaml", use: self.openAPIDocument)
    }

    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> Health {
        Health(status: "ok")
    }

    @Sendable func ready(_ request: Request, context: AppRequestContext) async throws -> Readiness {
        guard await self.database.ping() else {
            throw APIError(.serviceUnavailable, "Not ready", "The database (\(self.database.kind.rawValue)) is not reachable.")
        }
        return Readiness(status: "ready", database: self.database.kind.rawValue)
    }

    @Sendable func renderMetrics(_ request: Request, context: AppRequestContext) async throws -> Response {
        let text = self.metrics.render() + (await self.gauges.render())
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    @Sendable func openAPIDocument(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let openAPI = self.openAPI else {
            throw APIError(.notFound, "Not found", "protocol/openapi.yaml was not found under SOS_ASSETS_DIR; run the server from the repository root or set SOS_ASSETS_DIR.")
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/yaml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: openAPI))
        )
    }
}
