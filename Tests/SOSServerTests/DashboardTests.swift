import Foundation
import HTTPTypes
import HummingbirdTesting
import SOSDomain
import Testing

@testable import SOSServer

@Suite("Admin dashboard: stats, recent activity, analytics equal the rows")
struct DashboardTests {
    /// Creates payments in several currencies and statuses; returns the ids by label.
    func seedPayments(_ client: some TestClientProtocol, _ clinic: Clinic) async throws -> [String: String] {
        var ids: [String: String] = [:]
        let plan: [(String, String, Double, String, String)] = [
            // label, start, amount, currency, final state
            ("usd-paid", "09:00:00", 100, "usd", "succeeded"),
            ("usd-partial", "09:30:00", 50, "usd", "partial"),
            ("usd-refunded", "10:00:00", 20, "usd", "refunded"),
            ("eur-paid", "10:30:00", 80, "eur", "succeeded"),
            ("jpy-pending", "11:00:00", 5000, "jpy", "pending"),
            ("usd-failed", "11:30:00", 30, "usd", "failed"),
        ]
        for (label, start, amount, currency, state) in plan {
            let end = start.hasSuffix("30:00") ? String(format: "%02d:00:00", Int(start.prefix(2))! + 1) : String(start.prefix(3)) + "30:00"
            // step: the doctor's fee decides the payment's amount and currency; it is fixed at booking
            let fee = try await client.request(.put, "/api/v1/doctors/\(clinic.doctor.id)", token: clinic.admin, json: ["fees": ["video": amount], "currency": currency])
            #expect(fee.status == .ok, "\(fee.text)")
            let appointment = try await clinic.bookId(client, start: start, end: end)
            let created = try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: [
                "appointment_id": appointment, "amount": amount, "currency": currency, "payment_method": "bank_transfer",
            ])
            let id = try #require(created.json["paymentId"]?.string, "\(created.text)")
            ids[label] = id
            switch state {
            case "succeeded", "partial", "refunded":
                _ = try await client.request(.post, "/api/v1/payments/\(id)/confirm", token: clinic.admin)
                if state == "partial" { _ = try await client.request(.post, "/api/v1/payments/\(id)/refund", token: clinic.admin, json: ["amount": 15]) }
                if state == "refunded" { _ = try await client.request(.post, "/api/v1/payments/\(id)/refund", token: clinic.admin) }
            case "failed":
                _ = try await client.request(.post, "/api/v1/payments/\(id)/cancel", token: clinic.patient.token)
            default:
                break
            }
        }
        return ids
    }

    @Test("stats counts objects by their current status; revenue is the money kept, per currency")
    func stats() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            _ = try await self.seedPayments(client, clinic)
            let completed = try await clinic.completedAppointment(client, start: "14:00:00", end: "14:30:00")
            _ = completed
            _ = try await client.request(.post, "/api/v1/medical-records", token: clinic.doctor.token, json: ["user_id": clinic.patient.id, "record_type": "note", "title": "A"])
            _ = try await client.request(.post, "/api/v1/medical-records", token: clinic.doctor.token, json: ["user_id": clinic.patient.id, "record_type": "note", "title": "B", "is_shared_with_patient": false])
            let blocked = try await client.makeUser(role: "patient")
            _ = try await client.request(.put, "/api/v1/users/\(blocked.id)", token: clinic.admin, json: ["is_status": "blocked"])
            let response = try await client.request(.get, "/api/v1/admin/dashboard/stats", token: clinic.secretary.token)
            #expect(response.status == .ok, "\(response.text)")
            let stats = try #require(response.json["stats"])
            // users: admin + 2 doctors + secretary + 2 patients + blocked one
            #expect(stats["users"] == .object(["total": .number(7), "active": .number(6), "blocked": .number(1), "pending": .number(0)]))
            #expect(stats["doctors"] == .object(["total": .number(2), "listed": .number(2), "unlisted": .number(0)]))
            // appointments: 6 paid-for (4 payment_completed, 1 pending_payment, 1 payment_failed) + 1 completed
            #expect(stats["appointments"] == .object(["total": .number(7), "confirmed": .number(0), "completed": .number(1), "cancelled": .number(0), "pending": .number(1)]))
            let payments = try #require(stats["payments"])
            #expect(payments["successful"]?.int == 2)
            #expect(payments["failed"]?.int == 1)
            #expect(payments["refunded"]?.int == 2, "refunded counts both refund states")
            #expect(payments["currency"]?.string == "USD")
            #expect(payments["totalRevenue"]?.number == 135, "100 kept + 50 - 15 partially refunded; the refunded 20 is gone")
            #expect(payments["revenueByCurrency"] == .object(["USD": .number(135), "EUR": .number(80)]))
            #expect(stats["medicalRecords"] == .object(["total": .number(2), "shared": .number(1), "private": .number(1)]))
            expectError(try await client.request(.get, "/api/v1/admin/dashboard/stats", token: clinic.patient.token), .forbidden)
            expectError(try await client.request(.get, "/api/v1/admin/dashboard/stats", token: clinic.doctor.token), .forbidden)
        }
    }

    @Test("analytics buckets every payment by creation date; summary equals the sum of the buckets")
    func analytics() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            _ = try await self.seedPayments(client, clinic)
            let today = Clinic.day(offset: 0)
            let response = try await client.request(.get, "/api/v1/admin/dashboard/analytics?period=day&startDate=\(Clinic.day(offset: -2))&endDate=\(today)", token: clinic.admin)
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.json.keys == ["data", "summary", "period", "dateRange"])
            #expect(response.json["period"]?.string == "day")
            #expect(response.json["dateRange"]?["start"]?.string == "\(Clinic.day(offset: -2))T00:00:00.000Z")
            #expect(response.json["dateRange"]?["end"]?.string == "\(today)T23:59:59.999Z")
            let buckets = response.json["data"]?.array ?? []
            #expect(buckets.count == 1)
            let bucket = try #require(buckets.first)
            #expect(bucket["date"]?.string == today)
            #expect(bucket["count"]?.int == 6)
            #expect(bucket["successful"]?.int == 1 + 1, "usd-paid and eur-paid are still succeeded")
            #expect(bucket["failed"]?.int == 1)
            #expect(bucket["pending"]?.int == 1)
            #expect(bucket["totalAmount"]?.number == 5280.0, "100 + 50 + 20 + 80 + 5000 + 30, every status")
            #expect(bucket["averageAmount"]?.number == ((5280.0 / 6) * 1000).rounded() / 1000)
            #expect(bucket["currencies"] == .object([
                "USD": .object(["total": .number(200), "count": .number(4)]),
                "EUR": .object(["total": .number(80), "count": .number(1)]),
                "JPY": .object(["total": .number(5000), "count": .number(1)]),
            ]))
            let summary = try #require(response.json["summary"])
            #expect(summary["totalPayments"]?.int == 6)
            #expect(summary["totalAmount"] == bucket["totalAmount"])
            #expect(summary["successfulPayments"]?.int == 2 && summary["failedPayments"]?.int == 1 && summary["pendingPayments"]?.int == 1)
            #expect(summary["averagePayment"] == bucket["averageAmount"])
            #expect(summary["currencies"] == bucket["currencies"])
            for period in ["week", "month", "year"] {
                let other = try await client.request(.get, "/api/v1/admin/dashboard/analytics?period=\(period)", token: clinic.admin)
                #expect(other.json["data"]?.array?.count == 1, "\(period)")
                #expect(other.json["summary"]?["totalPayments"]?.int == 6)
            }
            let monthKey = String(today.prefix(7))
            #expect(try await client.request(.get, "/api/v1/admin/dashboard/analytics", token: clinic.admin).json["data"]?[0]?["date"]?.string == monthKey, "default period is month")
            let empty = try await client.request(.get, "/api/v1/admin/dashboard/analytics?startDate=2020-01-01&endDate=2020-01-31", token: clinic.admin)
            #expect(empty.json["data"]?.array?.isEmpty == true && empty.json["summary"]?["totalPayments"]?.int == 0)
            expectError(try await client.request(.get, "/api/v1/admin/dashboard/analytics?period=hour", token: clinic.admin), .badRequest, detailsContain: "day, week, month, year")
            expectError(try await client.request(.get, "/api/v1/admin/dashboard/analytics?startDate=\(today)&endDate=2020-01-01", token: clinic.admin), .badRequest)
            expectError(try await client.request(.get, "/api/v1/admin/dashboard/analytics", token: clinic.patient.token), .forbidden)
        }
    }

    @Test("recent-activity lists the newest users, appointments and payments in the seed's shapes; limit at most 50")
    func recentActivity() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            _ = try await self.seedPayments(client, clinic)
            let response = try await client.request(.get, "/api/v1/admin/dashboard/recent-activity?limit=3", token: clinic.admin)
            #expect(response.status == .ok)
            #expect(response.json.keys == ["recentUsers", "recentAppointments", "recentPayments"])
            #expect(response.json["recentUsers"]?.array?.count == 3)
            #expect(response.json["recentUsers"]?[0]?.keys == ["id", "name", "email", "phone", "role", "created_at", "updated_at"])
            #expect(response.json["recentUsers"]?[0]?["name"]?.string == "Otto Visitor", "newest first")
            let appointment = try #require(response.json["recentAppointments"]?[0])
            #expect(appointment.keys == ["id", "user_id", "doctor_id", "date", "start_time", "end_time", "status", "consultation_type", "symptoms",
                                         "additional_note", "visit_location", "created_at", "updated_at", "patient", "doctor"])
            #expect(appointment["patient"] == .object(["name": .string("Paula Tourist"), "email": appointment["patient"]?["email"] ?? .null]))
            let payment = try #require(response.json["recentPayments"]?[0])
            #expect(payment.keys == ["id", "appointment_id", "user_id", "amount", "currency", "status", "payment_method", "stripe_payment_intent_id",
                                     "paid_at", "created_at", "updated_at", "user"])
            #expect(payment["amount"]?.number == 30 && payment["status"]?.string == "failed")
            let clamped = try await client.request(.get, "/api/v1/admin/dashboard/recent-activity?limit=51", token: clinic.admin)
            #expect(clamped.json["recentUsers"]?.array?.count == 6, "every user of the clinic: the limit is clamped to 50, not refused")
            expectError(try await client.request(.get, "/api/v1/admin/dashboard/recent-activity?limit=0", token: clinic.admin), .badRequest)
            expectError(try await client.request(.get, "/api/v1/admin/dashboard/recent-activity", token: clinic.doctor.token), .forbidden)
        }
    }
}
