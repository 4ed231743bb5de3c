import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import SOSServer

/// Issue 12: `Idempotency-Key` on `POST /appointments` and `POST /payments`: a retry returns what the first request
/// created and creates nothing; the key with another request is refused; keys belong to their caller.
@Suite("Idempotency-Key on bookings and payments")
struct IdempotencyTests {
    static func key(_ value: String) -> HTTPFields { [.idempotencyKey: value] }

    func booking(_ clinic: Clinic, start: String, end: String) -> JSONObject {
        ["doctor_id": clinic.doctor.id, "date": clinic.date, "start_time": start, "end_time": end, "consultation_type": "video"]
    }

    func count(_ client: some TestClientProtocol, _ token: String) async throws -> Int {
        try await client.request(.get, "/api/v1/appointments?limit=100", token: token).json["pagination"]?["total"]?.int ?? -1
    }

    @Test("A retried booking returns the first appointment; the same key with another slot is refused (409)")
    func bookingRetry() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let body = self.booking(clinic, start: "09:00:00", end: "09:30:00")
            let first = try await client.request(.post, "/api/v1/appointments", token: clinic.patient.token, json: body, headers: Self.key("book-1"))
            #expect(first.status == .created, "\(first.text)")
            let id = try #require(first.json["appointment"]?["id"]?.string)
            let retry = try await client.request(.post, "/api/v1/appointments", token: clinic.patient.token, json: body, headers: Self.key("book-1"))
            #expect(retry.status == .created, "\(retry.text)")
            #expect(retry.json["appointment"]?["id"]?.string == id)
            #expect(try await self.count(client, clinic.patient.token) == 1)

            let other = try await client.request(.post, "/api/v1/appointments", token: clinic.patient.token,
                                                 json: self.booking(clinic, start: "10:00:00", end: "10:30:00"), headers: Self.key("book-1"))
            expectError(other, .conflict, detailsContain: "Idempotency-Key")
            #expect(try await self.count(client, clinic.patient.token) == 1)

            // without a key, the same body is a second request for a taken slot
            let unkeyed = try await client.request(.post, "/api/v1/appointments", token: clinic.patient.token, json: body)
            expectError(unkeyed, .conflict, detailsContain: "overlapping")

            // keys are the caller's own: another patient's "book-1" is a new key
            let theirs = try await client.request(.post, "/api/v1/appointments", token: clinic.otherPatient.token,
                                                  json: self.booking(clinic, start: "11:00:00", end: "11:30:00"), headers: Self.key("book-1"))
            #expect(theirs.status == .created, "\(theirs.text)")
            #expect(theirs.json["appointment"]?["id"]?.string != id)
        }
    }

    @Test("Malformed keys are refused with 400 and nothing is booked")
    func malformedKeys() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            for bad in [String(repeating: "k", count: 256), "has space", "zoë"] {
                let answer = try await client.request(.post, "/api/v1/appointments", token: clinic.patient.token,
                                                      json: self.booking(clinic, start: "09:00:00", end: "09:30:00"), headers: Self.key(bad))
                expectError(answer, .badRequest, detailsContain: "Idempotency-Key")
            }
            #expect(try await self.count(client, clinic.patient.token) == 0)
        }
    }

    @Test("Twelve parallel retries of one booking: one appointment, every answer names it")
    func parallelRetries() async throws {
        try await withApp(.live) { client, _ in
            let clinic = try await Clinic.make(client)
            let answers = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        let body = self.booking(clinic, start: "09:00:00", end: "09:30:00")
                        let answer = try await client.request(.post, "/api/v1/appointments", token: clinic.patient.token, json: body, headers: Self.key("parallel"))
                        return (Int(answer.status.code), answer.json["appointment"]?["id"]?.string)
                    }
                }
                return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.0 == 201 }, "\(answers)")
            #expect(Set(answers.compactMap(\.1)).count == 1, "\(answers)")
            #expect(try await self.count(client, clinic.patient.token) == 1)
        }
    }

    @Test("A retried payment returns the first payment; a new key for the same appointment meets the open payment (409)")
    func paymentRetry() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let appointment = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            let body: JSONObject = ["appointment_id": appointment, "amount": 60, "currency": "eur", "payment_method": "bank_transfer"]
            let first = try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: body, headers: Self.key("pay-1"))
            #expect(first.status == .created, "\(first.text)")
            let id = try #require(first.json["paymentId"]?.string)
            let retry = try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: body, headers: Self.key("pay-1"))
            #expect(retry.status == .created, "\(retry.text)")
            #expect(retry.json["paymentId"]?.string == id)
            let fresh = try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: body, headers: Self.key("pay-2"))
            expectError(fresh, .conflict, detailsContain: "already has")
            var changed = body
            changed["amount"] = 61
            let misuse = try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: changed, headers: Self.key("pay-1"))
            expectError(misuse, .conflict, detailsContain: "Idempotency-Key")
            let payments = try await client.request(.get, "/api/v1/payments", token: clinic.patient.token)
            #expect(payments.json["pagination"]?["total"]?.int == 1, "\(payments.text)")
        }
    }
}
