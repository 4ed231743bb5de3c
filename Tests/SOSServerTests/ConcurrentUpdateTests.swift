import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import SOSServer

/// Racing writes never silently overwrite each other: every write is compare-and-set on a version.
@Suite("Trust: no lost updates")
struct ConcurrentUpdateTests {
    /// Sends the same kind of PUT from `count` parallel clients; returns the statuses.
    func race(_ count: Int, _ send: @escaping @Sendable (Int) async throws -> TestResponse) async throws -> [TestResponse] {
        try await withThrowingTaskGroup(of: TestResponse.self) { group in
            for index in 0..<count { group.addTask { try await send(index) } }
            return try await group.reduce(into: [TestResponse]()) { $0.append($1) }
        }
    }

    @Test("Appointments: parallel edits of one version — exactly one wins, the rest 409; without If-Match each success is its own version")
    func appointments() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let id = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            let path = "/api/v1/appointments/\(id)"
            let first = try await client.request(.get, path, token: clinic.patient.token)
            #expect(first.headers[.eTag] == "\"1\"")
            let sameVersion = try await self.race(8) { index in
                try await client.request(.put, path, token: clinic.patient.token, json: ["symptoms": ["cough \(index)"]], headers: [.ifMatch: "\"1\""])
            }
            #expect(sameVersion.filter { $0.status == .ok }.count == 1, "\(sameVersion.map(\.status.code))")
            for loser in sameVersion where loser.status != .ok { expectError(loser, .conflict, detailsContain: "changed by someone else") }
            let winner = try #require(sameVersion.first { $0.status == .ok })
            #expect(winner.headers[.eTag] == "\"2\"")
            let afterRace = try await client.request(.get, path, token: clinic.patient.token).json["appointment"]
            #expect(afterRace?["version"]?.int == 2 && afterRace?["symptoms"] == winner.json["appointment"]?["symptoms"])

            // no If-Match: each edit is compare-and-set on what it read; none is lost without the sender knowing
            let blind = try await self.race(8) { index in
                try await client.request(.put, path, token: clinic.patient.token, json: ["additional_note": "note \(index)"])
            }
            let succeeded = blind.filter { $0.status == .ok }
            #expect(blind.allSatisfy { $0.status == .ok || $0.status == .conflict }, "\(blind.map(\.status.code))")
            #expect(Set(succeeded.compactMap { $0.json["appointment"]?["version"]?.int }).count == succeeded.count, "every success stored its own version")
            let final = try await client.request(.get, path, token: clinic.patient.token).json["appointment"]
            #expect(final?["version"]?.int == 2 + succeeded.count)

            // a cancelled appointment is not revived by an edit that read it before the cancellation
            let stale = final?["version"]?.int ?? 0
            #expect(try await client.request(.put, path, token: clinic.patient.token, json: ["status": "cancelled"]).status == .ok)
            expectError(try await client.request(.put, path, token: clinic.admin, json: ["status": "pending_payment"], headers: [.ifMatch: "\"\(stale)\""]), .conflict)
            expectError(try await client.request(.put, path, token: clinic.admin, json: ["date": Clinic.day(offset: 4)]), .conflict, detailsContain: "final")
            #expect(try await client.request(.get, path, token: clinic.admin).json["appointment"]?["status"]?.string == "cancelled")
            expectError(try await client.request(.put, path, token: clinic.patient.token, json: ["symptoms": []], headers: [.ifMatch: "three"]), .badRequest, detailsContain: "If-Match")
        }
    }

    @Test("Records, accounts and doctor profiles: a stale If-Match (or version) is 409 and changes nothing")
    func recordsAndProfiles() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            _ = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            let created = try await client.request(.post, "/api/v1/medical-records", token: clinic.doctor.token, json: [
                "user_id": clinic.patient.id, "record_type": "note", "title": "First",
            ])
            let record = try #require(created.json["record"]?["id"]?.string)
            #expect(created.json["record"]?["version"]?.int == 1)
            let racing = try await self.race(6) { index in
                try await client.request(.put, "/api/v1/medical-records/\(record)", token: clinic.doctor.token, json: ["title": "Edit \(index)", "version": 1])
            }
            #expect(racing.filter { $0.status == .ok }.count == 1, "\(racing.map(\.status.code))")
            let stored = try await client.request(.get, "/api/v1/medical-records/\(record)", token: clinic.doctor.token)
            #expect(stored.headers[.eTag] == "\"2\"")
            #expect(stored.json["record"]?["title"] == racing.first { $0.status == .ok }?.json["record"]?["title"])

            let me = try await client.request(.get, "/api/v1/users/me", token: clinic.patient.token)
            let etag = try #require(me.headers[.eTag])
            #expect(try await client.request(.put, "/api/v1/users/me", token: clinic.patient.token, json: ["name": "Paula T."], headers: [.ifMatch: etag]).status == .ok)
            expectError(try await client.request(.put, "/api/v1/users/me", token: clinic.patient.token, json: ["name": "Lost edit"], headers: [.ifMatch: etag]), .conflict)
            #expect(try await client.request(.get, "/api/v1/users/me", token: clinic.patient.token).json["user"]?["name"]?.string == "Paula T.")

            let profile = try await client.request(.get, "/api/v1/doctors/self", token: clinic.doctor.token)
            _ = profile
            #expect(try await client.request(.post, "/api/v1/doctors", token: clinic.doctor.token, json: ["bio": "v2", "version": 1]).status == .ok)
            expectError(try await client.request(.put, "/api/v1/doctors/\(clinic.doctor.id)", token: clinic.admin, json: ["bio": "stale"], headers: [.ifMatch: "\"1\""]), .conflict)
        }
    }
}
