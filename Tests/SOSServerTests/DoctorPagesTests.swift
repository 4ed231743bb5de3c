import Foundation
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
}
