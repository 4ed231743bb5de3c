import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import SOSServer

/// Unpaid bookings hold a slot only for a while, and one patient cannot hold a doctor's whole day. The hold sweep
/// is called directly with a clock the test moves (the background job is slowed down so it never races the test).
@Suite("Trust: bookings hold a slot for a limited time")
struct TrustBookingTests {
    func appointment(_ client: some TestClientProtocol, _ clinic: Clinic, _ id: String) async throws -> JSONValue {
        try await client.request(.get, "/api/v1/appointments/\(id)", token: clinic.admin).json["appointment"] ?? .null
    }

    func freeStarts(_ client: some TestClientProtocol, _ clinic: Clinic) async throws -> [String] {
        let slots = try await client.request(
            .get, "/api/v1/availabilities/slots?doctorId=\(clinic.doctor.id)&date=\(clinic.date)&consultationType=video", token: clinic.patient.token
        )
        return slots.json["slots"]?.array?.compactMap { $0["start_time"]?.string } ?? []
    }

    @Test("Online payment: an unpaid booking is released 20 minutes after booking, both sides told live; a card payment arriving later is refunded")
    func onlineHold() async throws {
        let secret = "whsec_holds"
        let clock = TestClock()
        try await FakeStripe.run { base, stripe in
            try await withHub(configure: {
                $0.stripeSecretKey = "sk_test_holds"
                $0.stripeAPIBase = base
                $0.stripeWebhookSecret = secret
                $0.clock = clock.now
                $0.holdSweepInterval = .seconds(3600)
            }) { client, port, services in
                let clinic = try await Clinic.make(client)
                let booked = try await clinic.book(client, start: "09:00:00", end: "09:30:00")
                let id = try #require(booked.json["appointment"]?["id"]?.string, "\(booked.text)")
                let created = try #require(Timestamp.date(from: booked.json["appointment"]?["created_at"]?.string ?? ""))
                let hold = try #require(Timestamp.date(from: booked.json["appointment"]?["hold_expires_at"]?.string ?? ""))
                #expect(abs(hold.timeIntervalSince(created) - 20 * 60) < 1, "20 minutes to pay online")
                #expect(!(try await self.freeStarts(client, clinic)).contains("09:00:00"))
                // a card payment is started but never finished; another booking is to be paid at the clinic
                let card = try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: [
                    "appointment_id": id, "amount": 60, "currency": "EUR", "payment_method": "card",
                ])
                let paymentId = try #require(card.json["paymentId"]?.string, "\(card.text)")
                let intent = try #require(card.json["paymentIntentId"]?.string)
                let atClinic = try await clinic.bookId(client, start: "10:00:00", end: "10:30:00")
                let transfer = try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: [
                    "appointment_id": atClinic, "amount": 60, "currency": "EUR", "payment_method": "bank_transfer",
                ])
                #expect(transfer.status == .created)
                let moved = try #require(Timestamp.date(from: try await self.appointment(client, clinic, atClinic)["hold_expires_at"]?.string ?? ""))
                let startsAt = try #require(Timestamp.date(from: "\(clinic.date)T10:00:00.000Z"))
                #expect(abs(startsAt.timeIntervalSince(moved) - 2 * 3600) < 1, "paid at the clinic: held until 2 hours before the start")

                let patient = try await HubClient.connect(port: port, token: clinic.patient.token)
                let doctor = try await HubClient.connect(port: port, token: clinic.doctor.token)
                clock.advance(19 * 60)
                #expect(try await services.payments.releaseEndedHolds() == 0)
                #expect(try await self.appointment(client, clinic, id)["status"]?.string == "pending_payment")
                clock.advance(2 * 60)
                #expect(try await services.payments.releaseEndedHolds() == 1, "only the online one")
                let released = try await self.appointment(client, clinic, id)
                #expect(released["status"]?.string == "cancelled")
                #expect(released["hold_expires_at"]?.isNull == true)
                #expect(released["cancellation_reason"]?.string == "Not paid within 20 minutes of booking; the slot was released.")
                for socket in [patient, doctor] {
                    let event = try await socket.next("appointment.updated") { $0["data"]?["id"]?.string == id }
                    #expect(event["data"]?["status"]?.string == "cancelled")
                    #expect(event["data"]?["cancellation_reason"]?.string?.contains("20 minutes") == true)
                }
                #expect(try await self.freeStarts(client, clinic).contains("09:00:00"), "the slot is free again")
                #expect(try await self.appointment(client, clinic, atClinic)["status"]?.string == "pending_payment")
                let payment = try await client.request(.get, "/api/v1/payments/\(paymentId)", token: clinic.patient.token)
                #expect(payment.json["payment"]?["status"]?.string == "failed")
                #expect(stripe.received.contains { $0.path == "/v1/payment_intents/\(intent)/cancel" }, "the intent is cancelled at Stripe")
                let inbox = try await client.request(.get, "/api/v1/notifications", token: clinic.patient.token)
                #expect(inbox.json["notifications"]?.array?.contains { $0["body"]?.string?.contains("the slot was released") == true } == true)

                // the card is charged anyway (the payment raced the release): the money goes back, and the webhook is fine
                let event = #"{"id":"evt_late","type":"payment_intent.succeeded","data":{"object":{"id":"\#(intent)","amount":6000,"amount_received":6000,"currency":"eur","metadata":{"payment_id":"\#(paymentId)"}}}}"#
                let hook = try await client.request(.post, "/api/v1/payments/webhook", rawBody: event, headers: [.init("Stripe-Signature")!: stripeSignature(event, secret: secret)])
                #expect(hook.status == .ok, "\(hook.text)")
                #expect(try await self.appointment(client, clinic, id)["status"]?.string == "cancelled", "a late payment does not revive the booking")
                let refunded = try await client.request(.get, "/api/v1/payments/\(paymentId)", token: clinic.admin).json["payment"]
                #expect(refunded?["status"]?.string == "refunded" && refunded?["refund_amount"]?.number == 60, "\(String(describing: refunded))")
                #expect(stripe.received.contains { $0.path == "/v1/refunds" && $0.form["payment_intent"] == intent && $0.form["amount"] == "6000" })
                patient.close()
                doctor.close()
            }
        }
    }

    @Test("Pay at the clinic: not released for being unpaid; released only if staff have not confirmed it 2 hours before the start")
    func clinicHold() async throws {
        let clock = TestClock()
        try await withApp(configure: { $0.clock = clock.now; $0.holdSweepInterval = .seconds(3600) }) { client, services in
            let clinic = try await Clinic.make(client)
            let unconfirmed = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            let confirmed = try await clinic.bookId(client, start: "11:00:00", end: "11:30:00")
            let startsAt = try #require(Timestamp.date(from: "\(clinic.date)T09:00:00.000Z"))
            let hold = try #require(Timestamp.date(from: try await self.appointment(client, clinic, unconfirmed)["hold_expires_at"]?.string ?? ""))
            #expect(abs(startsAt.timeIntervalSince(hold) - 2 * 3600) < 1)
            // the doctor cannot confirm on the clinic's behalf; a secretary can
            expectError(try await client.request(.put, "/api/v1/appointments/\(confirmed)", token: clinic.doctor.token, json: ["status": "confirmed"]), .forbidden)
            let byDesk = try await client.request(.put, "/api/v1/appointments/\(confirmed)", token: clinic.secretary.token, json: ["status": "confirmed"])
            #expect(byDesk.json["appointment"]?["status"]?.string == "confirmed")
            #expect(byDesk.json["appointment"]?["hold_expires_at"]?.isNull == true)

            clock.advance(24 * 3600)
            #expect(try await services.payments.releaseEndedHolds() == 0, "a day later, still unpaid, still held")
            clock.advance(hold.timeIntervalSince(clock.now()) + 60)
            #expect(try await services.payments.releaseEndedHolds() == 1)
            let released = try await self.appointment(client, clinic, unconfirmed)
            #expect(released["status"]?.string == "cancelled")
            #expect(released["cancellation_reason"]?.string?.hasPrefix("Not confirmed by the clinic or paid by") == true, "\(released)")
            #expect(try await self.appointment(client, clinic, confirmed)["status"]?.string == "confirmed")
        }
    }

    @Test("Attack 2: one patient tries to hold a doctor's whole day in a parallel burst — at most 3 open unpaid bookings, the rest 409 saying why")
    func unpaidLimit() async throws {
        try await withApp(configure: { $0.booking.maxUnpaidPerPatient = 3 }) { client, _ in
            let clinic = try await Clinic.make(client)
            let starts = (0..<14).map { String(format: "%02d:%02d:00", 8 + $0 / 2, $0 % 2 * 30) }
            let answers = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for start in starts {
                    let end = start.hasSuffix("30:00") ? String(format: "%02d:00:00", Int(start.prefix(2))! + 1) : String(start.prefix(3)) + "30:00"
                    group.addTask { try await clinic.book(client, start: start, end: end) }
                }
                return try await group.reduce(into: [TestResponse]()) { $0.append($1) }
            }
            #expect(answers.filter { $0.status == .created }.count == 3, "\(answers.map(\.status.code))")
            for refused in answers where refused.status != .created {
                expectError(refused, .conflict, detailsContain: "You already have 3 bookings waiting for payment or confirmation")
            }
            // a booking the clinic makes for him does not count until he accepts it, and accepting is held to the limit too
            let forHim = try await clinic.book(client, start: "16:00:00", end: "16:30:00", token: clinic.secretary.token, extra: ["user_id": clinic.patient.id])
            #expect(forHim.status == .created)
            let pending = try #require(forHim.json["appointment"]?["id"]?.string)
            expectError(try await client.request(.post, "/api/v1/appointments/\(pending)/accept", token: clinic.patient.token), .conflict, detailsContain: "more than 3")
            // paying for one frees a place
            let held = try #require(answers.first { $0.status == .created }?.json["appointment"]?["id"]?.string)
            try await clinic.pay(client, held)
            #expect(try await client.request(.post, "/api/v1/appointments/\(pending)/accept", token: clinic.patient.token).status == .ok)
            #expect(try await clinic.book(client, start: "17:00:00", end: "17:30:00").status == .conflict, "three unpaid again")
            // another patient is not affected
            #expect(try await clinic.book(client, start: "17:00:00", end: "17:30:00", token: clinic.otherPatient.token).status == .created)
        }
    }
}
