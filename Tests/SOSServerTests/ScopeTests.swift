import Foundation
import HummingbirdTesting
import Testing

@testable import SOSServer

/// Data that belongs to one doctor's practice stays there: a secretary sees the doctors she works for, a doctor
/// reads other doctors' records only for patients in his paid care, and calendar feeds list one's own appointments.
@Suite("Scopes: secretaries, care relationships, calendar feeds")
struct ScopeTests {
    /// The clinic plus, for the other doctor (not the secretary's), a paid appointment with the patient, a
    /// payment and a record; returns the other doctor's appointment, payment and record ids.
    func otherPractice(_ client: some TestClientProtocol, _ clinic: Clinic) async throws -> (appointment: String, payment: String, record: String) {
        let booked = try await clinic.book(client, start: "15:00:00", end: "15:30:00", doctorId: clinic.otherDoctor.id,
                                           extra: ["symptoms": ["rash on the left arm"]])
        let appointment = try #require(booked.json["appointment"]?["id"]?.string, "\(booked.text)")
        let payment = try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: [
            "appointment_id": appointment, "amount": 60, "currency": "eur", "payment_method": "bank_transfer",
        ])
        let paymentId = try #require(payment.json["paymentId"]?.string, "\(payment.text)")
        #expect(try await client.request(.post, "/api/v1/payments/\(paymentId)/confirm", token: clinic.admin, json: [:] as JSONObject).status == .ok)
        let record = try await client.request(.post, "/api/v1/medical-records", token: clinic.otherDoctor.token, json: [
            "user_id": clinic.patient.id, "record_type": "diagnosis", "title": "Contact dermatitis", "appointment_id": appointment,
        ])
        let recordId = try #require(record.json["record"]?["id"]?.string, "\(record.text)")
        return (appointment, paymentId, recordId)
    }

    @Test("A secretary sees her doctors' payments, records and dashboard, not the other doctor's")
    func secretary() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let own = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            let ownPayment = try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: [
                "appointment_id": own, "amount": 60, "currency": "eur", "payment_method": "bank_transfer",
            ])
            let ownPaymentId = try #require(ownPayment.json["paymentId"]?.string)
            let other = try await self.otherPractice(client, clinic)
            let secretary = clinic.secretary.token

            let payments = try await client.request(.get, "/api/v1/payments", token: secretary)
            #expect(payments.json["payments"]?.array?.compactMap { $0["id"]?.string } == [ownPaymentId])
            expectError(try await client.request(.get, "/api/v1/payments/\(other.payment)", token: secretary), .notFound)
            #expect(try await client.request(.get, "/api/v1/payments/\(ownPaymentId)", token: secretary).status == .ok)
            #expect(try await client.request(.get, "/api/v1/payments", token: clinic.admin).json["pagination"]?["total"]?.int == 2)

            // the patient is in her doctor's care too, but the other doctor's record is not her doctor's
            expectError(try await client.request(.get, "/api/v1/medical-records/\(other.record)", token: secretary), .notFound)
            #expect(try await client.request(.get, "/api/v1/medical-records?userId=\(clinic.patient.id)", token: secretary)
                .json["pagination"]?["total"]?.int == 0)
            // her doctor does not read it on a status staff set: only the patient's own booking with a recorded payment counts
            try await clinic.move(client, own, through: ["payment_completed"])
            expectError(try await client.request(.get, "/api/v1/medical-records/\(other.record)", token: clinic.doctor.token), .notFound)

            let recent = try await client.request(.get, "/api/v1/admin/dashboard/recent-activity?limit=50", token: secretary)
            #expect(recent.json["recentAppointments"]?.array?.compactMap { $0["id"]?.string } == [own])
            #expect(recent.json["recentPayments"]?.array?.compactMap { $0["id"]?.string } == [ownPaymentId])
            let people = Set(recent.json["recentUsers"]?.array?.compactMap { $0["id"]?.string } ?? [])
            #expect(people == [clinic.doctor.id, clinic.patient.id], "her doctor and his patients only")
            #expect(!recent.text.contains("rash on the left arm"))
            let adminRecent = try await client.request(.get, "/api/v1/admin/dashboard/recent-activity?limit=50", token: clinic.admin)
            #expect(adminRecent.json["recentAppointments"]?.array?.count == 2)

            let stats = try await client.request(.get, "/api/v1/admin/dashboard/stats", token: secretary).json["stats"]
            #expect(stats?["appointments"]?["total"]?.int == 1)
            #expect(stats?["medicalRecords"]?["total"]?.int == 0)
            #expect(stats?["payments"]?["revenueByCurrency"] == .object([:]), "her doctor's payment is not confirmed yet; the other's is not hers")
            let adminStats = try await client.request(.get, "/api/v1/admin/dashboard/stats", token: clinic.admin).json["stats"]
            #expect(adminStats?["payments"]?["revenueByCurrency"] == .object(["EUR": .number(60)]))
            let analytics = try await client.request(.get, "/api/v1/admin/dashboard/analytics?period=day", token: secretary)
            #expect(analytics.status == .ok, "\(analytics.text)")
            #expect(analytics.json["summary"]?["totalPayments"]?.int == 1, "her doctor's payment only: \(analytics.text)")
            // once that payment is recorded, her doctor is in the patient's care and reads the other doctor's record
            #expect(try await client.request(.post, "/api/v1/payments/\(ownPaymentId)/confirm", token: clinic.admin, json: [:] as JSONObject).status == .ok)
            #expect(try await client.request(.get, "/api/v1/medical-records/\(other.record)", token: clinic.doctor.token).status == .ok)
        }
    }

    @Test("Calendar feeds list one's own appointments without symptoms; an admin's feed lists nobody's")
    func calendarFeeds() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            _ = try await self.otherPractice(client, clinic)
            func feed(_ token: String) async throws -> String {
                let feedToken = try await client.request(.get, "/api/v1/calendar/token", token: token).json["token"]?.string ?? ""
                return try await client.request(.get, "/api/v1/calendar/feed.ics?token=\(feedToken)").text
            }
            let patient = try await feed(clinic.patient.token)
            #expect(patient.contains("BEGIN:VEVENT") && patient.contains("Dr Bob Stone"))
            #expect(!patient.contains("rash"), "symptoms stay out of calendar services")
            let admin = try await feed(clinic.admin)
            #expect(admin.contains("BEGIN:VCALENDAR") && !admin.contains("BEGIN:VEVENT"))
            #expect(!(try await feed(clinic.secretary.token)).contains("BEGIN:VEVENT"), "her doctor has no appointments yet")
            #expect(try await feed(clinic.otherDoctor.token).contains("Paula Tourist"))
        }
    }

    @Test("A doctor cannot change his own email through his profile; patients do not see hidden doctors' availability")
    func doctorEmailAndHiddenAvailability() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            expectError(try await client.request(.post, "/api/v1/doctors", token: clinic.doctor.token, json: ["email": "someone-else@example.com"]),
                        .forbidden, detailsContain: "administrator")
            let byAdmin = try await client.request(.put, "/api/v1/doctors/\(clinic.doctor.id)", token: clinic.admin, json: ["email": "alice@clinic.example"])
            #expect(byAdmin.status == .ok, "\(byAdmin.text)")

            func doctorsWithRules(_ token: String) async throws -> Set<String> {
                let list = try await client.request(.get, "/api/v1/availabilities", token: token)
                return Set(list.json["availabilities"]?.array?.compactMap { $0["user_id"]?.string } ?? [])
            }
            #expect(try await doctorsWithRules(clinic.patient.token) == [clinic.doctor.id, clinic.otherDoctor.id])
            #expect(try await client.request(.post, "/api/v1/doctors", token: clinic.otherDoctor.token, json: ["is_listed": false]).status == .ok)
            #expect(try await doctorsWithRules(clinic.patient.token) == [clinic.doctor.id])
            #expect(try await doctorsWithRules(clinic.admin) == [clinic.doctor.id, clinic.otherDoctor.id])
        }
    }
}
