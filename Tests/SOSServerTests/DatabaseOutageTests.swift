import Foundation
import HTTPTypes
import Logging
import SOSDomain
import Testing

@testable import SOSServer
@testable import SOSStorage

/// Issue 12: every wait for PostgreSQL is bounded; a lost database answers 503 with `Retry-After` and the error shape
/// (never a hang, never a 500), `/ready` fails while `/health` stays up, and service returns by itself when it is back.
@Suite("Database outage: bounded waits, 503 with Retry-After, recovery without a restart")
struct DatabaseOutageTests {
    static let quietLogger: Logger = {
        var logger = Logger(label: "outage-test")
        logger.logLevel = .critical
        return logger
    }()

    @Test("A PostgreSQL that cannot be reached: every operation throws 'unavailable' with a retry delay; ping is false")
    func unreachable() async throws {
        let port = try await TCPProxy.freePort()
        let database = try Database.postgres(
            url: "postgres://postgres@127.0.0.1:\(port)/none?sslmode=disable",
            timeouts: DatabaseTimeouts(acquire: .milliseconds(300), statement: .seconds(2)), logger: Self.quietLogger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.run() }
            for attempt in 0..<5 {
                do {
                    try await database.read { sql in try await sql.raw("SELECT 1").run() }
                    Issue.record("attempt \(attempt) reached a database that does not exist")
                } catch let error as DomainError {
                    #expect(error.kind == .unavailable, "\(error)")
                    #expect(error.retryAfter ?? 0 >= 1)
                    #expect(error.details.contains("Retry"))
                }
                do {
                    _ = try await database.transaction { sql in try await sql.raw("SELECT 1").run() }
                    Issue.record("a transaction ran without a database")
                } catch let error as DomainError {
                    #expect(error.kind == .unavailable)
                }
            }
            #expect(await database.ping() == false)
            let statistics = try #require(database.poolStatistics)
            #expect(statistics.failedAcquisitions >= 10)
            #expect(statistics.inUse == 0 && statistics.waiting == 0, "\(statistics)")
            group.cancelAll()
        }
    }

    @Test("PostgreSQL lost under a live server: 503 + Retry-After, /ready 503, /health 200; back without a restart",
          .enabled(if: TestDatabase.postgresURL != nil, "needs SOS_TEST_DATABASE_URL"), .timeLimit(.minutes(2)))
    func lostAndBack() async throws {
        let url = try #require(TestDatabase.postgresURL)
        var components = try #require(URLComponents(string: url))
        let proxy = try await TCPProxy.start(to: components.port ?? 5432)
        components.port = proxy.port
        let proxied = try #require(components.string)
        try await withApp(.live, configure: { configuration in
            configuration.databaseURL = proxied
            configuration.databaseTimeouts = DatabaseTimeouts(acquire: .milliseconds(500), statement: .seconds(3))
            configuration.authCacheSeconds = 0
        }) { client, services in
            let clinic = try await Clinic.make(client)
            let booked = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            #expect(try await client.request(.get, "/api/v1/appointments", token: clinic.patient.token).status == .ok)

            await proxy.cut()
            for path in ["/api/v1/appointments", "/api/v1/appointments/\(booked)", "/api/v1/doctors"] {
                let answer = try await client.request(.get, path, token: clinic.patient.token)
                expectError(answer, .serviceUnavailable, detailsContain: "database")
                #expect(Int(answer.headers[.retryAfter] ?? "") ?? 0 >= 1, "\(path): Retry-After")
            }
            let write = try await clinic.book(client, start: "10:00:00", end: "10:30:00")
            expectError(write, .serviceUnavailable)
            let login = try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "admin@test.com", "password": "Admin123!"])
            expectError(login, .serviceUnavailable)
            #expect(try await client.request(.get, "/ready").status == .serviceUnavailable)
            #expect(try await client.request(.get, "/health").status == .ok)
            // the probe confirms the loss on a connection of its own, and from then on requests are refused without waiting
            var confirmed = false
            for _ in 0..<50 where !confirmed {
                confirmed = services.database.poolStatistics?.available == false
                if !confirmed { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(confirmed, "the pool did not mark the database unreachable")

            proxy.restore()
            var recovered = false
            for _ in 0..<100 where !recovered {
                recovered = try await client.request(.get, "/api/v1/appointments", token: clinic.patient.token).status == .ok
                if !recovered { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(recovered, "requests were not served again within 10 s of the database's return")
            #expect(try await client.request(.get, "/ready").status == .ok)
            let after = try await clinic.book(client, start: "10:00:00", end: "10:30:00")
            #expect(after.status == .created, "\(after.text)")
            #expect((services.database.poolStatistics?.reconnects ?? 0) >= 1)
        }
        await proxy.stop()
    }
}
