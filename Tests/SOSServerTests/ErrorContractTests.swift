import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import SOSServer

@Suite("Error contract and operations")
struct ErrorContractTests {
    @Test("Unknown routes are 404 in the seed's error shape")
    func unknownRoute() async throws {
        try await withApp { client, _ in
            expectError(try await client.request(.get, "/api/v1/nothing-here"), .notFound, detailsContain: "openapi.yaml")
            expectError(try await client.request(.post, "/nope"), .notFound)
        }
    }

    @Test("A wrong method on a known path is 405 with Allow; OPTIONS answers Allow")
    func wrongMethod() async throws {
        try await withApp { client, _ in
            let response = try await client.request(.delete, "/api/v1/auth/email/login")
            expectError(response, .methodNotAllowed, detailsContain: "POST")
            #expect(response.headers[.allow]?.contains("POST") == true)
            let patch = try await client.request(.patch, "/api/v1/users/\(UUID().uuidString)")
            expectError(patch, .methodNotAllowed)
            #expect(patch.headers[.allow] == "DELETE, GET, HEAD, OPTIONS, PUT")
            let options = try await client.request(.options, "/api/v1/users")
            #expect(options.status == .noContent)
            #expect(options.headers[.allow] == "GET, HEAD, OPTIONS, POST")
        }
    }

    @Test("A body over the limit is 413; the server keeps working")
    func bodyTooLarge() async throws {
        try await withApp(configure: { $0.maxBodyBytes = 2048 }) { client, _ in
            let huge = "{\"email\":\"" + String(repeating: "a", count: 5000) + "@x.com\",\"password\":\"Admin123!\"}"
            expectError(try await client.request(.post, "/api/v1/auth/email/login", rawBody: huge), .contentTooLarge)
            #expect(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "admin@test.com", "password": "Admin123!"]).status == .ok)
        }
    }

    @Test("Every response carries an X-Request-Id")
    func requestId() async throws {
        try await withApp { client, _ in
            let ok = try await client.request(.get, "/health")
            let failed = try await client.request(.get, "/missing")
            let first = try #require(ok.headers[.xRequestID])
            let second = try #require(failed.headers[.xRequestID])
            #expect(!first.isEmpty && first != second)
        }
    }

    @Test("health, ready, metrics and the OpenAPI document are served")
    func operations() async throws {
        try await withApp { client, services in
            let health = try await client.request(.get, "/health")
            #expect(health.json == .object(["status": .string("ok")]))
            let ready = try await client.request(.get, "/ready")
            #expect(ready.status == .ok)
            #expect(ready.json["database"]?.string == services.database.kind.rawValue)
            #expect(services.database.kind == (TestDatabase.postgresURL == nil ? .sqlite : .postgres), "the suite runs on the database the test script chose")
            #expect(try await client.request(.get, "/api/v1/health").status == .ok)
            _ = try await client.request(.get, "/missing")
            let metrics = try await client.request(.get, "/metrics")
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains(#"sos_http_requests_total{method="GET",route="/health",status="200"} 1"#), "\(metrics.text.prefix(2000))")
            #expect(metrics.text.contains("sos_http_request_duration_seconds_bucket"))
            // the operator's numbers: hub, outbox and (on PostgreSQL) the pool, labelled with the node
            let node = #"{node=""# + services.hub.nodeId + #""}"#
            for gauge in ["sos_hub_connections", "sos_hub_messages_in_total", "sos_hub_slow_consumers_closed_total", "sos_hub_resume_gaps_total", "sos_hub_broker_gaps_total",
                          "sos_outbox_pending", "sos_outbox_oldest_pending_age_seconds"] {
                #expect(metrics.text.contains("# TYPE \(gauge) "), "\(gauge)")
                #expect(metrics.text.contains(gauge + node + " "), "\(gauge)")
            }
            #expect(metrics.text.contains("sos_db_pool_in_use") == (services.database.kind == .postgres))
            #expect(metrics.text.contains(#"status="404""#))
            let openapi = try await client.request(.get, "/api/v1/openapi.yaml")
            #expect(openapi.status == .ok)
            #expect(openapi.text.hasPrefix("openapi: 3.1"))
        }
    }

    @Test("CORS: allowed origins get Access-Control headers (errors too); others get none")
    func cors() async throws {
        try await withApp(configure: { $0.corsOrigins = ["https://clinic.example"] }) { client, _ in
            let preflight = try await client.request(.options, "/api/v1/users", headers: [
                .origin: "https://clinic.example", .accessControlRequestMethod: "GET", .accessControlRequestHeaders: "authorization",
            ])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "https://clinic.example")
            #expect(preflight.headers[.accessControlAllowHeaders] == "authorization")
            let error = try await client.request(.get, "/api/v1/users", headers: [.origin: "https://clinic.example"])
            #expect(error.status == .unauthorized)
            #expect(error.headers[.accessControlAllowOrigin] == "https://clinic.example")
            let foreign = try await client.request(.get, "/health", headers: [.origin: "https://evil.example"])
            #expect(foreign.headers[.accessControlAllowOrigin] == nil)
        }
    }
}

@Suite("Inputs the database cannot hold")
struct UnstorableInputTests {
    @Test("NUL in a query string or in a JSON string is a 400 that says so, never a 500 (PostgreSQL text has no NUL)")
    func nul() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            for path in ["/api/v1/doctors?search=a%00b", "/api/v1/doctors?language=e%00n", "/api/v1/users?search=%00"] {
                expectError(try await client.request(.get, path, token: clinic.admin), .badRequest, detailsContain: "NUL")
            }
            let body = #"{"bio":"before\u0000after"}"#
            expectError(
                try await client.request(.put, "/api/v1/doctors/\(clinic.doctor.id)", token: clinic.doctor.token, rawBody: body),
                .badRequest, detailsContain: "NUL"
            )
            // An escaped backslash followed by "u0000" is six ordinary characters, stored as sent.
            let text = #"{"bio":"C:\\u0000 is a path"}"#
            let stored = try await client.request(.put, "/api/v1/doctors/\(clinic.doctor.id)", token: clinic.doctor.token, rawBody: text)
            #expect(stored.status == .ok, "\(stored.text)")
            #expect(stored.json["doctor"]?["doctor_profile"]?["bio"]?.string == #"C:\u0000 is a path"#)
        }
    }

    @Test("A fee too small to be one minor unit is refused, not stored as 0")
    func tinyFee() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            for amount in [1e-300, 0.001] {
                let response = try await client.request(.put, "/api/v1/doctors/\(clinic.doctor.id)", token: clinic.doctor.token, json: ["fees": ["home": amount]])
                expectError(response, .badRequest, detailsContain: "fees.home")
            }
            let profile = try await client.request(.get, "/api/v1/doctors/\(clinic.doctor.id)", token: clinic.patient.token)
            #expect(profile.json["doctor"]?["doctor_profile"]?["fees"]?["home"]?.number == 120)
        }
    }
}
