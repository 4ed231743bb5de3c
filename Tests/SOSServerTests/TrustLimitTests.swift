import Foundation
import HTTPTypes
import HummingbirdTesting
import SOSDomain
import SOSStorage
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
