import Foundation
import HTTPTypes
import HummingbirdTesting
import SOSDomain
import Testing

@testable import SOSServer

/// One test per item of the OWASP API Security Top 10 (2023), each an attack against this API. They run on both
/// databases like every suite. Deeper tests of the same rules are named in each test's comment.
@Suite("OWASP API Security Top 10 (2023)")
struct OWASPTests {
    @Test("API1 Broken Object Level Authorization: another user's ids answer 404 and leak nothing")
    func api1ObjectLevelAuthorization() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let appointment = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            try await clinic.pay(client, appointment)
            let payment = try await client.request(.get, "/api/v1/payments", token: clinic.patient.token).json["payments"]?[0]?["id"]?.string ?? ""
            let record = try await client.request(.post, "/api/v1/medical-records", token: clinic.doctor.token, json: [
                "user_id": clinic.patient.id, "record_type": "diagnosis", "title": "Otitis media", "appointment_id": appointment,
            ]).json["record"]?["id"]?.string ?? ""
            let intruder = clinic.otherPatient.token
            for path in ["/api/v1/appointments/\(appointment)", "/api/v1/payments/\(payment)", "/api/v1/medical-records/\(record)",
                         "/api/v1/medical-records/\(record)/attachments", "/api/v1/users/\(clinic.patient.id)",
                         "/api/v1/video-consultations/status/\(appointment)"] {
                let response = try await client.request(.get, path, token: intruder)
                expectError(response, .notFound)
                #expect(!response.text.contains("Otitis") && !response.text.contains("Paula"), "\(path): \(response.text)")
            }
            expectError(try await client.request(.put, "/api/v1/appointments/\(appointment)", token: intruder, json: ["status": "cancelled"]), .notFound)
            expectError(try await client.request(.post, "/api/v1/payments/\(payment)/cancel", token: intruder), .notFound)
            expectError(try await client.request(.get, "/api/v1/medical-records/\(record)", token: clinic.otherDoctor.token), .notFound)
            // (more: ScopeTests, MedicalRecordTests "visibility", TrustRecordsTests)
        }
    }

    @Test("API2 Broken Authentication: forged, unsigned, expired and revoked tokens fail; guessing is throttled")
    func api2Authentication() async throws {
        try await withApp(configure: { $0.loginFailuresPerAccount = 5 }) { client, _ in
            let patient = try await client.makeUser(role: "patient", email: "victim@example.com")
            let parts = patient.token.split(separator: ".")
            let unsigned = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
            let tampered = parts[0] + "." + parts[1] + "." + String(parts[2].reversed())
            for token in [unsigned, tampered, "not-a-jwt", patient.token + "x"] {
                expectError(try await client.request(.get, "/api/v1/auth/me", token: String(token)), .unauthorized)
            }
            #expect(try await client.request(.post, "/api/v1/auth/logout", token: patient.token).status == .ok)
            expectError(try await client.request(.get, "/api/v1/auth/me", token: patient.token), .unauthorized, detailsContain: "signed out")
            for attempt in 0..<5 {
                _ = try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "victim@example.com", "password": "Guess-\(attempt)-xx"])
            }
            expectError(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "victim@example.com", "password": "Password1!"]), .tooManyRequests)
            // (more: AuthTests, SignInTests, TrustLimitTests)
        }
    }

    @Test("API3 Broken Object Property Level Authorization: fields a caller may not set are refused or ignored; secrets never leave")
    func api3PropertyLevelAuthorization() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            expectError(try await client.request(.put, "/api/v1/users/me", token: clinic.patient.token, json: ["role": "admin"]), .forbidden)
            expectError(try await client.request(.put, "/api/v1/users/me", token: clinic.patient.token, json: ["is_status": "active"]), .forbidden)
            expectError(try await client.request(.post, "/api/v1/auth/email/register", json: [
                "email": "sneaky@example.com", "password": "Password1!", "name": "Sneaky", "role": "admin",
            ]), .forbidden)
            let booked = try await clinic.book(client, start: "09:00:00", end: "09:30:00", extra: [
                "fee": ["amount": 0.01, "currency": "EUR"], "patient_acceptance": "accepted", "booked_by": clinic.admin, "status": "confirmed", "version": 99,
            ])
            #expect(booked.json["appointment"]?["fee"] == .object(["amount": .number(60), "currency": .string("EUR")]), "the server sets the fee")
            #expect(booked.json["appointment"]?["status"]?.string == "pending_payment")
            #expect(booked.json["appointment"]?["booked_by"]?.string == clinic.patient.id)
            #expect(booked.json["appointment"]?["version"]?.int == 1)
            let me = try await client.request(.get, "/api/v1/auth/me", token: clinic.patient.token).text
            #expect(!me.contains("password") && !me.contains("$2"), "no password hash in any answer")
            // (more: UserTests "Nobody raises their own role", TrustRecordsTests "only the patient answers")
        }
    }

    @Test("API4 Unrestricted Resource Consumption: bodies, fields, pages, uploads and bookings are all bounded")
    func api4ResourceConsumption() async throws {
        try await withApp(configure: { $0.maxBodyBytes = 64 << 10; $0.booking.maxUnpaidPerPatient = 2 }) { client, _ in
            let clinic = try await Clinic.make(client)
            let big = String(repeating: "x", count: 70 << 10)
            expectError(try await client.request(.post, "/api/v1/auth/email/login", rawBody: "{\"email\":\"\(big)\"}"), .contentTooLarge)
            expectError(try await clinic.book(client, start: "09:00:00", end: "09:30:00", extra: ["visit_location": ["hotel": String(repeating: "h", count: 3000)]]),
                        .badRequest, detailsContain: "2048 bytes")
            expectError(try await clinic.book(client, start: "09:00:00", end: "09:30:00", extra: ["symptoms": Array(repeating: "cough", count: 31)]),
                        .badRequest, detailsContain: "at most 30")
            expectError(try await client.request(.post, "/api/v1/doctors", token: clinic.doctor.token, json: ["working_hours": ["notes": String(repeating: "w", count: 5000)]]),
                        .badRequest, detailsContain: "4096 bytes")
            let deep: Any = (0..<12).reduce(["leaf": 1] as [String: Any]) { inner, _ in ["x": inner] }
            expectError(try await clinic.book(client, start: "09:00:00", end: "09:30:00", extra: ["visit_location": deep]), .badRequest, detailsContain: "levels deep")
            let page = try await client.request(.get, "/api/v1/appointments?limit=1000000", token: clinic.admin)
            #expect(page.json["pagination"]?["limit"]?.int == 100, "a huge page is clamped")
            #expect(try await clinic.book(client, start: "09:00:00", end: "09:30:00").status == .created)
            #expect(try await clinic.book(client, start: "10:00:00", end: "10:30:00").status == .created)
            expectError(try await clinic.book(client, start: "11:00:00", end: "11:30:00"), .conflict, detailsContain: "2 bookings waiting")
            // (more: Tests/e2e/trust/resources.py measures RSS, descriptors and slow clients on a server process;
            //  EventLogTests, NotificationTests "uploadQuota", TrustLimitTests)
        }
    }

    @Test("API5 Broken Function Level Authorization: a patient calling staff and admin functions gets 403")
    func api5FunctionLevelAuthorization() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let patient = clinic.patient.token
            let calls: [(HTTPRequest.Method, String, JSONObject?)] = [
                (.get, "/api/v1/users", nil), (.post, "/api/v1/users", ["email": "x@example.com", "password": "Password1!", "name": "X", "role": "admin"]),
                (.get, "/api/v1/admin/dashboard/stats", nil), (.get, "/api/v1/appointments/all", nil), (.get, "/api/v1/dev/outbox", nil),
                (.post, "/api/v1/dev/seed-demo", nil), (.delete, "/api/v1/users/\(clinic.doctor.id)", nil),
                (.post, "/api/v1/medical-records", ["user_id": clinic.patient.id, "record_type": "note", "title": "Self"]),
            ]
            for (method, path, body) in calls {
                expectError(try await client.request(method, path, token: patient, json: body), .forbidden)
            }
            // (more: PermissionMatrixTests covers every role-gated endpoint for every role, from AccessPolicy.grants)
        }
    }

    @Test("API6 Unrestricted Access to Sensitive Business Flows: slot hoarding, sign-up and code floods are limited")
    func api6BusinessFlows() async throws {
        try await withApp(configure: { $0.registrationsPerHour = 3; $0.otpPerDestinationPerHour = 2 }) { client, _ in
            var statuses: [HTTPResponse.Status] = []
            for index in 0..<5 {
                statuses.append(try await client.request(.post, "/api/v1/auth/email/register", json: [
                    "email": "bot\(index)@example.com", "password": "Password1!", "name": "Bot \(index)",
                ]).status)
            }
            #expect(statuses.filter { $0 == .created }.count == 3 && statuses.last == .tooManyRequests, "\(statuses.map(\.code))")
            for _ in 0..<2 { #expect(try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "target@example.com"]).status == .ok) }
            expectError(try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "target@example.com"]), .tooManyRequests)
            // (more: TrustBookingTests: unpaid bookings expire and a patient holds at most 3)
        }
    }

    @Test("API7 Server Side Request Forgery: the server never fetches a URL a client supplies")
    func api7ServerSideRequestForgery() async throws {
        try await withApp { client, _ in
            let patient = try await client.makeUser(role: "patient")
            for url in ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:5432/", "file:///etc/passwd", "https://evil.example/p.png"] {
                expectError(try await client.request(.put, "/api/v1/users/me", token: patient.token, json: ["profile_picture": url]), .badRequest, detailsContain: "uploaded")
            }
            // provider endpoints come only from configuration, and only https (or localhost for tests)
            #expect(throws: ConfigurationError.self) { try ServerConfiguration.fromEnvironment(["STRIPE_API_BASE": "http://169.254.169.254"]) }
            #expect(throws: ConfigurationError.self) {
                try ServerConfiguration.fromEnvironment(["GOOGLE_CLIENT_ID": "a", "GOOGLE_CLIENT_SECRET": "b", "GOOGLE_REDIRECT_URI": "http://evil.example/cb"])
            }
        }
    }

    @Test("API8 Security Misconfiguration: strict headers, no stack traces, 405 for wrong methods, production refuses development settings")
    func api8Misconfiguration() async throws {
        try await withApp(configure: { $0.corsOrigins = ["https://clinic.example"] }) { client, _ in
            let api = try await client.request(.get, "/api/v1/health", headers: [.origin: "https://evil.example"])
            #expect(api.headers[.accessControlAllowOrigin] == nil, "an unknown origin gets no CORS grant")
            #expect(api.headers[.xContentTypeOptions] == "nosniff" && api.headers[.contentSecurityPolicy] == "default-src 'none'; frame-ancestors 'none'")
            let broken = try await client.request(.post, "/api/v1/auth/email/login", rawBody: "{\"email\": [")
            expectError(broken, .badRequest)
            #expect(!broken.text.contains("DecodingError") && !broken.text.contains(".swift"))
            let wrong = try await client.request(.patch, "/api/v1/auth/me")
            expectError(wrong, .methodNotAllowed)
            #expect(wrong.headers[.allow] != nil)
        }
        for settings in [["SOS_ENV": "production", "JWT_SECRET": String(repeating: "s", count: 40), "SOS_BCRYPT_COST": "4"],
                         ["SOS_ENV": "production", "JWT_SECRET": String(repeating: "s", count: 40), "CORS_ORIGINS": "*"],
                         ["SOS_ENV": "production"], ["SOS_HOST": "0.0.0.0"]] {
            #expect(throws: ConfigurationError.self, "\(settings)") { try ServerConfiguration.fromEnvironment(settings).validate() }
        }
        #expect(throws: Never.self) { try ServerConfiguration.fromEnvironment(["SOS_HOST": "0.0.0.0", "SOS_ALLOW_DEVELOPMENT_ON_NETWORK": "true"]).validate() }
        // a database that still has the development admin's published password does not start in production
        let storage = try await TestStorage.make()
        defer { Task { await storage.cleanUp() } }
        try await runApp(storage.configuration) { _, _ in }
        var production = storage.configuration
        useProductionMode(&production)
        await #expect(throws: ConfigurationError.self) {
            try await ServerCommands.withServices(production) { try await $0.prepare() }
        }
    }

    @Test("API9 Improper Inventory Management: every route is documented in openapi.yaml; development routes do not exist in production")
    func api9Inventory() async throws {
        let spec = try String(contentsOfFile: packageRoot + "/protocol/openapi.yaml", encoding: .utf8)
        let documented = Set(spec.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  /"), line.hasSuffix(":") else { return nil }
            return String(line.dropFirst(2).dropLast()).replacingOccurrences(of: #"\{[^}]+\}"#, with: "{}", options: .regularExpression)
        })
        try await withApp { _, services in
            let router = buildRouter(services)
            let served = Set(router.routes.map { route -> String in
                let path = "/" + route.path.description.split(separator: "/").map { $0.hasPrefix(":") ? "{}" : String($0) }.joined(separator: "/")
                return path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "{}", options: .regularExpression)
            })
            let undocumented = served.subtracting(documented).filter { !$0.hasPrefix("/api/v1/ws") }
            #expect(undocumented.isEmpty, "routes missing from protocol/openapi.yaml: \(undocumented.sorted())")
            let stale = documented.subtracting(served).filter { !$0.hasPrefix("/api/v1/ws") }
            #expect(stale.isEmpty, "documented paths no route serves: \(stale.sorted())")
        }
        try await withApp(configure: { useProductionMode(&$0) }) { client, services in
            _ = try await services.userService.ensureAdmin(email: "ops@example.com", password: "Password1!", name: "Ops")
            let token = try await client.login("ops@example.com", "Password1!")["access_token"]?.string
            for path in ["/api/v1/dev/outbox", "/api/v1/dev/ws-echo"] {
                expectError(try await client.request(.get, path, token: token), .notFound)
            }
        }
    }

    @Test("API10 Unsafe Consumption of APIs: provider answers are verified, never trusted as sent")
    func api10UnsafeConsumption() async throws {
        let secret = "whsec_owasp"
        try await FakeStripe.run { base, _ in
            try await withApp(configure: { $0.stripeSecretKey = "sk_test_owasp"; $0.stripeAPIBase = base; $0.stripeWebhookSecret = secret }) { client, _ in
                let clinic = try await Clinic.make(client)
                let id = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
                let created = try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: [
                    "appointment_id": id, "amount": 60, "currency": "eur", "payment_method": "card",
                ])
                let payment = try #require(created.json["paymentId"]?.string)
                let intent = try #require(created.json["paymentIntentId"]?.string)
                let event = #"{"id":"evt_o","type":"payment_intent.succeeded","data":{"object":{"id":"\#(intent)","amount_received":100,"currency":"eur","metadata":{"payment_id":"\#(payment)"}}}}"#
                expectError(try await client.request(.post, "/api/v1/payments/webhook", rawBody: event, headers: [.init("Stripe-Signature")!: stripeSignature(event, secret: "whsec_wrong")]),
                            .badRequest, detailsContain: "does not match")
                #expect(try await client.request(.post, "/api/v1/payments/webhook", rawBody: event, headers: [.init("Stripe-Signature")!: stripeSignature(event, secret: secret)]).status == .ok)
                #expect(try await client.request(.get, "/api/v1/appointments/\(id)", token: clinic.admin).json["appointment"]?["status"]?.string == "pending_payment",
                        "a signed event claiming 1.00 EUR collected does not pay a 60.00 EUR fee")
            }
        }
        // a provider that answers garbage is a 502 for the caller, never a 500 or a success
        try await withApp(configure: { $0.stripeSecretKey = "sk_test_owasp"; $0.stripeAPIBase = "http://127.0.0.1:9" }) { client, _ in
            let clinic = try await Clinic.make(client)
            let id = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            let refused = try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: [
                "appointment_id": id, "amount": 60, "currency": "eur", "payment_method": "card",
            ])
            expectError(refused, .badGateway)
        }
    }
}
