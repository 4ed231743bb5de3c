import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Testing

@testable import SOSDomain
@testable import SOSServer

/// Points every message provider and OAuth provider at the fakes; the outbox is delivered explicitly by tests
/// (`deliver`) unless a test turns the background sender up.
func signInConfiguration(_ base: String, _ extra: @escaping @Sendable (inout ServerConfiguration) -> Void = { _ in })
    -> @Sendable (inout ServerConfiguration) -> Void {
    { configuration in
        configuration.twilioAccountSid = "ACfake0001"
        configuration.twilioAuthToken = "twilio-auth-token"
        configuration.twilioFrom = "+15005550006"
        configuration.twilioWhatsAppFrom = "whatsapp:+14155238886"
        configuration.twilioAPIBase = base
        configuration.postmarkServerToken = "postmark-server-token"
        configuration.emailFrom = "care@clinic.example"
        configuration.postmarkAPIBase = base
        configuration.outboxInterval = .seconds(3600)
        configuration.outboxRetryBase = 0.2
        for provider in SocialProvider.allCases {
            configuration.oauth[provider] = OAuthSettings(
                clientId: "\(provider.rawValue)-client-id", clientSecret: FakeProviders.clientSecret,
                redirectURI: "http://localhost:8080/api/v1/auth/\(provider.rawValue)/callback", authorizeURL: base + "/oauth/authorize",
                tokenURL: base + "/oauth/token", profileURL: base + (provider == .google ? "/oauth/userinfo" : "/graph/me"),
                scope: OAuthSettings.defaults(provider).scope
            )
        }
        extra(&configuration)
    }
}


/// Sends what is due in the outbox now.
@discardableResult
func deliver(_ services: AppServices) async throws -> Int {
    try await services.outbox.deliverDue(logger: Logger(label: "test-outbox"))
}

@Suite("Sign-in with one-time codes (email, SMS, WhatsApp)")
struct OTPTests {
    @Test("Email code: sent through Postmark, signs in a new patient with a verified email, works once")
    func emailCode() async throws {
        try await FakeProviders.run { base, fake in
            try await withApp(configure: signInConfiguration(base)) { client, services in
                let sent = try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "Tourist@Example.com"])
                #expect(sent.status == .ok, "\(sent.text)")
                #expect(sent.json.keys == ["message"])
                #expect(try await deliver(services) == 1)
                let email = try #require(fake.emails.first)
                #expect(email.headers["x-postmark-server-token"] == "postmark-server-token")
                #expect(email.json?["To"]?.string == "tourist@example.com")
                #expect(email.json?["From"]?.string == "care@clinic.example")
                #expect(email.json?["Subject"]?.string == "Your SOS Tourist Doctor sign-in code")
                let otp = try #require(code(in: email.json?["TextBody"]?.string))

                // the dev outbox shows it (development mode), marked sent
                let outbox = try await client.request(.get, "/api/v1/dev/outbox", token: try await client.adminToken())
                #expect(outbox.json["messages"]?[0]?["status"]?.string == "sent")

                expectError(try await client.request(.post, "/api/v1/auth/email/verify-otp", json: ["email": "tourist@example.com", "token": "12ab56"]),
                            .badRequest, detailsContain: "6-digit")
                let verified = try await client.request(.post, "/api/v1/auth/email/verify-otp", json: ["email": "tourist@example.com", "token": otp])
                #expect(verified.status == .ok, "\(verified.text)")
                #expect(verified.json.keys == ["message", "access_token", "refresh_token", "user"])
                let user = verified.json["user"]
                #expect(user?["role"]?.string == "patient")
                #expect(user?["email"]?.string == "tourist@example.com")
                #expect(user?["is_email_verified"]?.bool == true)
                let me = try await client.request(.get, "/api/v1/auth/me", token: verified.json["access_token"]?.string)
                #expect(me.status == .ok)

                let reused = try await client.request(.post, "/api/v1/auth/email/verify-otp", json: ["email": "tourist@example.com", "token": otp])
                expectError(reused, .unauthorized, detailsContain: "wrong or has expired")

                // a second sign-in by code reaches the same account
                _ = try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "tourist@example.com"])
                try await deliver(services)
                let second = try #require(code(in: fake.emails.last?.json?["TextBody"]?.string))
                let again = try await client.request(.post, "/api/v1/auth/email/verify-otp", json: ["email": "tourist@example.com", "token": second])
                #expect(again.json["user"]?["id"] == user?["id"])
            }
        }
    }

    @Test("send-otp answers the same for an existing and an unknown account; codes are stored hashed")
    func noEnumeration() async throws {
        try await FakeProviders.run { base, _ in
            try await withApp(configure: signInConfiguration(base)) { client, services in
                let known = try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "admin@test.com"])
                let unknown = try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "nobody@example.com"])
                #expect(known.status == unknown.status)
                #expect(known.text == unknown.text)
                #expect(known.headers[.contentLength] == unknown.headers[.contentLength])
                let phoneKnown = try await client.request(.post, "/api/v1/auth/phone/send-otp", json: ["phone": "+33612345678"])
                let phoneUnknown = try await client.request(.post, "/api/v1/auth/phone/send-otp", json: ["phone": "+33612345679"])
                #expect(phoneKnown.text.replacingOccurrences(of: "8", with: "9") == phoneUnknown.text.replacingOccurrences(of: "8", with: "9"))
                // step: what the database holds is not the code
                let record = try #require(try await SQLSignInRepositoryProbe.find(services, "nobody@example.com"))
                #expect(record.codeHash.count >= 40)
                #expect(!record.codeHash.contains(where: { $0.isNumber }) || record.codeHash.count != 6)

                expectError(try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "not-an-email"]), .badRequest, detailsContain: "email")
                expectError(try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": 42]), .badRequest)
                expectError(try await client.request(.post, "/api/v1/auth/email/send-otp", json: [:]), .badRequest, detailsContain: "email")
            }
        }
    }

    @Test("Five wrong tries burn the code; a new code replaces the previous one; an expired code fails")
    func wrongTriesAndExpiry() async throws {
        try await FakeProviders.run { base, fake in
            let clock = TestClock()
            try await withApp(configure: signInConfiguration(base) { $0.clock = clock.now }) { client, services in
                let email = "guess@example.com"
                _ = try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": email])
                try await deliver(services)
                let good = try #require(code(in: fake.emails.last?.json?["TextBody"]?.string))
                let wrong = good == "000000" ? "111111" : "000000"
                for attempt in 1...5 {
                    let answer = try await client.request(.post, "/api/v1/auth/email/verify-otp", json: ["email": email, "token": wrong])
                    expectError(answer, .unauthorized, detailsContain: attempt == 5 ? "5 wrong tries" : "wrong")
                }
                expectError(try await client.request(.post, "/api/v1/auth/email/verify-otp", json: ["email": email, "token": good]), .unauthorized)

                // a new code replaces the old one
                _ = try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": email])
                try await deliver(services)
                let first = try #require(code(in: fake.emails.last?.json?["TextBody"]?.string))
                _ = try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": email])
                try await deliver(services)
                let second = try #require(code(in: fake.emails.last?.json?["TextBody"]?.string))
                if first != second {
                    expectError(try await client.request(.post, "/api/v1/auth/email/verify-otp", json: ["email": email, "token": first]), .unauthorized)
                }
                clock.advance(601)
                expectError(try await client.request(.post, "/api/v1/auth/email/verify-otp", json: ["email": email, "token": second]), .unauthorized,
                            detailsContain: "expired")
            }
        }
    }

    @Test("SMS and WhatsApp codes go through Twilio's Messages API (basic auth, From/To/Body); E.164 is enforced")
    func phoneAndWhatsApp() async throws {
        try await FakeProviders.run { base, fake in
            try await withApp(configure: signInConfiguration(base)) { client, services in
                for bad in ["0612345678", "+0612345678", "+33 6 12 34 56 78", "+1234", "phone"] {
                    expectError(try await client.request(.post, "/api/v1/auth/phone/send-otp", json: ["phone": bad]), .badRequest, detailsContain: "E.164")
                }
                expectError(try await client.request(.get, "/api/v1/auth/whatsapp/send-otp?phone=12345"), .badRequest, detailsContain: "E.164")

                #expect(try await client.request(.post, "/api/v1/auth/phone/send-otp", json: ["phone": "+33612345678"]).status == .ok)
                try await deliver(services)
                let sms = try #require(fake.twilioMessages.last)
                #expect(sms.path == "/2010-04-01/Accounts/ACfake0001/Messages.json")
                #expect(sms.headers["authorization"] == "Basic " + Data("ACfake0001:twilio-auth-token".utf8).base64EncodedString())
                #expect(sms.form["To"] == "+33612345678")
                #expect(sms.form["From"] == "+15005550006")
                let smsCode = try #require(code(in: sms.form["Body"]))
                let phoneSession = try await client.request(.post, "/api/v1/auth/phone/verify-otp", json: ["phone": "+33612345678", "token": smsCode])
                #expect(phoneSession.status == .ok, "\(phoneSession.text)")
                #expect(phoneSession.json["user"]?["phone"]?.string == "+33612345678")
                #expect(phoneSession.json["user"]?["role"]?.string == "patient")
                // a Supabase-shaped token (phone sign-in: no email claim) signed with the shared secret works for that account
                let now = Int(Date().timeIntervalSince1970)
                let supabase = try await signToken(claims: [
                    "sub": try #require(phoneSession.json["user"]?["id"]?.string), "phone": "33612345678", "role": "authenticated",
                    "aud": "authenticated", "iat": now, "exp": now + 600, "session_id": UUID().uuidString,
                ], secret: testJWTSecret)
                let me = try await client.request(.get, "/api/v1/auth/me", token: supabase)
                #expect(me.status == .ok, "\(me.text)")
                #expect(me.json["user"]?["id"] == phoneSession.json["user"]?["id"])

                // WhatsApp: GET with ?phone= and POST with a body both work
                #expect(try await client.request(.get, "/api/v1/auth/whatsapp/send-otp?phone=%2B34612345678").status == .ok)
                try await deliver(services)
                let whatsapp = try #require(fake.twilioMessages.last)
                #expect(whatsapp.form["To"] == "whatsapp:+34612345678")
                #expect(whatsapp.form["From"] == "whatsapp:+14155238886")
                #expect(try await client.request(.post, "/api/v1/auth/whatsapp/send-otp", json: ["phone": "+34612345678"]).status == .ok)
                try await deliver(services)
                let latest = try #require(code(in: fake.twilioMessages.last?.form["Body"]))
                let session = try await client.request(.post, "/api/v1/auth/whatsapp/verify-otp", json: ["phone": "+34612345678", "token": latest])
                #expect(session.status == .ok, "\(session.text)")
                // the same phone by SMS signs in the same account
                #expect(session.json["user"]?["id"] != phoneSession.json["user"]?["id"])
            }
        }
    }

    @Test("Sending is rate limited per destination and per client address: 429 with Retry-After")
    func rateLimits() async throws {
        try await FakeProviders.run { base, _ in
            try await withApp(configure: signInConfiguration(base) { $0.otpPerDestinationPerHour = 2; $0.otpPerAddressPerHour = 4 }) { client, _ in
                for _ in 0..<2 {
                    #expect(try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "a@example.com"]).status == .ok)
                }
                let limited = try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "a@example.com"])
                expectError(limited, .tooManyRequests, detailsContain: "Retry in")
                #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 > 0)
                // another destination from the same address still works, until the address budget is spent
                #expect(try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "b@example.com"]).status == .ok)
                let perAddress = try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "c@example.com"])
                expectError(perAddress, .tooManyRequests, detailsContain: "this address")
                #expect(perAddress.headers[.retryAfter] != nil)
            }
        }
    }

    @Test("A provider outage delays messages: they stay queued with the error and go out once it is back")
    func providerDown() async throws {
        try await FakeProviders.run { base, fake in
            let clock = TestClock()
            try await withApp(configure: signInConfiguration(base) { $0.outboxRetryBase = 30; $0.clock = clock.now }) { client, services in
                fake.down = true
                _ = try await client.request(.post, "/api/v1/auth/phone/send-otp", json: ["phone": "+447700900123"])
                #expect(try await deliver(services) == 0)
                let admin = try await client.adminToken()
                let queued = try await client.request(.get, "/api/v1/dev/outbox", token: admin)
                #expect(queued.json["messages"]?[0]?["status"]?.string == "pending")
                #expect(queued.json["messages"]?[0]?["attempts"]?.int == 1)
                #expect(queued.json["messages"]?[0]?["last_error"]?.string?.contains("Twilio") == true)
                #expect(try await deliver(services) == 0, "not retried before its backoff")
                fake.down = false
                clock.advance(31)
                #expect(try await deliver(services) == 1)
                let sent = try await client.request(.get, "/api/v1/dev/outbox", token: admin)
                #expect(sent.json["messages"]?[0]?["status"]?.string == "sent")
                #expect(fake.twilioMessages.count == 2, "one failed attempt, one delivery")
                let smsCode = try #require(code(in: fake.twilioMessages.last?.form["Body"]))
                #expect(try await client.request(.post, "/api/v1/auth/phone/verify-otp", json: ["phone": "+447700900123", "token": smsCode]).status == .ok)

                // a number the provider refuses for good is not retried
                _ = try await client.request(.post, "/api/v1/auth/phone/send-otp", json: ["phone": "+15005550001"])
                try await deliver(services)
                let refused = try await client.request(.get, "/api/v1/dev/outbox", token: admin)
                #expect(refused.json["messages"]?[0]?["status"]?.string == "failed")
            }
        }
    }

    @Test("A code not delivered before it expires is dropped, never sent late; in production sent messages keep no body")
    func expiryAndRedaction() async throws {
        try await FakeProviders.run { base, fake in
            let clock = TestClock()
            try await withApp(configure: signInConfiguration(base) { $0.clock = clock.now }) { client, services in
                fake.down = true
                _ = try await client.request(.post, "/api/v1/auth/phone/send-otp", json: ["phone": "+447700900555"])
                #expect(try await deliver(services) == 0)
                fake.down = false
                clock.advance(601)
                #expect(try await deliver(services) == 0)
                let outbox = try await client.request(.get, "/api/v1/dev/outbox", token: try await client.adminToken())
                #expect(outbox.json["messages"]?[0]?["status"]?.string == "failed")
                #expect(outbox.json["messages"]?[0]?["last_error"]?.string?.contains("expired") == true)
                #expect(fake.twilioMessages.count == 1, "only the attempt during the outage")
            }
            try await withApp(configure: signInConfiguration(base) { useProductionMode(&$0) }) { client, services in
                _ = try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "private@example.com"])
                #expect(try await deliver(services) == 1)
                #expect(code(in: fake.emails.last?.json?["TextBody"]?.string) != nil)
                let stored = try #require(try await services.notificationStore.outbox(limit: 1).first)
                #expect(stored.status == .sent)
                #expect(stored.body.isEmpty, "the code does not stay in the database")
            }
        }
    }

    @Test("The background sender delivers queued messages by itself")
    func backgroundSender() async throws {
        try await FakeProviders.run { base, fake in
            try await withApp(configure: signInConfiguration(base) { $0.outboxInterval = .milliseconds(100) }) { client, _ in
                _ = try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "background@example.com"])
                for _ in 0..<150 where fake.emails.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
                #expect(fake.emails.count == 1)
            }
        }
    }

    @Test("Messages are in the request's language (English, French, Spanish); reminders use the language remembered at sign-in")
    func languages() async throws {
        try await FakeProviders.run { base, fake in
            try await withApp(configure: signInConfiguration(base)) { client, services in
                _ = try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "marie@example.com"],
                                             headers: [.acceptLanguage: "fr-CH, fr;q=0.9, en;q=0.8"])
                _ = try await client.request(.post, "/api/v1/auth/phone/send-otp", json: ["phone": "+34600111222", "language": "es"])
                _ = try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "hans@example.com"], headers: [.acceptLanguage: "de-DE"])
                try await deliver(services)
                let french = try #require(fake.emails.first { $0.json?["To"]?.string == "marie@example.com" })
                #expect(french.json?["Subject"]?.string == "Votre code de connexion SOS Tourist Doctor")
                #expect(french.json?["TextBody"]?.string?.hasPrefix("Votre code SOS Tourist Doctor est") == true)
                #expect(fake.twilioMessages.last?.form["Body"]?.hasPrefix("Tu código de SOS Tourist Doctor es") == true)
                let german = try #require(fake.emails.first { $0.json?["To"]?.string == "hans@example.com" })
                #expect(german.json?["TextBody"]?.string?.hasPrefix("Your SOS Tourist Doctor code is") == true, "unsupported languages fall back to English")

                let frenchCode = try #require(code(in: french.json?["TextBody"]?.string))
                let session = try await client.request(.post, "/api/v1/auth/email/verify-otp", json: ["email": "marie@example.com", "token": frenchCode],
                                                       headers: [.acceptLanguage: "fr"])
                let id = try #require(UUID(uuidString: session.json["user"]?["id"]?.string ?? ""))
                #expect(try await services.users.languages(ids: [id])[id] == "fr")
            }
        }
    }

    @Test("Proving an email an account had not verified claims it: password and sessions set up before end; an unproven phone reaches no account")
    func existingAccount() async throws {
        try await FakeProviders.run { base, fake in
            try await withApp(configure: signInConfiguration(base)) { client, services in
                let registered = try await client.request(.post, "/api/v1/auth/email/register", json: [
                    "email": "owner@example.com", "password": "Password1!", "name": "Owner Maybe",
                ])
                #expect(registered.status == .created)
                let oldToken = registered.json["access_token"]?.string
                #expect(registered.json["user"]?["is_email_verified"]?.bool == false)
                _ = try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "owner@example.com"])
                try await deliver(services)
                let otp = try #require(code(in: fake.emails.last?.json?["TextBody"]?.string))
                let session = try await client.request(.post, "/api/v1/auth/email/verify-otp", json: ["email": "owner@example.com", "token": otp])
                #expect(session.json["user"]?["id"] == registered.json["user"]?["id"])
                #expect(session.json["user"]?["is_email_verified"]?.bool == true)
                try await Task.sleep(for: .milliseconds(2_100))  // the principal cache lives 2 s
                expectError(try await client.request(.get, "/api/v1/auth/me", token: oldToken), .unauthorized)
                #expect(try await client.request(.get, "/api/v1/auth/me", token: session.json["access_token"]?.string).status == .ok)
                // whoever registered the address first (perhaps not its owner) cannot come back with the password
                expectError(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "owner@example.com", "password": "Password1!"]),
                            .unauthorized)

                // a number an account lists without having proved it: its holder gets an account of their own
                let listed = try await client.request(.post, "/api/v1/auth/email/register", json: [
                    "email": "typo@example.com", "password": "Password1!", "name": "Typed A Number", "phone": "+33699887766",
                ])
                #expect(listed.status == .created, "\(listed.text)")
                _ = try await client.request(.post, "/api/v1/auth/phone/send-otp", json: ["phone": "+33699887766"])
                try await deliver(services)
                let smsCode = try #require(code(in: fake.twilioMessages.last?.form["Body"]))
                let holder = try await client.request(.post, "/api/v1/auth/phone/verify-otp", json: ["phone": "+33699887766", "token": smsCode])
                #expect(holder.status == .ok, "\(holder.text)")
                #expect(holder.json["user"]?["id"] != listed.json["user"]?["id"])
                #expect(holder.json["user"]?["phone"]?.string == "+33699887766")
                #expect(try await client.request(.get, "/api/v1/auth/me", token: listed.json["access_token"]?.string).status == .ok,
                        "the listing account is left alone")
                // the verified number now signs in to the holder's account
                _ = try await client.request(.post, "/api/v1/auth/phone/send-otp", json: ["phone": "+33699887766"])
                try await deliver(services)
                let again = try await client.request(.post, "/api/v1/auth/phone/verify-otp", json: [
                    "phone": "+33699887766", "token": try #require(code(in: fake.twilioMessages.last?.form["Body"])),
                ])
                #expect(again.json["user"]?["id"] == holder.json["user"]?["id"])

                // a blocked account cannot sign in with a code
                let admin = try await client.adminToken()
                let id = try #require(session.json["user"]?["id"]?.string)
                _ = try await client.request(.put, "/api/v1/users/\(id)", token: admin, json: ["is_status": "blocked"])
                _ = try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "owner@example.com"])
                try await deliver(services)
                let blockedCode = try #require(code(in: fake.emails.last?.json?["TextBody"]?.string))
                expectError(try await client.request(.post, "/api/v1/auth/email/verify-otp", json: ["email": "owner@example.com", "token": blockedCode]),
                            .forbidden, detailsContain: "blocked")
            }
        }
    }
}

/// Reads a stored code record (to check it is hashed).
enum SQLSignInRepositoryProbe {
    static func find(_ services: AppServices, _ email: String) async throws -> OTPRecord? {
        try await services.otp.codes.find(channel: .email, destination: email)
    }
}

@Suite("Sign-in with Google, Facebook and Instagram (OAuth 2.0)")
struct SocialSignInTests {
    /// Starts a sign-in and returns the authorization URL's query.
    func start(_ client: some TestClientProtocol, _ provider: String, clientState: String? = nil) async throws -> [String: String] {
        let started = try await client.request(.get, "/api/v1/auth/\(provider)" + (clientState.map { "?client_state=\($0)" } ?? ""))
        #expect(started.status == .ok, "\(started.text)")
        #expect(started.json.keys == ["message", "auth_url"])
        return queryItems(started.json["auth_url"]?.string)
    }

    func callback(_ client: some TestClientProtocol, _ provider: String, code: String, state: String, clientState: String? = nil) async throws -> TestResponse {
        let query = "code=\(FormEncoding.escape(code))&state=\(FormEncoding.escape(state))" + (clientState.map { "&client_state=\($0)" } ?? "")
        return try await client.request(.get, "/api/v1/auth/\(provider)/callback?\(query)")
    }

    @Test("Google: auth_url with client_id, redirect_uri, scope, signed state and PKCE S256; a verified email links the existing account")
    func google() async throws {
        try await FakeProviders.run { base, fake in
            try await withApp(configure: signInConfiguration(base)) { client, _ in
                let patient = try await client.makeUser(role: "patient", email: "paula@example.com", name: "Paula Tourist")
                let started = try await client.request(.get, "/api/v1/auth/google")
                let url = try #require(started.json["auth_url"]?.string)
                #expect(url.hasPrefix(base + "/oauth/authorize?"))
                let query = queryItems(url)
                #expect(query["client_id"] == "google-client-id")
                #expect(query["redirect_uri"] == "http://localhost:8080/api/v1/auth/google/callback")
                #expect(query["scope"] == "openid email profile")
                #expect(query["response_type"] == "code")
                #expect(query["code_challenge_method"] == "S256")
                let challenge = try #require(query["code_challenge"])
                let state = try #require(query["state"])

                fake.grant(code: "code-paula", profile: ["sub": "g-123", "email": "paula@example.com", "name": "Paula T."], emailVerified: true,
                           challenge: challenge)
                let signedIn = try await self.callback(client, "google", code: "code-paula", state: state)
                #expect(signedIn.status == .ok, "\(signedIn.text)")
                #expect(signedIn.json.keys == ["message", "access_token", "refresh_token", "user"])
                #expect(signedIn.json["user"]?["id"]?.string == patient.id, "a verified email links the existing account")
                #expect(signedIn.json["user"]?["is_email_verified"]?.bool == true)
                // the account had not proved its email: the password set before (by anyone) no longer signs in
                expectError(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "paula@example.com", "password": "Password1!"]),
                            .unauthorized)
                let exchange = try #require(fake.received.first { $0.path == "/oauth/token" })
                #expect(exchange.form["client_id"] == "google-client-id")
                #expect(exchange.form["redirect_uri"] == "http://localhost:8080/api/v1/auth/google/callback")
                #expect(exchange.form["code_verifier"]?.count ?? 0 >= 43)

                // the state works once
                expectError(try await self.callback(client, "google", code: "code-paula", state: state), .badRequest, detailsContain: "single use")

                // next time, the linked Google account signs in the same user even with another email
                let again = try await self.start(client, "google")
                fake.grant(code: "code-2", profile: ["sub": "g-123", "email": "other@example.com"], emailVerified: true, challenge: again["code_challenge"])
                let second = try await self.callback(client, "google", code: "code-2", state: again["state"] ?? "")
                #expect(second.json["user"]?["id"]?.string == patient.id)
            }
        }
    }

    @Test("An unverified email never takes over an account: a new patient is created without it")
    func unverifiedEmail() async throws {
        try await FakeProviders.run { base, fake in
            try await withApp(configure: signInConfiguration(base)) { client, _ in
                let victim = try await client.makeUser(role: "patient", email: "victim@example.com", name: "Victim")
                let query = try await self.start(client, "google")
                fake.grant(code: "c1", profile: ["sub": "g-attacker", "email": "victim@example.com", "name": "Mallory"], emailVerified: false,
                           challenge: query["code_challenge"])
                let signedIn = try await self.callback(client, "google", code: "c1", state: query["state"] ?? "")
                #expect(signedIn.status == .ok, "\(signedIn.text)")
                #expect(signedIn.json["user"]?["id"]?.string != victim.id)
                #expect(signedIn.json["user"]?["email"]?.string == "")
                #expect(signedIn.json["user"]?["name"]?.string == "Mallory")
                #expect(signedIn.json["user"]?["role"]?.string == "patient")
                #expect(try await client.login("victim@example.com", "Password1!")["access_token"] != nil, "the victim's password still works")

                // nor is an unverified email kept on a new account when nobody uses it: it would hold the address for its owner
                let other = try await self.start(client, "google")
                fake.grant(code: "c2", profile: ["sub": "g-other", "email": "someone@example.com"], emailVerified: false,
                           challenge: other["code_challenge"])
                let fresh = try await self.callback(client, "google", code: "c2", state: other["state"] ?? "")
                #expect(fresh.status == .ok, "\(fresh.text)")
                #expect(fresh.json["user"]?["email"]?.string == "")
                let owner = try await client.request(.post, "/api/v1/auth/email/register", json: [
                    "email": "someone@example.com", "password": "Password1!", "name": "The Owner",
                ])
                #expect(owner.status == .created, "the owner can still register the address: \(owner.text)")
            }
        }
    }

    @Test("Forged, expired or reused state, a refused code and a failing provider are clear 4xx/502, never a sign-in")
    func failures() async throws {
        try await FakeProviders.run { base, fake in
            let clock = TestClock()
            try await withApp(configure: signInConfiguration(base) { $0.clock = clock.now }) { client, _ in
                let query = try await self.start(client, "google")
                let state = try #require(query["state"])
                let parts = state.split(separator: ".")
                let forged = String(parts[0]) + "." + String(parts[1].reversed())
                expectError(try await self.callback(client, "google", code: "x", state: forged), .badRequest, detailsContain: "not one this server issued")
                expectError(try await self.callback(client, "facebook", code: "x", state: state), .badRequest, detailsContain: "another sign-in")
                expectError(try await client.request(.get, "/api/v1/auth/google/callback?code=x"), .badRequest, detailsContain: "state")
                expectError(try await client.request(.get, "/api/v1/auth/google/callback?error=access_denied&state=\(state)"), .badRequest,
                            detailsContain: "did not sign you in")

                // the provider refuses the code (no grant registered): 400, and the state is spent
                expectError(try await self.callback(client, "google", code: "unknown-code", state: state), .badRequest, detailsContain: "refused")

                // expired
                let late = try await self.start(client, "google")
                clock.advance(601)
                fake.grant(code: "late", profile: ["sub": "g-late"], emailVerified: true, challenge: late["code_challenge"])
                expectError(try await self.callback(client, "google", code: "late", state: late["state"] ?? ""), .badRequest, detailsContain: "expired")
            }
            // the provider fails (5xx): 502
            try await withApp(configure: signInConfiguration(base) {
                $0.oauth[.google]?.tokenURL = base + "/oauth/broken"
            }) { client, _ in
                let query = try await self.start(client, "google")
                expectError(try await self.callback(client, "google", code: "any", state: query["state"] ?? ""), .badGateway, detailsContain: "HTTP 503")
            }
        }
    }

    @Test("Facebook (Graph /me with email and picture) and Instagram (user_id, username) sign in new patients")
    func facebookAndInstagram() async throws {
        try await FakeProviders.run { base, fake in
            try await withApp(configure: signInConfiguration(base)) { client, _ in
                let existing = try await client.makeUser(role: "patient", email: "fb-user@example.com", name: "Existing")
                let facebook = try await self.start(client, "facebook")
                #expect(facebook["scope"] == "email,public_profile")
                #expect(facebook["code_challenge_method"] == "S256")
                fake.grant(code: "fb1", profile: ["id": "10001", "name": "Fiona Book", "email": "fb-user@example.com", "picture": "https://cdn.example/p.jpg"],
                           challenge: facebook["code_challenge"])
                let fbSession = try await self.callback(client, "facebook", code: "fb1", state: facebook["state"] ?? "")
                #expect(fbSession.status == .ok, "\(fbSession.text)")
                #expect(fbSession.json["user"]?["id"]?.string != existing.id, "Facebook does not assert verified emails: no linking")
                #expect(fbSession.json["user"]?["name"]?.string == "Fiona Book")
                #expect(fbSession.json["user"]?["profile_picture"]?.string == "", "a provider's picture URL is not kept: pictures are uploads only")
                let graphCall = try #require(fake.received.last { $0.path == "/graph/me" })
                #expect(graphCall.form["fields"] == "id,name,email,picture")
                #expect(graphCall.form["access_token"]?.hasPrefix("at-") == true)

                let instagram = try await self.start(client, "instagram")
                #expect(instagram["code_challenge"] == nil, "Instagram does not take PKCE")
                fake.grant(code: "ig1", profile: ["user_id": "1789", "username": "wanderer"])
                let igSession = try await self.callback(client, "instagram", code: "ig1", state: instagram["state"] ?? "")
                #expect(igSession.status == .ok, "\(igSession.text)")
                #expect(igSession.json["user"]?["name"]?.string == "wanderer")
                #expect(igSession.json["user"]?["role"]?.string == "patient")
                #expect(try await client.request(.get, "/api/v1/auth/me", token: igSession.json["access_token"]?.string).status == .ok)
            }
        }
    }

    @Test("client_state ties a sign-in to the client that started it: a handed-over callback link signs nobody in")
    func clientState() async throws {
        try await FakeProviders.run { base, fake in
            try await withApp(configure: signInConfiguration(base)) { client, _ in
                let mine = "my-own-random-value-0123456789abcdef"
                // the attacker starts with his own value (or none) and hands the callback to a victim whose client brings hers
                let attacker = try await self.start(client, "google", clientState: "attackers-value-0123456789abcdef")
                fake.grant(code: "a1", profile: ["sub": "g-attacker"], emailVerified: true, challenge: attacker["code_challenge"])
                expectError(try await self.callback(client, "google", code: "a1", state: attacker["state"] ?? "", clientState: mine), .badRequest,
                            detailsContain: "client_state")
                let bare = try await self.start(client, "google")
                fake.grant(code: "a2", profile: ["sub": "g-attacker"], emailVerified: true, challenge: bare["code_challenge"])
                expectError(try await self.callback(client, "google", code: "a2", state: bare["state"] ?? "", clientState: mine), .badRequest,
                            detailsContain: "client_state")
                // started with a value, the callback needs it
                let own = try await self.start(client, "google", clientState: mine)
                fake.grant(code: "m1", profile: ["sub": "g-me"], emailVerified: true, challenge: own["code_challenge"])
                expectError(try await self.callback(client, "google", code: "m1", state: own["state"] ?? ""), .badRequest, detailsContain: "client_state")
                let again = try await self.start(client, "google", clientState: mine)
                fake.grant(code: "m2", profile: ["sub": "g-me", "name": "Me"], emailVerified: true, challenge: again["code_challenge"])
                let signedIn = try await self.callback(client, "google", code: "m2", state: again["state"] ?? "", clientState: mine)
                #expect(signedIn.status == .ok, "\(signedIn.text)")
                expectError(try await client.request(.get, "/api/v1/auth/google?client_state=short"), .badRequest, detailsContain: "16 to 256")
            }
        }
    }

    @Test("An unconfigured provider answers 503 saying which settings are missing")
    func unconfigured() async throws {
        try await withApp { client, _ in
            for provider in ["google", "facebook", "instagram"] {
                let answer = try await client.request(.get, "/api/v1/auth/\(provider)")
                expectError(answer, .serviceUnavailable, detailsContain: "\(provider.uppercased())_CLIENT_ID")
            }
            expectError(try await client.request(.get, "/api/v1/auth/google/callback?code=a&state=b"), .serviceUnavailable)
        }
    }
}
