import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import SOSServer

/// The server, not the client, decides what a consultation costs: the doctor's fee, fixed at booking.
@Suite("Trust: the server decides what a consultation costs")
struct TrustPaymentTests {
    @Test("Fees: per consultation type and currency, validated, shown with slots, fixed at booking; a type without a fee cannot be booked")
    func fees() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let doctor = clinic.doctor.token
            func profile(_ body: JSONObject) async throws -> TestResponse { try await client.request(.post, "/api/v1/doctors", token: doctor, json: body) }
            expectError(try await profile(["fees": ["massage": 10]]), .badRequest, detailsContain: "consultation types")
            expectError(try await profile(["fees": ["video": -5]]), .badRequest, detailsContain: "positive")
            expectError(try await profile(["fees": ["video": 1_000_000]]), .badRequest, detailsContain: "at most")
            expectError(try await profile(["fees": ["video": 10.5], "currency": "JPY"]), .badRequest, detailsContain: "decimals")
            expectError(try await profile(["currency": "USD"]), .badRequest, detailsContain: "needs the fees")
            expectError(try await profile(["currency": "XXQ", "fees": ["video": 5]]), .badRequest, detailsContain: "ISO 4217")
            let saved = try await profile(["fees": ["video": 45.5, "home": 150], "currency": "gbp"])
            #expect(saved.json["doctor"]?["doctor_profile"]?["fees"] == .object(["video": .number(45.5), "home": .number(150)]), "\(saved.text)")
            #expect(saved.json["doctor"]?["doctor_profile"]?["currency"]?.string == "GBP")
            // a patient cannot set a doctor's fee
            expectError(try await client.request(.put, "/api/v1/doctors/\(clinic.doctor.id)", token: clinic.patient.token, json: ["fees": ["video": 1]]), .forbidden)
            let slots = try await client.request(
                .get, "/api/v1/availabilities/slots?doctorId=\(clinic.doctor.id)&date=\(clinic.date)&consultationType=chat", token: clinic.patient.token
            )
            #expect(slots.json["fee"]?.isNull == true, "no chat fee any more")
            expectError(try await clinic.book(client, start: "09:00:00", end: "09:30:00", type: "chat"), .conflict, detailsContain: "book one of: home, video")
            let booked = try await clinic.book(client, start: "09:00:00", end: "09:30:00")
            #expect(booked.json["appointment"]?["fee"] == .object(["amount": .number(45.5), "currency": .string("GBP")]))
            let id = try #require(booked.json["appointment"]?["id"]?.string)
            // the doctor raises his fee afterwards: the booking keeps its price
            _ = try await profile(["fees": ["video": 80, "home": 150]])
            func pay(_ amount: Double, _ currency: String) async throws -> TestResponse {
                try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: [
                    "appointment_id": id, "amount": amount, "currency": currency, "payment_method": "bank_transfer",
                ])
            }
            expectError(try await pay(80, "GBP"), .badRequest, detailsContain: "costs 45.50 GBP")
            expectError(try await pay(45.5, "EUR"), .badRequest, detailsContain: "currency GBP")
            #expect(try await pay(45.5, "GBP").status == .created)
            // changing the type of an unpaid booking takes the new type's fee
            let other = try await clinic.bookId(client, start: "10:00:00", end: "10:30:00")
            let changed = try await client.request(.put, "/api/v1/appointments/\(other)", token: clinic.patient.token, json: ["consultation_type": "home"])
            #expect(changed.json["appointment"]?["fee"] == .object(["amount": .number(150), "currency": .string("GBP")]), "\(changed.text)")
        }
    }

    @Test("Attack 3: a payment of 0.01 is refused; a Stripe success for another amount than the fee leaves the appointment unpaid")
    func stripeAmountMustMatch() async throws {
        let secret = "whsec_amounts"
        try await FakeStripe.run { base, stripe in
            try await withApp(configure: { $0.stripeSecretKey = "sk_test_amounts"; $0.stripeAPIBase = base; $0.stripeWebhookSecret = secret }) { client, _ in
                let clinic = try await Clinic.make(client)
                let id = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
                func pay(_ amount: Double) async throws -> TestResponse {
                    try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: [
                        "appointment_id": id, "amount": amount, "currency": "eur", "payment_method": "card",
                    ])
                }
                expectError(try await pay(0.01), .badRequest, detailsContain: "This consultation costs 60.00 EUR")
                #expect(stripe.received.isEmpty, "nothing reached Stripe")
                let created = try await pay(60)
                let paymentId = try #require(created.json["paymentId"]?.string, "\(created.text)")
                let intent = try #require(created.json["paymentIntentId"]?.string)
                #expect(stripe.received.first?.form["amount"] == "6000", "the PaymentIntent is created for the fee")
                func hook(_ id: String, received: Int, currency: String = "eur") async throws -> TestResponse {
                    let event = #"{"id":"\#(id)","type":"payment_intent.succeeded","data":{"object":{"id":"\#(intent)","amount":6000,"amount_received":\#(received),"currency":"\#(currency)","metadata":{"payment_id":"\#(paymentId)"}}}}"#
                    return try await client.request(.post, "/api/v1/payments/webhook", rawBody: event, headers: [.init("Stripe-Signature")!: stripeSignature(event, secret: secret)])
                }
                #expect(try await hook("evt_short", received: 1).status == .ok)
                #expect(try await hook("evt_currency", received: 6000, currency: "usd").status == .ok)
                let payment = try await client.request(.get, "/api/v1/payments/\(paymentId)", token: clinic.admin).json["payment"]
                #expect(payment?["status"]?.string == "pending", "\(String(describing: payment))")
                #expect(payment?["error_message"]?.string?.contains("not the fee of 60.00 EUR") == true)
                let unpaid = try await client.request(.get, "/api/v1/appointments/\(id)", token: clinic.admin)
                #expect(unpaid.json["appointment"]?["status"]?.string == "pending_payment")
                #expect(try await hook("evt_exact", received: 6000).status == .ok)
                #expect(try await client.request(.get, "/api/v1/appointments/\(id)", token: clinic.admin).json["appointment"]?["status"]?.string == "payment_completed")
            }
        }
    }

    @Test("A payment for a cancelled appointment: confirming it is 409; money that still arrives (webhook) is refunded, and the webhook answers 200")
    func cancelledAppointmentPayments() async throws {
        let secret = "whsec_cancelled"
        try await FakeStripe.run { base, stripe in
            try await withApp(configure: { $0.stripeSecretKey = "sk_test_cancelled"; $0.stripeAPIBase = base; $0.stripeWebhookSecret = secret }) { client, _ in
                let clinic = try await Clinic.make(client)
                // pay at the clinic: the patient cancels before the desk confirms the transfer
                let manual = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
                let transfer = try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: [
                    "appointment_id": manual, "amount": 60, "currency": "eur", "payment_method": "bank_transfer",
                ])
                let transferId = try #require(transfer.json["paymentId"]?.string)
                #expect(try await client.request(.put, "/api/v1/appointments/\(manual)", token: clinic.patient.token, json: ["status": "cancelled"]).status == .ok)
                expectError(try await client.request(.post, "/api/v1/payments/\(transferId)/confirm", token: clinic.admin, json: [:] as JSONObject), .conflict, detailsContain: "cancelled")
                expectError(try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: [
                    "appointment_id": manual, "amount": 60, "currency": "eur", "payment_method": "bank_transfer",
                ]), .conflict, detailsContain: "cancelled")

                // by card: cancelled while Stripe was charging; the success webhook refunds it
                let card = try await clinic.bookId(client, start: "10:00:00", end: "10:30:00")
                let created = try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: [
                    "appointment_id": card, "amount": 60, "currency": "eur", "payment_method": "card",
                ])
                let paymentId = try #require(created.json["paymentId"]?.string)
                let intent = try #require(created.json["paymentIntentId"]?.string)
                #expect(try await client.request(.put, "/api/v1/appointments/\(card)", token: clinic.patient.token, json: ["status": "cancelled"]).status == .ok)
                let event = #"{"id":"evt_after_cancel","type":"payment_intent.succeeded","data":{"object":{"id":"\#(intent)","amount":6000,"amount_received":6000,"currency":"eur","metadata":{"payment_id":"\#(paymentId)"}}}}"#
                let hook = try await client.request(.post, "/api/v1/payments/webhook", rawBody: event, headers: [.init("Stripe-Signature")!: stripeSignature(event, secret: secret)])
                #expect(hook.status == .ok, "\(hook.text)")
                let payment = try await client.request(.get, "/api/v1/payments/\(paymentId)", token: clinic.admin).json["payment"]
                #expect(payment?["status"]?.string == "refunded", "\(String(describing: payment))")
                #expect(payment?["refund_reason"]?.string == "appointment_cancelled")
                #expect(stripe.received.contains { $0.path == "/v1/refunds" && $0.form["payment_intent"] == intent && $0.form["amount"] == "6000" })
                #expect(try await client.request(.get, "/api/v1/appointments/\(card)", token: clinic.admin).json["appointment"]?["status"]?.string == "cancelled")
            }
        }
    }
}
