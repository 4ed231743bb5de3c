import Foundation
import HTTPTypes
import HummingbirdTesting
import SOSDomain
import Testing

@testable import SOSServer

@Suite("Availability: rules, recurrence, free slots")
struct AvailabilityTests {
    static let keys: Set<String> = [
        "id", "user_id", "start_date", "end_date", "start_time", "end_time", "is_recurring", "recurrence", "recurrence_days",
        "recurrence_end_date", "consultation_types", "created_at", "updated_at",
    ]

    @Test("Doctors manage their own rules, secretaries their doctors', admins anyone's; others are refused")
    func permissions() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let body: JSONObject = ["start_date": Clinic.day(offset: 10), "start_time": "09:00:00", "end_time": "10:00:00"]
            let own = try await client.request(.post, "/api/v1/availabilities", token: clinic.doctor.token, json: body)
            #expect(own.status == .created)
            #expect(own.json.keys == ["message", "availability"])
            #expect(own.json["availability"]?.keys == Self.keys)
            #expect(own.json["availability"]?["end_date"]?.string == Clinic.day(offset: 10), "end_date defaults to start_date")
            #expect(own.json["availability"]?["consultation_types"]?.array?.count == 4, "all consultation types by default")
            let id = try #require(own.json["availability"]?["id"]?.string)
            var forDoctor = body
            forDoctor["user_id"] = clinic.doctor.id
            #expect(try await client.request(.post, "/api/v1/availabilities", token: clinic.secretary.token, json: forDoctor).status == .created)
            #expect(try await client.request(.post, "/api/v1/availabilities", token: clinic.admin, json: forDoctor).status == .created)
            expectError(try await client.request(.post, "/api/v1/availabilities", token: clinic.otherDoctor.token, json: forDoctor), .forbidden)
            var forOther = body
            forOther["user_id"] = clinic.otherDoctor.id
            expectError(try await client.request(.post, "/api/v1/availabilities", token: clinic.secretary.token, json: forOther), .forbidden)
            expectError(try await client.request(.post, "/api/v1/availabilities", token: clinic.patient.token, json: body), .forbidden)
            expectError(try await client.request(.put, "/api/v1/availabilities/\(id)", token: clinic.otherDoctor.token, json: ["end_time": "11:00:00"]), .notFound)
            expectError(try await client.request(.delete, "/api/v1/availabilities/\(id)", token: clinic.patient.token), .notFound)
            let updated = try await client.request(.put, "/api/v1/availabilities/\(id)", token: clinic.secretary.token, json: ["end_time": "11:00:00", "consultation_types": ["home"]])
            #expect(updated.status == .ok, "\(updated.text)")
            #expect(updated.json["availability"]?["end_time"]?.string == "11:00:00")
            #expect(updated.json["availability"]?["consultation_types"] == .array([.string("home")]))
            #expect(try await client.request(.get, "/api/v1/availabilities/\(id)", token: clinic.patient.token).status == .ok)
            #expect(try await client.request(.delete, "/api/v1/availabilities/\(id)", token: clinic.doctor.token).status == .ok)
            expectError(try await client.request(.get, "/api/v1/availabilities/\(id)", token: clinic.doctor.token), .notFound)
        }
    }

    @Test("Rule input is checked: times, dates, enums, recurrence")
    func validation() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let path = "/api/v1/availabilities"
            let day = Clinic.day(offset: 10)
            expectError(try await client.request(.post, path, token: clinic.doctor.token, json: ["start_date": day, "start_time": "10:00:00", "end_time": "09:00:00"]), .badRequest, detailsContain: "end_time")
            expectError(try await client.request(.post, path, token: clinic.doctor.token, json: ["start_date": day, "end_date": Clinic.day(offset: 9), "start_time": "09:00:00", "end_time": "10:00:00"]), .badRequest, detailsContain: "end_date")
            expectError(try await client.request(.post, path, token: clinic.doctor.token, json: ["start_date": day, "start_time": "09:00:00"]), .badRequest, detailsContain: "required")
            expectError(try await client.request(.post, path, token: clinic.doctor.token, json: ["start_date": day, "start_time": "09:00:00", "end_time": "10:00:00", "consultation_types": ["fax"]]), .badRequest, detailsContain: "home, online")
            expectError(try await client.request(.post, path, token: clinic.doctor.token, json: ["start_date": day, "start_time": "09:00:00", "end_time": "10:00:00", "consultation_types": []]), .badRequest, detailsContain: "at least one")
            expectError(try await client.request(.post, path, token: clinic.doctor.token, json: ["start_date": day, "start_time": "09:00:00", "end_time": "10:00:00", "is_recurring": true, "recurrence": "hourly"]), .badRequest, detailsContain: "daily, weekly")
            expectError(try await client.request(.post, path, token: clinic.doctor.token, json: ["start_date": day, "start_time": "09:00:00", "end_time": "10:00:00", "recurrence_days": ["funday"]]), .badRequest)
            expectError(try await client.request(.get, "\(path)?startDate=\(day)&endDate=\(Clinic.day(offset: 1))", token: clinic.doctor.token), .badRequest)
            expectError(try await client.request(.get, "\(path)?consultationType=fax", token: clinic.doctor.token), .badRequest)
        }
    }

    @Test("Weekly recurrence: slots appear on the chosen weekdays only, until the recurrence end date")
    func weeklyRecurrence() async throws {
        try await withApp { client, _ in
            let doctor = try await client.makeUser(role: "doctor")
            _ = try await client.request(.post, "/api/v1/doctors", token: doctor.token, json: ["specialisation": "GP", "is_listed": true])
            let patient = try await client.makeUser(role: "patient")
            // step: find the next Monday at least two days ahead
            var offset = 2
            while LocalDate(Clinic.day(offset: offset))!.weekday != .monday { offset += 1 }
            let monday = Clinic.day(offset: offset)
            let rule = try await client.request(.post, "/api/v1/availabilities", token: doctor.token, json: [
                "start_date": monday, "start_time": "09:00:00", "end_time": "10:00:00", "is_recurring": true, "recurrence": "weekly",
                "recurrence_days": ["monday", "wednesday"], "recurrence_end_date": Clinic.day(offset: offset + 9), "consultation_types": ["video"],
            ])
            #expect(rule.status == .created, "\(rule.text)")
            #expect(rule.json["availability"]?["recurrence_days"] == .array([.string("monday"), .string("wednesday")]))
            func slots(_ dayOffset: Int, type: String = "video") async throws -> [String] {
                let response = try await client.request(.get, "/api/v1/availabilities/slots?doctorId=\(doctor.id)&date=\(Clinic.day(offset: dayOffset))&consultationType=\(type)", token: patient.token)
                #expect(response.status == .ok, "\(response.text)")
                return response.json["slots"]?.array?.compactMap { $0["start_time"]?.string } ?? []
            }
            #expect(try await slots(offset) == ["09:00:00", "09:30:00"])
            #expect(try await slots(offset + 1).isEmpty, "Tuesday")
            #expect(try await slots(offset + 2) == ["09:00:00", "09:30:00"], "Wednesday")
            #expect(try await slots(offset + 7) == ["09:00:00", "09:30:00"], "next Monday")
            #expect(try await slots(offset + 14).isEmpty, "after the recurrence end date")
            #expect(try await slots(offset, type: "home").isEmpty, "other consultation types")
            let listed = try await client.request(.get, "/api/v1/availabilities?doctorId=\(doctor.id)&startDate=\(Clinic.day(offset: offset + 5))&endDate=\(Clinic.day(offset: offset + 6))", token: patient.token)
            #expect(listed.json["availabilities"]?.array?.count == 1, "a recurring rule is listed for ranges it can occur in")
            let outside = try await client.request(.get, "/api/v1/availabilities?doctorId=\(doctor.id)&startDate=\(Clinic.day(offset: offset + 30))", token: patient.token)
            #expect(outside.json["availabilities"]?.array?.isEmpty == true)
        }
    }

    @Test("Free slots: rules minus bookings, in the doctor's time zone, with a duration; cancelled bookings free their slot")
    func slots() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client, timeZone: "Asia/Tokyo")
            let path = "/api/v1/availabilities/slots?doctorId=\(clinic.doctor.id)&date=\(clinic.date)&consultationType=video"
            let before = try await client.request(.get, path, token: clinic.patient.token)
            #expect(before.json.keys == ["doctorId", "date", "timeZone", "consultationType", "duration", "slots", "fee"])
            #expect(before.json["fee"] == .object(["amount": .number(60), "currency": .string("EUR")]))
            #expect(before.json["timeZone"]?.string == "Asia/Tokyo")
            #expect(before.json["slots"]?.array?.count == 20)
            let first = before.json["slots"]?[0]
            #expect(first?["start_time"]?.string == "08:00:00")
            #expect(first?["start"]?.string == "\(Clinic.day(offset: 1))T23:00:00.000Z", "08:00 in Tokyo is 23:00 UTC the day before")
            let id = try await clinic.bookId(client, start: "08:15:00", end: "09:00:00")
            let after = try await client.request(.get, path, token: clinic.patient.token)
            let starts = after.json["slots"]?.array?.compactMap { $0["start_time"]?.string } ?? []
            #expect(!starts.contains("08:00:00") && !starts.contains("08:30:00") && starts.contains("09:00:00"))
            #expect(starts.count == 18)
            let hourly = try await client.request(.get, path + "&duration=60", token: clinic.patient.token)
            #expect(hourly.json["slots"]?.array?.compactMap { $0["start_time"]?.string }.prefix(2) == ["09:00:00", "10:00:00"])
            _ = try await client.request(.put, "/api/v1/appointments/\(id)", token: clinic.patient.token, json: ["status": "cancelled"])
            #expect(try await client.request(.get, path, token: clinic.patient.token).json["slots"]?.array?.count == 20)
            expectError(try await client.request(.get, path + "&duration=2", token: clinic.patient.token), .badRequest, detailsContain: "duration")
            expectError(try await client.request(.get, "/api/v1/availabilities/slots?date=\(clinic.date)", token: clinic.patient.token), .badRequest, detailsContain: "doctorId")
            expectError(try await client.request(.get, "/api/v1/availabilities/slots?doctorId=\(clinic.doctor.id)", token: clinic.patient.token), .badRequest, detailsContain: "date")
            expectError(try await client.request(.get, "/api/v1/availabilities/slots?doctorId=\(UUID().uuidString)&date=\(clinic.date)", token: clinic.patient.token), .notFound)
            let past = try await client.request(.get, "/api/v1/availabilities/slots?doctorId=\(clinic.doctor.id)&date=\(Clinic.day(offset: -3))", token: clinic.patient.token)
            #expect(past.json["slots"]?.array?.isEmpty == true)
        }
    }
}
