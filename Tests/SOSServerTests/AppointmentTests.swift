import Foundation
import HTTPTypes
import HummingbirdTesting
import SOSDomain
import Testing

@testable import SOSServer

@Suite("Appointments: booking, visibility, state machine, filters")
struct AppointmentTests {
    @Test("A patient books (201, seed shape); lists and details show nested patient and doctor")
    func bookAndRead() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let booked = try await clinic.book(client, start: "09:00:00", end: "09:30:00", extra: [
                "symptoms": ["fever", "rash"], "additional_note": "Staying at Hotel Sol", "visit_location": ["lat": 40.4, "lng": -3.7],
            ])
            #expect(booked.status == .created, "\(booked.text)")
            #expect(booked.json.keys == ["message", "appointment"])
            let appointment = booked.json["appointment"]
            expectAppointmentShape(appointment, detailed: false)
            #expect(appointment?["status"]?.string == "pending_payment")
            #expect(appointment?["user_id"]?.string == clinic.patient.id)
            #expect(appointment?["symptoms"] == .array([.string("fever"), .string("rash")]))
            #expect(appointment?["visit_location"] == .object(["lat": .number(40.4), "lng": .number(-3.7)]))
            let id = try #require(appointment?["id"]?.string)

            let list = try await client.request(.get, "/api/v1/appointments", token: clinic.patient.token)
            #expect(list.json.keys == ["appointments", "pagination"])
            expectAppointmentShape(list.json["appointments"]?[0], detailed: true)
            #expect(list.json["appointments"]?[0]?["doctor"]?["doctor_profiles"]?[0]?["specialisation"]?.string == "General practice")
            let detail = try await client.request(.get, "/api/v1/appointments/\(id)", token: clinic.patient.token)
            #expect(detail.json.keys == ["appointment"])
            expectAppointmentShape(detail.json["appointment"], detailed: true)
            #expect(detail.json["appointment"]?["patient"]?["name"]?.string == "Paula Tourist")
        }
    }

    @Test("Each side sees only its own: patient, doctor, the doctor's secretary, admins; others get 404")
    func visibility() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let id = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            for token in [clinic.patient.token, clinic.doctor.token, clinic.secretary.token, clinic.admin] {
                #expect(try await client.request(.get, "/api/v1/appointments/\(id)", token: token).status == .ok)
                #expect(try await client.request(.get, "/api/v1/appointments", token: token).json["pagination"]?["total"]?.int == 1)
            }
            for token in [clinic.otherPatient.token, clinic.otherDoctor.token] {
                let response = try await client.request(.get, "/api/v1/appointments/\(id)", token: token)
                expectError(response, .notFound)
                #expect(!response.text.contains("Paula"))
                #expect(try await client.request(.get, "/api/v1/appointments", token: token).json["pagination"]?["total"]?.int == 0)
                expectError(try await client.request(.put, "/api/v1/appointments/\(id)", token: token, json: ["status": "cancelled"]), .notFound)
                expectError(try await client.request(.delete, "/api/v1/appointments/\(id)", token: token), .notFound)
            }
            let guest = try await client.makeUser(role: "guest")
            expectError(try await client.request(.get, "/api/v1/appointments", token: guest.token), .forbidden)
            expectError(try await client.request(.get, "/api/v1/appointments/all", token: clinic.patient.token), .forbidden)
            expectError(try await client.request(.get, "/api/v1/appointments/all", token: clinic.doctor.token), .forbidden)
            #expect(try await client.request(.get, "/api/v1/appointments/all", token: clinic.admin).json["pagination"]?["total"]?.int == 1)
            #expect(try await client.request(.get, "/api/v1/appointments/all", token: clinic.secretary.token).json["pagination"]?["total"]?.int == 1)
            expectError(try await client.request(.get, "/api/v1/appointments?userId=\(clinic.patient.id)", token: clinic.patient.token), .forbidden)
            #expect(try await client.request(.get, "/api/v1/appointments?userId=\(clinic.patient.id)", token: clinic.admin).json["pagination"]?["total"]?.int == 1)
            #expect(try await client.request(.get, "/api/v1/appointments?userId=\(clinic.otherPatient.id)", token: clinic.admin).json["pagination"]?["total"]?.int == 0)
        }
    }

    @Test("Overlaps are 409; back-to-back bookings are fine; a cancelled booking frees its slot")
    func overlaps() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let first = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            expectError(try await clinic.book(client, start: "09:15:00", end: "09:45:00"), .conflict, detailsContain: "overlapping")
            expectError(try await clinic.book(client, start: "08:45:00", end: "09:01:00", token: clinic.otherPatient.token), .conflict)
            expectError(try await clinic.book(client, start: "08:00:00", end: "12:00:00", token: clinic.otherPatient.token), .conflict)
            #expect(try await clinic.book(client, start: "09:30:00", end: "10:00:00", token: clinic.otherPatient.token).status == .created)
            #expect(try await clinic.book(client, start: "08:30:00", end: "09:00:00", token: clinic.otherPatient.token).status == .created)
            #expect(try await clinic.book(client, start: "09:00:00", end: "09:30:00", doctorId: clinic.otherDoctor.id).status == .created, "other doctors are independent")
            let cancel = try await client.request(.put, "/api/v1/appointments/\(first)", token: clinic.patient.token, json: ["status": "cancelled"])
            #expect(cancel.status == .ok)
            #expect(try await clinic.book(client, start: "09:00:00", end: "09:30:00", token: clinic.otherPatient.token).status == .created)
            // rescheduling into a taken slot is refused, and nothing changes
            let moving = try await clinic.bookId(client, start: "11:00:00", end: "11:30:00")
            expectError(try await client.request(.put, "/api/v1/appointments/\(moving)", token: clinic.patient.token, json: ["start_time": "09:10:00", "end_time": "09:40:00"]), .conflict)
            let unchanged = try await client.request(.get, "/api/v1/appointments/\(moving)", token: clinic.patient.token)
            #expect(unchanged.json["appointment"]?["start_time"]?.string == "11:00:00")
            let moved = try await client.request(.put, "/api/v1/appointments/\(moving)", token: clinic.patient.token, json: ["start_time": "12:00:00", "end_time": "12:30:00"])
            #expect(moved.status == .ok)
            #expect(moved.json["appointment"]?["start_time"]?.string == "12:00:00")
        }
    }

    @Test("Parallel bookings of one slot: exactly one wins, the rest get 409")
    func concurrentBookings() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            var patients: [String] = []
            for index in 0..<8 {
                patients.append(try await client.makeUser(role: "patient", email: "racer\(index)@example.com").token)
            }
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for token in patients {
                    group.addTask { try await clinic.book(client, start: "14:00:00", end: "14:30:00", token: token).status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1, "\(statuses.map(\.code))")
            #expect(statuses.filter { $0 == .conflict }.count == 7, "\(statuses.map(\.code))")
            let booked = try await client.request(.get, "/api/v1/appointments?limit=100", token: clinic.doctor.token)
            #expect(booked.json["pagination"]?["total"]?.int == 1)
        }
    }

    @Test("Booking input is checked: times, dates, enums, doctors, availability, the future, who books for whom")
    func bookingValidation() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            expectError(try await clinic.book(client, start: "10:00:00", end: "10:00:00"), .badRequest, detailsContain: "end_time")
            expectError(try await clinic.book(client, start: "10:00:00", end: "09:00:00"), .badRequest, detailsContain: "end_time")
            expectError(try await clinic.book(client, start: "10:00", end: "10:30:00"), .badRequest, detailsContain: "HH:MM:SS")
            expectError(try await clinic.book(client, start: "25:00:00", end: "25:30:00"), .badRequest, detailsContain: "HH:MM:SS")
            expectError(try await clinic.book(client, start: "10:00:00", end: "10:30:00", date: "2026-02-30"), .badRequest, detailsContain: "YYYY-MM-DD")
            expectError(try await clinic.book(client, start: "10:00:00", end: "10:30:00", type: "teleport"), .badRequest, detailsContain: "home, online, chat, video")
            expectError(try await clinic.book(client, start: "10:00:00", end: "10:30:00", date: Clinic.day(offset: -1)), .badRequest, detailsContain: "future")
            expectError(try await clinic.book(client, start: "10:00:00", end: "10:30:00", doctorId: UUID().uuidString), .notFound)
            expectError(try await clinic.book(client, start: "10:00:00", end: "10:30:00", doctorId: clinic.patient.id), .notFound)
            expectError(try await clinic.book(client, start: "19:00:00", end: "19:30:00"), .conflict, detailsContain: "not available")
            expectError(try await clinic.book(client, start: "10:00:00", end: "10:30:00", date: Clinic.day(offset: 20)), .conflict, detailsContain: "not available")
            expectError(try await clinic.book(client, start: "10:00:00", end: "10:30:00", extra: ["user_id": clinic.otherPatient.id]), .forbidden)
            expectError(try await clinic.book(client, start: "10:00:00", end: "10:30:00", extra: ["symptoms": "fever"]), .badRequest, detailsContain: "symptoms")
            expectError(try await client.request(.post, "/api/v1/appointments", token: clinic.patient.token, json: ["doctor_id": clinic.doctor.id]), .badRequest, detailsContain: "required")
            expectError(try await client.request(.post, "/api/v1/appointments", token: clinic.patient.token, rawBody: "{\"doctor_id\":"), .badRequest)
            expectError(try await clinic.book(client, start: "10:00:00", end: "10:30:00", token: clinic.admin), .badRequest, detailsContain: "user_id")
            // staff may book for a patient, even outside the published availability
            let byDesk = try await clinic.book(client, start: "19:00:00", end: "19:30:00", token: clinic.secretary.token, extra: ["user_id": clinic.patient.id])
            #expect(byDesk.status == .created, "\(byDesk.text)")
            expectError(try await clinic.book(client, start: "10:00:00", end: "10:30:00", token: clinic.secretary.token, doctorId: clinic.otherDoctor.id,
                                              extra: ["user_id": clinic.patient.id]), .forbidden)
            expectError(try await clinic.book(client, start: "10:00:00", end: "10:30:00", token: clinic.admin, extra: ["user_id": clinic.doctor.id]), .notFound)
            #expect(try await client.request(.get, "/api/v1/appointments", token: clinic.patient.token).json["pagination"]?["total"]?.int == 1)
        }
    }

    @Test("Status follows the state machine and the actor: patients never mark payments; completed is final")
    func stateMachine() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let id = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            let path = "/api/v1/appointments/\(id)"
            expectError(try await client.request(.put, path, token: clinic.patient.token, json: ["status": "payment_completed"]), .forbidden)
            // only clinic staff confirm an unpaid booking (to be paid at the clinic); the doctor cannot
            expectError(try await client.request(.put, path, token: clinic.doctor.token, json: ["status": "confirmed"]), .forbidden, detailsContain: "pending_payment")
            expectError(try await client.request(.put, path, token: clinic.admin, json: ["status": "finished"]), .badRequest, detailsContain: "pending_payment")
            try await clinic.move(client, id, through: ["payment_completed"])
            let confirmed = try await client.request(.put, path, token: clinic.doctor.token, json: ["status": "confirmed"])
            #expect(confirmed.status == .ok)
            expectError(try await client.request(.put, path, token: clinic.patient.token, json: ["status": "in_progress"]), .forbidden)
            #expect(try await client.request(.put, path, token: clinic.secretary.token, json: ["status": "in_progress"]).status == .ok)
            #expect(try await client.request(.put, path, token: clinic.doctor.token, json: ["status": "completed"]).status == .ok)
            expectError(try await client.request(.put, path, token: clinic.admin, json: ["status": "cancelled"]), .conflict, detailsContain: "final")
            expectError(try await client.request(.put, path, token: clinic.admin, json: ["date": Clinic.day(offset: 3)]), .conflict, detailsContain: "final")
            let final = try await client.request(.get, path, token: clinic.patient.token)
            #expect(final.json["appointment"]?["status"]?.string == "completed")
            let cancellable = try await clinic.bookId(client, start: "10:00:00", end: "10:30:00")
            #expect(try await client.request(.put, "/api/v1/appointments/\(cancellable)", token: clinic.admin, json: ["status": "cancelled"]).status == .ok)
        }
    }

    @Test("Filters and sorting: status, doctor, type, inclusive date range, sortBy/sortOrder, pagination edges")
    func filters() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let tomorrow = Clinic.day(offset: 1)
            let later = Clinic.day(offset: 3)
            #expect(try await clinic.book(client, start: "09:00:00", end: "09:30:00", type: "home", date: tomorrow).status == .created)
            #expect(try await clinic.book(client, start: "08:00:00", end: "08:30:00", type: "video").status == .created)
            #expect(try await clinic.book(client, start: "15:00:00", end: "15:30:00", type: "video", date: later).status == .created)
            #expect(try await clinic.book(client, start: "10:00:00", end: "10:30:00", type: "chat", doctorId: clinic.otherDoctor.id).status == .created)
            let token = clinic.patient.token
            func dates(_ query: String) async throws -> [String] {
                let response = try await client.request(.get, "/api/v1/appointments?\(query)", token: token)
                #expect(response.status == .ok, "\(query): \(response.text)")
                return response.json["appointments"]?.array?.map { "\($0["date"]?.string ?? "") \($0["start_time"]?.string ?? "")" } ?? []
            }
            #expect(try await dates("sortBy=date&sortOrder=asc") == ["\(tomorrow) 09:00:00", "\(clinic.date) 08:00:00", "\(clinic.date) 10:00:00", "\(later) 15:00:00"])
            #expect(try await dates("").first == "\(later) 15:00:00", "default sort is date descending")
            #expect(try await dates("sortBy=start_time&sortOrder=asc").first == "\(clinic.date) 08:00:00")
            #expect(try await dates("consultationType=video&sortOrder=asc") == ["\(clinic.date) 08:00:00", "\(later) 15:00:00"])
            #expect(try await dates("doctorId=\(clinic.otherDoctor.id)") == ["\(clinic.date) 10:00:00"])
            #expect(try await dates("startDate=\(clinic.date)&endDate=\(clinic.date)&sortOrder=asc") == ["\(clinic.date) 08:00:00", "\(clinic.date) 10:00:00"])
            #expect(try await dates("startDate=\(later)").count == 1)
            #expect(try await dates("status=pending_payment").count == 4)
            #expect(try await dates("status=confirmed").isEmpty)
            #expect(try await dates("limit=1&page=4&sortOrder=asc") == ["\(later) 15:00:00"])
            #expect(try await dates("limit=1&page=5").isEmpty)
            let clamped = try await client.request(.get, "/api/v1/appointments?limit=101", token: token)
            #expect(clamped.json["pagination"]?["limit"]?.int == 100)
            let hundred = try await client.request(.get, "/api/v1/appointments?limit=100", token: token)
            #expect(hundred.json["pagination"] == .object(["page": .number(1), "limit": .number(100), "total": .number(4), "totalPages": .number(1)]))
            for bad in ["limit=0", "status=done", "sortBy=price", "sortOrder=up", "startDate=tomorrow", "doctorId=42", "consultationType=fax",
                        "startDate=\(later)&endDate=\(tomorrow)"] {
                expectError(try await client.request(.get, "/api/v1/appointments?\(bad)", token: token), .badRequest)
            }
        }
    }

    @Test("DELETE: patients remove their own unpaid bookings; admins any; the rest are refused")
    func deletion() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let unpaid = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            let paid = try await clinic.bookId(client, start: "10:00:00", end: "10:30:00")
            try await clinic.move(client, paid, through: ["payment_completed"])
            expectError(try await client.request(.delete, "/api/v1/appointments/\(paid)", token: clinic.patient.token), .forbidden)
            expectError(try await client.request(.delete, "/api/v1/appointments/\(unpaid)", token: clinic.doctor.token), .forbidden)
            let deleted = try await client.request(.delete, "/api/v1/appointments/\(unpaid)", token: clinic.patient.token)
            #expect(deleted.status == .ok)
            #expect(deleted.json.keys == ["message"])
            expectError(try await client.request(.get, "/api/v1/appointments/\(unpaid)", token: clinic.patient.token), .notFound)
            #expect(try await client.request(.delete, "/api/v1/appointments/\(paid)", token: clinic.admin).status == .ok)
            expectError(try await client.request(.delete, "/api/v1/appointments/not-a-uuid", token: clinic.admin), .badRequest)
        }
    }

    @Test("Every change emits a domain event to patient, doctor and the doctor's secretaries")
    func events() async throws {
        let recorder = RecordingEventPublisher()
        try await withApp(events: recorder) { client, _ in
            let clinic = try await Clinic.make(client)
            let id = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            _ = try await client.request(.put, "/api/v1/appointments/\(id)", token: clinic.patient.token, json: ["status": "cancelled"])
            _ = try await client.request(.delete, "/api/v1/appointments/\(id)", token: clinic.admin)
            let events = await recorder.events.filter { $0.type.hasPrefix("appointment.") }
            #expect(events.map(\.type) == ["appointment.created", "appointment.updated", "appointment.deleted"])
            let audience = Set([clinic.patient.id, clinic.doctor.id, clinic.secretary.id].compactMap(UUID.init(uuidString:)))
            for event in events {
                #expect(event.userIds == audience)
                #expect(event.includeAdmins)
            }
            let notifications = await recorder.events.filter { $0.type == "notification.created" }
            #expect(notifications.contains { $0.userIds == [UUID(uuidString: clinic.doctor.id)!] }, "the doctor was notified of the cancellation")
        }
    }
}
