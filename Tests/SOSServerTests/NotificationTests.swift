import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import SOSDomain
import Testing

@testable import SOSServer

@Suite("Notifications, reminders, uploads, calendar, development outbox")
struct NotificationTests {
    @Test("Preferences: defaults for new users, partial updates, bounds")
    func preferences() async throws {
        try await withApp { client, _ in
            let patient = try await client.makeUser(role: "patient")
            let defaults = try await client.request(.get, "/api/v1/notifications/preferences", token: patient.token)
            #expect(defaults.status == .ok)
            #expect(defaults.json["userId"]?.string == patient.id)
            #expect(defaults.json["preferences"] == .object([
                "email": .bool(true), "sms": .bool(false), "push": .bool(true), "appointmentReminders": .bool(true),
                "appointmentConfirmations": .bool(true), "paymentNotifications": .bool(true), "reminderTime": .number(60),
            ]))
            let updated = try await client.request(.put, "/api/v1/notifications/preferences", token: patient.token, json: ["preferences": ["sms": true, "reminderTime": 30]])
            #expect(updated.status == .ok)
            #expect(updated.json.keys == ["userId", "preferences", "updatedAt"])
            #expect(updated.json["preferences"]?["sms"]?.bool == true && updated.json["preferences"]?["email"]?.bool == true)
            #expect(updated.json["preferences"]?["reminderTime"]?.int == 30)
            #expect(isTimestamp(updated.json["updatedAt"]?.string))
            let again = try await client.request(.get, "/api/v1/notifications/preferences", token: patient.token)
            #expect(again.json["preferences"] == updated.json["preferences"])
            expectError(try await client.request(.put, "/api/v1/notifications/preferences", token: patient.token, json: ["preferences": ["reminderTime": -5]]), .badRequest, detailsContain: "reminderTime")
            expectError(try await client.request(.put, "/api/v1/notifications/preferences", token: patient.token, json: ["preferences": ["sms": "yes"]]), .badRequest)
            expectError(try await client.request(.put, "/api/v1/notifications/preferences", token: patient.token, json: ["sms": true]), .badRequest, detailsContain: "preferences")
        }
    }

    @Test("Booking and status changes create in-app notifications; only the owner can read and mark them")
    func inAppNotifications() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let id = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            _ = try await client.request(.put, "/api/v1/appointments/\(id)", token: clinic.patient.token, json: ["status": "cancelled"])
            let doctorInbox = try await client.request(.get, "/api/v1/notifications", token: clinic.doctor.token)
            #expect(doctorInbox.json["notifications"]?.array?.compactMap { $0["type"]?.string } == ["appointment.cancelled", "appointment.created"])
            let patientInbox = try await client.request(.get, "/api/v1/notifications", token: clinic.patient.token)
            #expect(patientInbox.json["notifications"]?.array?.compactMap { $0["type"]?.string } == ["appointment.created"], "no notice of your own change")
            let notification = try #require(patientInbox.json["notifications"]?[0])
            #expect(notification.keys == ["id", "type", "title", "body", "data", "is_read", "read_at", "created_at"])
            let nid = try #require(notification["id"]?.string)
            expectError(try await client.request(.put, "/api/v1/notifications/\(nid)/read", token: clinic.doctor.token), .notFound)
            let read = try await client.request(.put, "/api/v1/notifications/\(nid)/read", token: clinic.patient.token)
            #expect(read.status == .ok)
            #expect(read.json["notification"]?["is_read"]?.bool == true)
            #expect(try await client.request(.get, "/api/v1/notifications?unread=true", token: clinic.patient.token).json["pagination"]?["total"]?.int == 0)
        }
    }

    @Test("Reminders go out reminderTime minutes before, through the user's channels, once — across restarts too")
    func reminders() async throws {
        let storage = try await TestStorage.make()
        defer { Task { await storage.cleanUp() } }
        let configuration = storage.configuration
        let logger = Logger(label: "reminders")
        // step: pick a doctor time zone where "90 minutes from now" is well inside one local day
        let start = Date().addingTimeInterval(90 * 60)
        let zone = ["UTC", "Asia/Tokyo", "America/New_York"].first { name in
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: name)!
            return (1...21).contains(calendar.component(.hour, from: start))
        }!
        try await runApp(configuration) { client, services in
            let clinic = try await Clinic.make(client, timeZone: zone)
            _ = try await client.request(.put, "/api/v1/notifications/preferences", token: clinic.patient.token, json: ["preferences": ["sms": true, "reminderTime": 120]])
            _ = try await client.request(.put, "/api/v1/users/me", token: clinic.patient.token, json: ["phone": "+34600111222"])
            _ = try await client.request(.put, "/api/v1/notifications/preferences", token: clinic.doctor.token, json: ["preferences": ["reminderTime": 15]])
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: zone)!
            let local = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: start)
            let date = String(format: "%04d-%02d-%02d", local.year!, local.month!, local.day!)
            let booked = try await clinic.book(
                client, start: String(format: "%02d:%02d:00", local.hour!, local.minute!), end: String(format: "%02d:%02d:00", local.hour! + 1, local.minute!),
                token: clinic.admin, date: date, extra: ["user_id": clinic.patient.id]
            )
            #expect(booked.status == .created, "\(booked.text)")
            try await clinic.move(client, booked.json["appointment"]?["id"]?.string ?? "", through: ["payment_completed", "confirmed"])
            #expect(try await services.notifications.sendDueReminders(logger: logger) == 1, "the patient (120 min) now; the doctor (15 min) later")
            #expect(try await services.notifications.sendDueReminders(logger: logger) == 0, "sent once")
            let inbox = try await client.request(.get, "/api/v1/notifications", token: clinic.patient.token)
            #expect(inbox.json["notifications"]?.array?.filter { $0["type"]?.string == "appointment.reminder" }.count == 1)
            let outbox = try await client.request(.get, "/api/v1/dev/outbox", token: clinic.admin)
            let messages = outbox.json["messages"]?.array ?? []
            #expect(messages.contains { $0["channel"]?.string == "email" && $0["recipient"]?.string?.hasPrefix("patient-") == true })
            #expect(messages.contains { $0["channel"]?.string == "sms" && $0["recipient"]?.string == "+34600111222" })
            #expect(messages.allSatisfy { $0["body"]?.string?.contains("Reminder") == true })
        }
        try await runApp(configuration) { _, services in
            let sent = try await services.notifications.sendDueReminders(logger: logger)
            #expect(sent == 0, "a restart does not send it again")
        }
    }

    @Test("Profile pictures: PNG/JPEG/WebP by content, size limit, the URL serves the same bytes; nothing else is served")
    func profilePictures() async throws {
        try await withApp(configure: { $0.maxBodyBytes = 1 << 20 }) { client, _ in
            let patient = try await client.makeUser(role: "patient")
            let uploaded = try await client.upload("/api/v1/upload/profile-picture", token: patient.token, bytes: pngBytes, fileName: "me.gif", contentType: "image/gif")
            #expect(uploaded.status == .ok, "\(uploaded.text)")
            #expect(uploaded.json.keys == ["message", "url"])
            let url = try #require(uploaded.json["url"]?.string)
            #expect(url.hasPrefix("/uploads/profile-pictures/") && url.hasSuffix(".png"))
            let served = try await client.request(.get, url)
            #expect(served.status == .ok)
            #expect(Array(served.body.readableBytesView) == pngBytes)
            #expect(served.headers[.contentType] == "image/png")
            #expect(try await client.request(.get, "/api/v1/auth/me", token: patient.token).json["user"]?["profile_picture"]?.string == url)
            expectError(try await client.upload("/api/v1/upload/profile-picture", token: patient.token, bytes: Array("%PDF-1.4".utf8)), .unsupportedMediaType)
            expectError(try await client.upload("/api/v1/upload/profile-picture", token: patient.token, bytes: Array("<svg/>".utf8), contentType: "image/svg+xml"), .unsupportedMediaType)
            let huge = pngBytes + [UInt8](repeating: 0, count: 6 << 20)
            expectError(try await client.upload("/api/v1/upload/profile-picture", token: patient.token, bytes: huge), .contentTooLarge)
            expectError(try await client.upload("/api/v1/upload/profile-picture", token: "bad", bytes: pngBytes), .unauthorized)
            for path in ["/uploads/profile-pictures/..%2F..%2Fjwt_secret", "/uploads/profile-pictures/jwt_secret", "/uploads/profile-pictures/\(String(repeating: "a", count: 32)).png",
                         "/uploads/../jwt_secret", "/uploads/profile-pictures/%2e%2e%2fjwt_secret.png"] {
                let response = try await client.request(.get, path)
                #expect(response.status == .notFound, "\(path): \(response.status.code)")
                #expect(!response.text.contains(testJWTSecret))
            }
            // a new picture replaces the old one, whose file is deleted
            let second = try #require(try await client.upload("/api/v1/upload/profile-picture", token: patient.token, bytes: pngBytes).json["url"]?.string)
            #expect(second != url)
            #expect(try await client.request(.get, url).status == .notFound, "the replaced file is gone")
            #expect(try await client.request(.get, second).status == .ok)
            // clearing it deletes the file too
            #expect(try await client.request(.put, "/api/v1/users/me", token: patient.token, json: ["profile_picture": ""]).status == .ok)
            #expect(try await client.request(.get, second).status == .notFound)
        }
    }

    @Test("Each user's uploads stay within the storage quota; an upload past it is 413 before its body is stored")
    func uploadQuota() async throws {
        try await withApp(configure: { $0.uploadQuotaBytes = 1 << 20 }) { client, services in
            let clinic = try await Clinic.make(client)
            _ = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            let record = try await client.request(.post, "/api/v1/medical-records", token: clinic.doctor.token, json: [
                "user_id": clinic.patient.id, "record_type": "lab_result", "title": "Scans",
            ])
            let path = "/api/v1/medical-records/\(try #require(record.json["record"]?["id"]?.string))/attachments"
            let pdf = Array("%PDF-1.4\n".utf8) + [UInt8](repeating: 0x20, count: 600 << 10)
            #expect(try await client.upload(path, token: clinic.doctor.token, bytes: pdf, fileName: "a.pdf", contentType: "application/pdf").status == .created)
            let refused = try await client.upload(path, token: clinic.doctor.token, bytes: pdf, fileName: "b.pdf", contentType: "application/pdf")
            expectError(refused, .contentTooLarge, detailsContain: "quota")
            #expect(try await services.records.attachments(try await services.auth.authenticate(bearer: clinic.doctor.token), recordId: UUID(uuidString: path.split(separator: "/")[3].description)!).count == 1)
            // the patient (who may read the record) may not even start an upload to it: refused before the body is read
            expectError(try await client.upload(path, token: clinic.patient.token, bytes: pngBytes), .forbidden)
        }
    }

    @Test("Calendar: a per-user feed token; the ICS feed lists the user's appointments (RFC 5545)")
    func calendar() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let id = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            let tokenResponse = try await client.request(.get, "/api/v1/calendar/token", token: clinic.patient.token)
            #expect(tokenResponse.json.keys == ["token", "url"])
            let token = try #require(tokenResponse.json["token"]?.string)
            #expect(try await client.request(.get, "/api/v1/calendar/token", token: clinic.patient.token).json["token"]?.string == token, "stable until rotated")
            let feed = try await client.request(.get, "/api/v1/calendar/feed.ics?token=\(token)")
            #expect(feed.status == .ok)
            #expect(feed.headers[.contentType]?.hasPrefix("text/calendar") == true)
            let text = feed.text
            #expect(text.hasPrefix("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"))
            #expect(text.hasSuffix("END:VCALENDAR\r\n"))
            #expect(text.contains("UID:\(id)@sos-tourist-doctor"))
            let compact = clinic.date.replacingOccurrences(of: "-", with: "")
            #expect(text.contains("DTSTART:\(compact)T090000Z"))
            #expect(text.contains("STATUS:TENTATIVE"))
            #expect(text.contains("Dr Alice Martin"))
            #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 75 }, "lines are folded at 75 octets")
            #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "only CRLF line breaks")
            let doctorToken = try await client.request(.get, "/api/v1/calendar/token", token: clinic.doctor.token).json["token"]?.string ?? ""
            #expect(try await client.request(.get, "/api/v1/calendar/feed.ics?token=\(doctorToken)").text.contains("Paula Tourist"))
            let otherToken = try await client.request(.get, "/api/v1/calendar/token", token: clinic.otherPatient.token).json["token"]?.string ?? ""
            let otherFeed = try await client.request(.get, "/api/v1/calendar/feed.ics?token=\(otherToken)")
            #expect(!otherFeed.text.contains("VEVENT"))
            expectError(try await client.request(.get, "/api/v1/calendar/feed.ics?token=nope"), .notFound)
            expectError(try await client.request(.get, "/api/v1/calendar/feed.ics"), .badRequest)
            let rotated = try await client.request(.get, "/api/v1/calendar/token?rotate=true", token: clinic.patient.token).json["token"]?.string
            #expect(rotated != token)
            expectError(try await client.request(.get, "/api/v1/calendar/feed.ics?token=\(token)"), .notFound)
        }
    }

    @Test("The development outbox is for admins, and does not exist in production")
    func devOutbox() async throws {
        try await withApp { client, _ in
            let patient = try await client.makeUser(role: "patient")
            #expect(try await client.request(.get, "/api/v1/dev/outbox", token: try await client.adminToken()).status == .ok)
            expectError(try await client.request(.get, "/api/v1/dev/outbox", token: patient.token), .forbidden)
        }
        try await withApp(configure: { useProductionMode(&$0) }) { client, services in
            _ = try await services.userService.ensureAdmin(email: "boss@example.com", password: "Password1!", name: "Boss")
            let token = try await client.login("boss@example.com", "Password1!")["access_token"]?.string ?? ""
            expectError(try await client.request(.get, "/api/v1/dev/outbox", token: token), .notFound)
        }
    }
}
