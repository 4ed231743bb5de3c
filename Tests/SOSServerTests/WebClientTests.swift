import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import SOSServer

@Suite("Web client: static files, security headers, client configuration, browser query strings")
struct WebClientTests {
    @Test("GET / serves web-demo/index.html with a strict CSP, nosniff and an ETag; If-None-Match answers 304")
    func servesTheClient() async throws {
        try await withApp { client, _ in
            let page = try await client.request(.get, "/")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let policy = try #require(page.headers[.contentSecurityPolicy])
            #expect(policy.contains("script-src 'self';"), "\(policy)")
            #expect(policy.contains("connect-src 'self'") && !policy.contains("unsafe") && !policy.contains("stripe"), "\(policy)")
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            #expect(page.headers[.cacheControl] == "no-cache")
            let etag = try #require(page.headers[.eTag])
            let again = try await client.request(.get, "/", headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified)
            // protocol documents for integrators
            let document = try await client.request(.get, "/protocol/websocket.md")
            #expect(document.status == .ok)
            #expect(document.headers[.contentType]?.hasPrefix("text/markdown") == true)
            // a path outside the client folder cannot be reached, and an API 404 stays the API's JSON 404
            #expect(try await client.request(.get, "/../Package.swift").status != .ok)
            let api = try await client.request(.get, "/api/v1/no-such-endpoint")
            expectError(api, .notFound)
            #expect(api.headers[.contentSecurityPolicy] == "default-src 'none'; frame-ancestors 'none'")
            #expect(api.headers[.xContentTypeOptions] == "nosniff")
        }
    }

    @Test("With a Stripe publishable key (and secret key), the page's CSP allows Stripe's hosts, and only then")
    func stripeWidensThePolicy() async throws {
        try await withApp(configure: {
            $0.stripeSecretKey = "sk_test_x"
            $0.stripePublishableKey = "pk_test_123"
        }) { client, _ in
            let policy = try #require(try await client.request(.get, "/").headers[.contentSecurityPolicy])
            #expect(policy.contains("script-src 'self' https://js.stripe.com;"), "\(policy)")
            #expect(policy.contains("frame-src https://js.stripe.com https://hooks.stripe.com"), "\(policy)")
            let config = try await client.request(.get, "/api/v1/config")
            #expect(config.json["payments"]?["stripe_publishable_key"]?.string == "pk_test_123")
            #expect(config.json["payments"]?["providers"] == .array([.string("manual"), .string("stripe")]))
        }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.fromEnvironment(["STRIPE_PUBLISHABLE_KEY": "sk_live_oops"]) }
    }

    @Test("GET /api/v1/config tells a client the mode, sign-in methods and payment providers, without a token")
    func clientConfiguration() async throws {
        try await withApp { client, _ in
            let config = try await client.request(.get, "/api/v1/config")
            #expect(config.status == .ok)
            #expect(config.json["mode"]?.string == "development")
            #expect(config.json["sign_in"]?["otp_channels"] == .array([.string("email"), .string("sms"), .string("whatsapp")]))
            #expect(config.json["sign_in"]?["oauth_providers"] == .array([]))
            #expect(config.json["payments"]?["providers"] == .array([.string("manual")]))
            #expect(config.json["payments"]?["stripe_publishable_key"]?.isNull == true)
            #expect(config.json["realtime"]?["path"]?.string == "/api/v1/ws")
            #expect(config.json["booking"] == .object(["unpaid_hold_minutes": .number(20), "clinic_confirm_hours": .number(2), "max_unpaid_bookings": .number(1000)]),
                    "the test configuration raises the unpaid limit: \(config.text)")
        }
    }

    @Test("Query strings are form-encoded: '+' is a space as URLSearchParams writes it, on every endpoint")
    func plusIsASpace() async throws {
        try await withApp { client, _ in
            let admin = try await client.adminToken()
            let doctor = try await client.makeUser(role: "doctor", name: "Acc Zeta")
            let profile = try await client.request(.post, "/api/v1/doctors", token: doctor.token, json: ["specialisation": "Travel medicine", "is_listed": true])
            #expect(profile.status == .created)
            for query in ["search=Acc+Zeta", "search=Acc%20Zeta", "search=acc+zeta&limit=5", "specialisation=Travel+medicine"] {
                let found = try await client.request(.get, "/api/v1/doctors?\(query)", token: admin)
                #expect(found.json["doctors"]?.array?.map { $0["id"]?.string } == [doctor.id], "\(query): \(found.text)")
            }
            // users: search by name with '+'
            let users = try await client.request(.get, "/api/v1/users?search=Acc+Zeta", token: admin)
            #expect(users.json["users"]?.array?.count == 1, "\(users.text)")
            // a literal plus is %2B; bad percent-encoding is kept as sent rather than failing
            #expect(QueryParameters(query: "q=a%2Bb&r=x+y+z&s=%E2%82%AC&t=%ZZ").values == ["q": "a+b", "r": "x y z", "s": "€", "t": "%ZZ"])
            #expect(QueryParameters(query: "a=1&a=2&flag&=v").values == ["a": "1", "flag": "", "": "v"])
        }
    }

    @Test("POST /api/v1/dev/seed-demo loads the demo accounts for an admin in development; others are refused")
    func loadDemoData() async throws {
        try await withApp { client, _ in
            let patient = try await client.makeUser(role: "patient")
            expectError(try await client.request(.post, "/api/v1/dev/seed-demo", token: patient.token), .forbidden)
            let seeded = try await client.request(.post, "/api/v1/dev/seed-demo", token: try await client.adminToken())
            #expect(seeded.status == .ok, "\(seeded.text)")
            #expect(seeded.json["message"]?.string?.contains("5 doctors, 20 patients") == true, "\(seeded.text)")
            let login = try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "doctor1@demo.sos", "password": "Demo1234!"])
            #expect(login.status == .ok)
        }
        try await withApp(configure: { useProductionMode(&$0) }) { client, services in
            _ = try await services.userService.ensureAdmin(email: "root@example.com", password: "Password1!", name: "Root")
            let token = try await client.login("root@example.com", "Password1!")["access_token"]?.string
            expectError(try await client.request(.post, "/api/v1/dev/seed-demo", token: token), .notFound)
        }
    }
}
