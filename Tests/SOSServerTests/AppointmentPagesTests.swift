import Foundation
import SOSDomain
import Testing

@testable import SOSStorage
@testable import SOSServer

/// The prepared-statement page (PostgreSQL) and the general list decode the same rows into the same values, field by
/// field: one declaration of the appointment's shape, two readers kept equal by this test.
@Suite("Appointment pages: the fast path equals the general path")
struct AppointmentPagesTests {
    @Test("Patient and doctor pages, every field set and unset, paging past the end")
    func samePages() async throws {
        try await withApp { client, services in
            let clinic = try await Clinic.make(client)
            let first = try await clinic.book(client, start: "09:00:00", end: "09:30:00", extra: [
                "symptoms": ["fever", "Zoë \"quoted\""], "additional_note": "Room 12", "visit_location": ["hotel": "Sol", "floor": 3],
            ])
            let firstId = try #require(first.json["appointment"]?["id"]?.string)
            try await clinic.pay(client, firstId)
            let second = try await clinic.bookId(client, start: "10:00:00", end: "10:30:00")
            _ = try await client.request(.put, "/api/v1/appointments/\(second)", token: clinic.patient.token, json: ["status": "cancelled", "cancellation_reason": "Flight"])
            _ = try await clinic.book(client, start: "11:00:00", end: "11:30:00", token: clinic.secretary.token, extra: ["user_id": clinic.patient.id])
            _ = try await clinic.book(client, start: "12:00:00", end: "12:30:00", type: "home", token: clinic.otherPatient.token)
            let repository = SQLAppointmentRepository(database: services.database)
            let patient = try #require(UUID(uuidString: clinic.patient.id))
            let doctor = try #require(UUID(uuidString: clinic.doctor.id))
            for scope in [AppointmentScope.patient(patient), .doctor(doctor)] {
                for (page, limit) in [(1, 10), (1, 2), (2, 2), (5, 2)] {
                    let query = AppointmentQuery(page: try PageRequest(page: page, limit: limit), scope: scope)
                    #expect(AppointmentPages.owner(of: query) != nil)
                    let fast = try await repository.list(query)
                    let general = try await repository.listGeneral(query)
                    #expect(fast.items == general.items, "\(scope) page \(page)/\(limit)")
                    #expect(fast.total == general.total && fast.total > 0)
                }
            }
            // shapes the fast path does not serve
            #expect(AppointmentPages.owner(of: AppointmentQuery(page: try PageRequest(limit: 10), scope: .all)) == nil)
            #expect(AppointmentPages.owner(of: AppointmentQuery(page: try PageRequest(limit: 10), scope: .patient(patient), status: .confirmed)) == nil)
            #expect(AppointmentPages.owner(of: AppointmentQuery(page: try PageRequest(limit: 10), scope: .patient(patient), sortOrder: .asc)) == nil)
        }
    }
}
