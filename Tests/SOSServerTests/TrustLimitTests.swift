import Foundation
import HTTPTypes
import HummingbirdTesting
import SOSDomain
@testable import SOSStorage
import Testing

@testable import SOSServer

/// Counts code comparisons, to prove how many guesses were checked.
final class CountingCodeHasher: CodeHasher, @unchecked Sendable {
    // @unchecked: `count` is only touched under `lock`.
    let base: any CodeHasher
    private let lock = NSLock()
    private var count = 0

    init(_ base: any CodeHasher) { self.base = base }

    var comparisons: Int { self.lock.withLock { self.count } }

    func hash(_ code: String, for destination: String) -> String { self.base.hash(code, for: destination) }

    func equal(_ a: String, _ b: String) -> Bool {
        self.lock.withLock { self.count += 1 }
        return self.base.equal(a, b)
    }
}

/// Limits that hold when an attacker sends everything at once.
@Suite("Trust: limits hold under concurrency")
struct TrustLimitTests {
    @Test("Attack 5: 40 parallel wrong passwords for one account get at most 10 password checks; the rest 429 with Retry-After")
    func loginBurst() async throws {
        try await withApp(configure: { $0.loginFailuresPerAccount = 10 }) { client, _ in
            _ = try await client.makeUser(role: "patient", email: "target@example.com")
            let answers = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "target@example.com", "password": "Wrong-\(index)-pass"])
                    }
                }
                return try await group.reduce(into: [TestResponse]()) { $0.append($1) }
            }
            let checked = answers.filter { $0.status == .unauthorized }
            let limited = answers.filter { $0.status == .tooManyRequests }
            #expect(checked.count == 10, "each 401 is a password that was checked: \(answers.map(\.status.code))")
            #expect(limited.count == 30)
            for answer in limited {
                expectError(answer, .tooManyRequests, detailsContain: "Too many failed sign-ins for this account")
                #expect(Int(answer.headers[.retryAfter] ?? "") ?? 0 >= 1)
            }
            // the right password is refused too until the window passes: the account is throttled, not guessable
            expectError(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "target@example.com", "password": "Password1!"]), .tooManyRequests)
        }
    }

    @Test("A parallel burst of wrong codes gets at most 5 comparisons against one code; then the code is gone")
    func codeBurst() async throws {
        try await withApp { client, services in
            let counting = CountingCodeHasher(KeyedSigner(jwtSecret: testJWTSecret))
            let store = SQLSignInRepository(database: services.database)
            let otp = OTPService(
                codes: store, users: services.users, claims: AccountClaims(users: services.users, tokens: services.tokens, accounts: store),
                auth: services.auth, hasher: counting, limiter: RateLimiter(),
                settings: OTPService.Settings(perAddress: RateLimit(count: 1000, per: 3600), verifyPerAddress: RateLimit(count: 1000, per: 3600))
            )
            try await otp.send(channel: .email, to: "burst@example.com", client: "203.0.113.7", language: .en)
            let code = try #require(try await services.notificationStore.outbox(limit: 10).first?.body.firstMatch(of: /\d{6}/).map { String($0.output) })
            let wrong = code == "000000" ? "111111" : "000000"
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask { (try? await otp.verify(channel: .email, destination: "burst@example.com", code: wrong, client: "203.0.113.7")) != nil }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(!results.contains(true))
            #expect(counting.comparisons <= 5, "compared \(counting.comparisons) guesses")
            await #expect(throws: DomainError.self) {
                _ = try await otp.verify(channel: .email, destination: "burst@example.com", code: code, client: "203.0.113.7")
            }
            #expect(counting.comparisons <= 5, "the right code after the burst is not even compared")
            _ = client
        }
    }

    @Test("Code sends are limited per destination and per address even in a parallel burst")
    func sendBurst() async throws {
        try await withApp(configure: { $0.otpPerDestinationPerHour = 3 }) { client, _ in
            let answers = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<12 {
                    group.addTask { try await client.request(.post, "/api/v1/auth/email/send-otp", json: ["email": "flood@example.com"]).status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(answers.filter { $0 == .ok }.count == 3, "\(answers.map(\.code))")
            #expect(answers.filter { $0 == .tooManyRequests }.count == 9)
        }
    }
}

/// Paging a conversation never loses or repeats a message, even when thousands share one millisecond.
@Suite("Chat history: keyset cursor")
struct ChatHistoryCursorTests {
    @Test("2,000 messages stored in the same millisecond page back exactly once each; an old timestamp 'before' still works")
    func sameMillisecond() async throws {
        try await withApp { client, services in
            let clinic = try await Clinic.make(client)
            _ = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            let patient = try #require(UUID(uuidString: clinic.patient.id))
            let doctor = try #require(UUID(uuidString: clinic.doctor.id))
            let instant = Date(timeIntervalSince1970: 1_764_590_400.123)
            var written = Set<UUID>()
            for batch in 0..<20 {
                let messages = (0..<100).map { index in
                    ChatMessage(senderId: (batch + index).isMultiple(of: 2) ? patient : doctor, recipientId: (batch + index).isMultiple(of: 2) ? doctor : patient,
                                content: "m\(batch * 100 + index)", clientMessageId: nil, createdAt: instant)
                }
                written.formUnion(messages.map(\.id))
                _ = try await SQLChatRepository.insertMany(messages, in: services.database)
            }
            var seen: [String] = []
            var before: String?
            var pages = 0
            repeat {
                var path = "/api/v1/chat/conversations/\(clinic.doctor.id)/messages?limit=100"
                if let before { path += "&before=\(before)" }
                let page = try await client.request(.get, path, token: clinic.patient.token)
                #expect(page.status == .ok, "\(page.text)")
                seen += page.json["messages"]?.array?.compactMap { $0["id"]?.string } ?? []
                before = page.json["next_before"]?.string
                pages += 1
            } while before != nil && pages < 50
            #expect(seen.count == 2000, "\(seen.count) messages read back")
            #expect(Set(seen).count == 2000, "none repeated")
            #expect(Set(seen.compactMap(UUID.init(uuidString:))) == written, "none lost")
            let old = try await client.request(.get, "/api/v1/chat/conversations/\(clinic.doctor.id)/messages?before=2030-01-01T00:00:00.000Z&limit=5", token: clinic.patient.token)
            #expect(old.json["messages"]?.array?.count == 5)
            expectError(try await client.request(.get, "/api/v1/chat/conversations/\(clinic.doctor.id)/messages?before=yesterday", token: clinic.patient.token), .badRequest)
        }
    }
}
