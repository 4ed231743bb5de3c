import Foundation
import HummingbirdTesting
import Logging
import SOSDomain
import Testing

@testable import SOSServer
@testable import SOSStorage

/// The kept-statement doctor search and the general list decode the same rows into the same values, field by field:
/// one declaration of the doctor's shape, two readers kept equal by this test.
@Suite("Doctor pages: the fast search equals the general list")
struct DoctorPagesTests {
    @Test("Searches, all listed doctors, paging past the end; profiles with and without optional fields")
    func samePages() async throws {
        try await withApp { client, services in
            _ = try await Clinic.make(client)
            let third = try await client.makeUser(role: "doctor", name: "Dr Zoë 100% O'Brien_")
            let profile = try await client.request(.post, "/api/v1/doctors", token: third.token, json: [
                "specialisation": "General Practice", "is_listed": true, "time_zone": "Europe/Madrid",
                "working_hours": ["monday": [["start": "09:00", "end": "13:00"]]], "address": "Calle Mayor 1",
            ])
            #expect(profile.status == .created, "\(profile.text)")
            let unlisted = try await client.makeUser(role: "doctor", name: "Dr Hidden General")
            _ = try await client.request(.post, "/api/v1/doctors", token: unlisted.token, json: [
                "specialisation": "General practice", "is_listed": false, "time_zone": "UTC",
            ])
            let repository = SQLDoctorRepository(database: services.database)
            for search in [nil, "general", "GENERAL practice", "travel", "zoë", "100%", "o'brien_", "nothing like this", "_"] {
                for (page, limit) in [(1, 10), (1, 1), (2, 1), (9, 2)] {
                    let query = DoctorQuery(page: try PageRequest(page: page, limit: limit), search: search, isListed: true, activeOnly: true)
                    #expect(DoctorPages.pattern(of: query) != nil)
                    let fast = try await repository.list(query)
                    let general = try await repository.listGeneral(query)
                    #expect(fast.items == general.items, "\(search ?? "-") page \(page)/\(limit)")
                    #expect(fast.total == general.total, "\(search ?? "-") page \(page)/\(limit)")
                }
            }
            let all = try await repository.list(DoctorQuery(page: try PageRequest(limit: 10), isListed: true, activeOnly: true))
            #expect(all.total == 3 && all.items.allSatisfy { $0.profile.isListed })
            // shapes the fast path does not serve
            #expect(DoctorPages.pattern(of: DoctorQuery(page: try PageRequest(limit: 10))) == nil)
            #expect(DoctorPages.pattern(of: DoctorQuery(page: try PageRequest(limit: 10), language: "en", isListed: true, activeOnly: true)) == nil)
            #expect(DoctorPages.pattern(of: DoctorQuery(page: try PageRequest(limit: 10), isListed: true, activeOnly: true, sortOrder: .asc)) == nil)
        }
    }

    @Test("The patients' search is reused for a moment: a write through the same Database drops it at once; other writers' changes show within the lifetime")
    func recentSearches() async throws {
        let storage = try await TestStorage.make()
        defer { Task { await storage.cleanUp() } }
        let configuration = {
            var configuration = storage.configuration
            configuration.doctorSearchCacheMilliseconds = 1_000
            return configuration
        }()
        try await runApp(configuration) { app, _ in
            let clinic = try await Clinic.make(app)
            // through the router (a 1 s cache): a change on this node shows at once
            #expect(try await Self.specialisation(app, clinic) == "General practice")
            try await Self.set(app, clinic, "Travel medicine")
            #expect(try await Self.specialisation(app, clinic) == "Travel medicine")

            // a second Database on the same data stands for another node: the app's writes do not move its count
            var logger = Logger(label: "recent-searches")
            logger.logLevel = .critical
            let other: Database
            if let url = configuration.databaseURL {
                other = try Database.postgres(url: url, searchPath: configuration.databaseSchema, maximumConnections: 2, logger: logger)
            } else {
                other = try await Database.sqlite(path: configuration.sqlitePath, readers: 1, logger: logger)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await other.run() }
                let query = DoctorQuery(page: try PageRequest(limit: 10), search: "Alice", isListed: true, activeOnly: true)
                func specialisation(_ repository: SQLDoctorRepository) async throws -> String? {
                    try await repository.list(query).items.first?.profile.specialisation
                }
                let kept = SQLDoctorRepository(database: other, searchLifetime: .seconds(60))
                let brief = SQLDoctorRepository(database: other, searchLifetime: .milliseconds(500))
                let renewed = SQLDoctorRepository(database: other, searchLifetime: .milliseconds(500))
                let never = SQLDoctorRepository(database: other)
                #expect(try await specialisation(kept) == "Travel medicine")
                #expect(try await specialisation(brief) == "Travel medicine")
                #expect(try await specialisation(renewed) == "Travel medicine")

                try await Self.set(app, clinic, "Paediatrics")
                #expect(try await specialisation(never) == "Paediatrics", "no lifetime: nothing kept")
                #expect(try await specialisation(kept) == "Travel medicine", "kept: no write went through this Database")
                // past two lifetimes a page is read again before it is answered
                try await Task.sleep(for: .milliseconds(1_100))
                #expect(try await specialisation(brief) == "Paediatrics", "past two lifetimes")
                // between one and two lifetimes a caller may still get the old page, and the page is renewed meanwhile
                try await Task.sleep(for: .milliseconds(500))
                var fresh = try await specialisation(renewed)
                for _ in 0..<50 where fresh != "Paediatrics" {
                    try await Task.sleep(for: .milliseconds(100))
                    fresh = try await specialisation(renewed)
                }
                #expect(fresh == "Paediatrics", "renewed without a write")
                #expect(try await specialisation(kept) == "Travel medicine")
                try await other.write { sql in try await sql.raw("SELECT 1").run() }
                #expect(try await specialisation(kept) == "Paediatrics", "a write through the same Database drops what was kept")
                group.cancelAll()
            }
        }
    }

    static func set(_ client: any TestClientProtocol, _ clinic: Clinic, _ specialisation: String) async throws {
        let response = try await client.request(.put, "/api/v1/doctors/\(clinic.doctor.id)", token: clinic.doctor.token, json: ["specialisation": specialisation])
        #expect(response.status == .ok, "\(response.text)")
    }

    /// The specialisation of the first doctor a patient finds by searching "Alice" (the clinic's doctor).
    static func specialisation(_ client: any TestClientProtocol, _ clinic: Clinic) async throws -> String? {
        let page = try await client.request(.get, "/api/v1/doctors?search=Alice&limit=10", token: clinic.patient.token)
        return page.json["doctors"]?[0]?["doctor_profile"]?["specialisation"]?.string
    }
}
