import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import SOSServer

/// A patient's records are his: staff cannot manufacture the care relationship that opens them, only the patient
/// answers a booking made for him, and he can see who read them. Each test runs the attack first.
@Suite("Trust: medical records belong to the patient")
struct TrustRecordsTests {
    /// The other doctor's private record about the clinic's patient, written after the patient's own paid booking.
    func privateRecordByOtherDoctor(_ client: some TestClientProtocol, _ clinic: Clinic) async throws -> String {
        let booked = try await clinic.book(client, start: "15:00:00", end: "15:30:00", doctorId: clinic.otherDoctor.id)
        let appointment = try #require(booked.json["appointment"]?["id"]?.string, "\(booked.text)")
        try await clinic.pay(client, appointment)
        let record = try await client.request(.post, "/api/v1/medical-records", token: clinic.otherDoctor.token, json: [
            "user_id": clinic.patient.id, "record_type": "diagnosis", "title": "Private: anxiety", "is_shared_with_patient": false,
            "appointment_id": appointment,
        ])
        return try #require(record.json["record"]?["id"]?.string, "\(record.text)")
    }

    @Test("Attack 1: a secretary books the patient with her doctor and records a payment herself — her doctor still reads nothing; the patient's acceptance opens it")
    func staffCannotManufactureCare() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let record = try await self.privateRecordByOtherDoctor(client, clinic)
            // the attack: book for the patient, pay it by hand, confirm the payment, all as the secretary
            let madeUp = try await clinic.book(client, start: "09:00:00", end: "09:30:00", token: clinic.secretary.token, extra: ["user_id": clinic.patient.id])
            #expect(madeUp.status == .created, "\(madeUp.text)")
            #expect(madeUp.json["appointment"]?["patient_acceptance"]?.string == "pending")
            #expect(madeUp.json["appointment"]?["booked_by"]?.string == clinic.secretary.id)
            let appointment = try #require(madeUp.json["appointment"]?["id"]?.string)
            let payment = try await client.request(.post, "/api/v1/payments", token: clinic.secretary.token, json: [
                "appointment_id": appointment, "amount": 60, "currency": "EUR", "payment_method": "bank_transfer",
            ])
            let paymentId = try #require(payment.json["paymentId"]?.string, "\(payment.text)")
            let confirmed = try await client.request(.post, "/api/v1/payments/\(paymentId)/confirm", token: clinic.secretary.token, json: [:] as JSONObject)
            #expect(confirmed.json["payment"]?["status"]?.string == "succeeded")
            try await clinic.move(client, appointment, through: ["confirmed", "in_progress"])
            for token in [clinic.doctor.token, clinic.secretary.token] {
                let read = try await client.request(.get, "/api/v1/medical-records/\(record)", token: token)
                expectError(read, .notFound)
                #expect(!read.text.contains("anxiety"))
                #expect(try await client.request(.get, "/api/v1/medical-records?userId=\(clinic.patient.id)", token: token).json["pagination"]?["total"]?.int == 0)
            }
            // nobody but the patient can give the consent
            for token in [clinic.secretary.token, clinic.doctor.token, clinic.admin] {
                expectError(try await client.request(.post, "/api/v1/appointments/\(appointment)/accept", token: token), .forbidden, detailsContain: "Only the patient")
            }
            let forged = try await client.request(.put, "/api/v1/appointments/\(appointment)", token: clinic.admin, json: ["patient_acceptance": "accepted", "symptoms": ["cough"]])
            #expect(forged.json["appointment"]?["patient_acceptance"]?.string == "pending", "not a field anyone but the patient sets: \(forged.text)")
            // the rule: his acceptance plus the recorded payment (or the consultation under way) opens his history
            let accepted = try await client.request(.post, "/api/v1/appointments/\(appointment)/accept", token: clinic.patient.token)
            #expect(accepted.status == .ok, "\(accepted.text)")
            #expect(accepted.json["appointment"]?["patient_acceptance"]?.string == "accepted")
            #expect(try await client.request(.get, "/api/v1/medical-records/\(record)", token: clinic.doctor.token).status == .ok)
            #expect(try await client.request(.get, "/api/v1/medical-records?userId=\(clinic.patient.id)", token: clinic.doctor.token)
                .json["pagination"]?["total"]?.int == 1)
            // a secretary still reads only what her doctors wrote
            expectError(try await client.request(.get, "/api/v1/medical-records/\(record)", token: clinic.secretary.token), .notFound)
        }
    }

    @Test("The patient's own booking opens his history only once paid by a recorded payment or under way — a status staff set is not enough")
    func consentAloneIsNotEnough() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let record = try await self.privateRecordByOtherDoctor(client, clinic)
            let own = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            expectError(try await client.request(.get, "/api/v1/medical-records/\(record)", token: clinic.doctor.token), .notFound)
            try await clinic.move(client, own, through: ["payment_completed", "confirmed"])
            expectError(try await client.request(.get, "/api/v1/medical-records/\(record)", token: clinic.doctor.token), .notFound)
            let underway = try await client.request(.put, "/api/v1/appointments/\(own)", token: clinic.doctor.token, json: ["status": "in_progress"])
            #expect(underway.status == .ok)
            #expect(try await client.request(.get, "/api/v1/medical-records/\(record)", token: clinic.doctor.token).status == .ok)
            // once the visit is over and nothing was paid, the door closes again
            #expect(try await client.request(.put, "/api/v1/appointments/\(own)", token: clinic.doctor.token, json: ["status": "completed"]).status == .ok)
            expectError(try await client.request(.get, "/api/v1/medical-records/\(record)", token: clinic.doctor.token), .notFound)
        }
    }

    @Test("Accept and decline: only the patient answers, once; declining cancels and frees the slot; the hub carries both")
    func acceptAndDecline() async throws {
        try await withHub { client, port, _ in
            let clinic = try await Clinic.make(client)
            let byDoctor = try await clinic.book(client, start: "09:00:00", end: "09:30:00", token: clinic.doctor.token, extra: ["user_id": clinic.patient.id])
            let first = try #require(byDoctor.json["appointment"]?["id"]?.string, "\(byDoctor.text)")
            expectError(try await client.request(.post, "/api/v1/appointments/\(first)/accept", token: clinic.otherPatient.token), .notFound)
            let patient = try await HubClient.connect(port: port, token: clinic.patient.token)
            let doctor = try await HubClient.connect(port: port, token: clinic.doctor.token)
            let refused = try await doctor.call("appointment.accept", ["appointment_id": first])
            #expect(refused["error"]?["code"]?.string == "forbidden", "\(refused)")
            let ack = try await patient.ack("appointment.accept", ["appointment_id": first])
            #expect(ack["appointment"]?["patient_acceptance"]?.string == "accepted")
            let seen = try await doctor.next("appointment.updated") { $0["data"]?["id"]?.string == first }
            #expect(seen["data"]?["patient_acceptance"]?.string == "accepted")
            expectError(try await client.request(.post, "/api/v1/appointments/\(first)/accept", token: clinic.patient.token), .conflict, detailsContain: "already accepted")

            let bySecretary = try await clinic.book(client, start: "10:00:00", end: "10:30:00", token: clinic.secretary.token, extra: ["user_id": clinic.patient.id])
            let second = try #require(bySecretary.json["appointment"]?["id"]?.string)
            let declined = try await client.request(.post, "/api/v1/appointments/\(second)/decline", token: clinic.patient.token, json: ["reason": "I am flying home"])
            #expect(declined.status == .ok, "\(declined.text)")
            #expect(declined.json["appointment"]?["status"]?.string == "cancelled")
            #expect(declined.json["appointment"]?["patient_acceptance"]?.string == "declined")
            #expect(declined.json["appointment"]?["cancellation_reason"]?.string == "Declined by the patient: I am flying home")
            #expect(try await doctor.next("appointment.updated") { $0["data"]?["id"]?.string == second }["data"]?["status"]?.string == "cancelled")
            expectError(try await client.request(.post, "/api/v1/appointments/\(second)/accept", token: clinic.patient.token), .conflict)
            // the slot is free again
            #expect(try await clinic.book(client, start: "10:00:00", end: "10:30:00", token: clinic.otherPatient.token).status == .created)
            // his own bookings need no answer
            let own = try await clinic.bookId(client, start: "11:00:00", end: "11:30:00")
            let answered = try await patient.call("appointment.decline", ["appointment_id": own])
            #expect(answered["error"]?["code"]?.string == "conflict", "\(answered)")
            #expect(try await patient.call("appointment.accept", [:])["error"]?["code"]?.string == "bad_request")
            patient.close()
            doctor.close()
        }
    }

    @Test("The patient lists who read his records and when; a record kept from him shows no title; nobody else reads his log")
    func accessLog() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let appointment = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            try await clinic.pay(client, appointment)
            func record(_ title: String, shared: Bool) async throws -> String {
                let created = try await client.request(.post, "/api/v1/medical-records", token: clinic.doctor.token, json: [
                    "user_id": clinic.patient.id, "record_type": "note", "title": title, "is_shared_with_patient": shared,
                ])
                return try #require(created.json["record"]?["id"]?.string, "\(created.text)")
            }
            let shared = try await record("Blood pressure", shared: true)
            let kept = try await record("Doctor's private impression", shared: false)
            _ = try await client.request(.get, "/api/v1/medical-records/\(shared)", token: clinic.secretary.token)
            _ = try await client.request(.get, "/api/v1/medical-records/\(kept)", token: clinic.doctor.token)
            _ = try await client.request(.get, "/api/v1/medical-records/\(shared)", token: clinic.patient.token)
            let log = try await client.request(.get, "/api/v1/medical-records/access-log", token: clinic.patient.token)
            #expect(log.status == .ok, "\(log.text)")
            let entries = try #require(log.json["entries"]?.array)
            #expect(entries.allSatisfy { $0["actor"]?["id"]?.string != clinic.patient.id }, "his own reads are not listed")
            let secretaryRead = entries.first { $0["actor"]?["id"]?.string == clinic.secretary.id && $0["action"]?.string == "read" }
            #expect(secretaryRead?["actor"]?["name"]?.string == "Sam Desk" && secretaryRead?["actor"]?["role"]?.string == "secretary")
            #expect(secretaryRead?["record_title"]?.string == "Blood pressure")
            #expect(isTimestamp(secretaryRead?["at"]?.string))
            let hidden = entries.first { $0["record_id"]?.string == kept && $0["action"]?.string == "read" }
            #expect(hidden?["record_title"]?.isNull == true && hidden?["detail"]?.isNull == true, "\(String(describing: hidden))")
            #expect(!log.text.contains("private impression"))
            #expect(entries.contains { $0["action"]?.string == "create" && $0["actor"]?["id"]?.string == clinic.doctor.id })
            #expect(log.json["pagination"]?["total"]?.int == entries.count)
            // only the patient (and administrators) read it
            expectError(try await client.request(.get, "/api/v1/medical-records/access-log", token: clinic.doctor.token), .forbidden)
            expectError(try await client.request(.get, "/api/v1/medical-records/access-log?userId=\(clinic.patient.id)", token: clinic.otherPatient.token), .forbidden)
            #expect(try await client.request(.get, "/api/v1/medical-records/access-log", token: clinic.otherPatient.token).json["entries"]?.array?.isEmpty == true)
            let byAdmin = try await client.request(.get, "/api/v1/medical-records/access-log?userId=\(clinic.patient.id)", token: clinic.admin)
            #expect(byAdmin.json["pagination"]?["total"]?.int == entries.count)
            expectError(try await client.request(.get, "/api/v1/medical-records/access-log", token: clinic.admin), .badRequest, detailsContain: "userId")
        }
    }

    @Test("Blocking, a role change or losing a doctor ends sessions at once: tokens say why, sockets close with 4001; a demoted admin hears nothing more")
    func changesApplyAtOnce() async throws {
        try await withHub { client, port, _ in
            let clinic = try await Clinic.make(client)
            let deputy = try await client.makeUser(role: "admin", email: "deputy@example.com")
            let deputySocket = try await HubClient.connect(port: port, token: deputy.token)
            let patientSocket = try await HubClient.connect(port: port, token: clinic.patient.token)
            let secretarySocket = try await HubClient.connect(port: port, token: clinic.secretary.token)
            // an admin hears the whole clinic
            let booked = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00", token: clinic.otherPatient.token)
            _ = try await deputySocket.next("appointment.created") { $0["data"]?["id"]?.string == booked }

            #expect(try await client.request(.put, "/api/v1/users/\(deputy.id)", token: clinic.admin, json: ["role": "patient"]).status == .ok)
            #expect(try await deputySocket.closed()?.reason == "Role changed; sign in again")
            expectError(try await client.request(.get, "/api/v1/auth/me", token: deputy.token), .unauthorized, detailsContain: "Your role changed")
            let demoted = try await client.login("deputy@example.com", "Password1!")
            #expect(demoted["user"]?["role"]?.string == "patient")
            let again = try await HubClient.connect(port: port, token: try #require(demoted["access_token"]?.string))
            let later = try await clinic.bookId(client, start: "10:00:00", end: "10:30:00", token: clinic.otherPatient.token)
            _ = later
            try await again.expectNothing("appointment.created")

            #expect(try await client.request(.put, "/api/v1/users/\(clinic.patient.id)", token: clinic.admin, json: ["is_status": "blocked"]).status == .ok)
            #expect(try await patientSocket.closed()?.reason == "Account blocked")
            expectError(try await client.request(.get, "/api/v1/appointments", token: clinic.patient.token), .unauthorized, detailsContain: "This account is blocked")

            #expect(try await client.request(.put, "/api/v1/users/\(clinic.secretary.id)", token: clinic.admin, json: ["associated_doctors": [clinic.otherDoctor.id]]).status == .ok)
            #expect(try await secretarySocket.closed()?.reason == "Access changed; sign in again")
            again.close()
        }
    }
}

extension Clinic {
    /// Books as `token` (default the patient) and returns the id.
    func bookId(_ client: some TestClientProtocol, start: String, end: String, token: String) async throws -> String {
        let response = try await self.book(client, start: start, end: end, token: token)
        #expect(response.status == .created, "\(response.text)")
        return response.json["appointment"]?["id"]?.string ?? ""
    }
}
