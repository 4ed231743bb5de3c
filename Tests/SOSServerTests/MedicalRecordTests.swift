import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import SOSServer

/// A tiny valid PNG (1×1).
let pngBytes: [UInt8] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
]

extension TestClientProtocol {
    /// Uploads bytes as multipart/form-data in the field `field`.
    func upload(_ path: String, token: String, bytes: [UInt8], fileName: String = "file.png", field: String = "file", contentType: String = "image/png") async throws -> TestResponse {
        let boundary = "----sos\(UUID().uuidString.prefix(8))"
        var body = ByteBuffer()
        body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"\(fileName)\"\r\nContent-Type: \(contentType)\r\n\r\n")
        body.writeBytes(bytes)
        body.writeString("\r\n--\(boundary)--\r\n")
        return try await self.executeRequest(
            uri: path, method: .post,
            headers: [.authorization: "Bearer \(token)", .contentType: "multipart/form-data; boundary=\(boundary)"], body: body
        )
    }
}

@Suite("Medical records: access rules, audit log, attachments")
struct MedicalRecordTests {
    static let keys: Set<String> = [
        "id", "user_id", "appointment_id", "doctor_id", "record_type", "title", "description", "diagnosis", "medications", "lab_results",
        "attachments", "notes", "is_shared_with_patient", "created_at", "updated_at", "version",
    ]

    /// A clinic with an appointment and a shared and a private record by the doctor.
    func setUp(_ client: some TestClientProtocol) async throws -> (Clinic, appointment: String, shared: String, privateRecord: String) {
        let clinic = try await Clinic.make(client)
        let appointment = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
        let shared = try await client.request(.post, "/api/v1/medical-records", token: clinic.doctor.token, json: [
            "user_id": clinic.patient.id, "appointment_id": appointment, "record_type": "prescription", "title": "Amoxicillin",
            "medications": ["name": "amoxicillin", "dose": "500mg"], "diagnosis": "Otitis",
        ])
        #expect(shared.status == .created, "\(shared.text)")
        let privateRecord = try await client.request(.post, "/api/v1/medical-records", token: clinic.doctor.token, json: [
            "user_id": clinic.patient.id, "record_type": "note", "title": "Doctor's private note", "is_shared_with_patient": false,
        ])
        #expect(privateRecord.status == .created)
        return (clinic, appointment, shared.json["record"]?["id"]?.string ?? "", privateRecord.json["record"]?["id"]?.string ?? "")
    }

    @Test("A doctor writes records for their patients (201, seed shape); list and detail views nest patient, doctor, appointment")
    func createAndRead() async throws {
        try await withApp { client, _ in
            let (clinic, appointment, shared, _) = try await self.setUp(client)
            let detail = try await client.request(.get, "/api/v1/medical-records/\(shared)", token: clinic.patient.token)
            #expect(detail.status == .ok)
            let record = detail.json["record"]
            #expect(record?.keys == Self.keys.union(["patient", "doctor", "appointment"]))
            #expect(record?["medications"] == .object(["name": .string("amoxicillin"), "dose": .string("500mg")]))
            #expect(record?["description"]?.isNull == true)
            expectPersonShape(record?["patient"])
            expectNestedDoctorShape(record?["doctor"])
            #expect(record?["appointment"]?.keys == ["id", "date", "start_time", "consultation_type", "status"])
            #expect(record?["appointment"]?["id"]?.string == appointment)
            let list = try await client.request(.get, "/api/v1/medical-records", token: clinic.doctor.token)
            #expect(list.json.keys == ["records", "pagination"])
            #expect(list.json["pagination"]?["total"]?.int == 2)
            let listed = list.json["records"]?.array?.first { $0["id"]?.string == shared }
            #expect(listed?["appointment"]?.keys == ["id", "date", "start_time", "consultation_type"])
            let unlinked = list.json["records"]?.array?.first { $0["id"]?.string != shared }
            #expect(unlinked?["appointment"]?.isNull == true)
            #expect(try await client.request(.get, "/api/v1/medical-records?recordType=note", token: clinic.doctor.token).json["pagination"]?["total"]?.int == 1)
            #expect(try await client.request(.get, "/api/v1/medical-records?appointmentId=\(appointment)", token: clinic.doctor.token).json["pagination"]?["total"]?.int == 1)
            let byTitle = try await client.request(.get, "/api/v1/medical-records?sortBy=title&sortOrder=asc", token: clinic.doctor.token)
            #expect(byTitle.json["records"]?.array?.compactMap { $0["title"]?.string } == ["Amoxicillin", "Doctor's private note"])
            expectError(try await client.request(.get, "/api/v1/medical-records?recordType=xray", token: clinic.doctor.token), .badRequest)
        }
    }

    @Test("Patients see only their shared records; strangers and unrelated doctors get 404 and no data")
    func visibility() async throws {
        try await withApp { client, _ in
            let (clinic, _, shared, privateRecord) = try await self.setUp(client)
            let mine = try await client.request(.get, "/api/v1/medical-records", token: clinic.patient.token)
            #expect(mine.json["records"]?.array?.compactMap { $0["id"]?.string } == [shared])
            expectError(try await client.request(.get, "/api/v1/medical-records/\(privateRecord)", token: clinic.patient.token), .notFound)
            for token in [clinic.otherPatient.token, clinic.otherDoctor.token] {
                let response = try await client.request(.get, "/api/v1/medical-records/\(shared)", token: token)
                expectError(response, .notFound)
                #expect(!response.text.contains("Amoxicillin") && !response.text.contains("Otitis"))
                #expect(try await client.request(.get, "/api/v1/medical-records", token: token).json["pagination"]?["total"]?.int == 0)
            }
            for token in [clinic.secretary.token, clinic.admin, clinic.doctor.token] {
                #expect(try await client.request(.get, "/api/v1/medical-records/\(privateRecord)", token: token).status == .ok)
            }
            expectError(try await client.request(.get, "/api/v1/medical-records?userId=\(clinic.patient.id)", token: clinic.patient.token), .forbidden)
            expectError(try await client.request(.get, "/api/v1/medical-records?doctorId=\(clinic.doctor.id)", token: clinic.doctor.token), .forbidden)
            #expect(try await client.request(.get, "/api/v1/medical-records?doctorId=\(clinic.doctor.id)", token: clinic.admin).json["pagination"]?["total"]?.int == 2)
            // a booking the other doctor makes up for the patient (pending payment) opens nothing
            let madeUp = try await clinic.book(
                client, start: "11:00:00", end: "11:30:00", token: clinic.otherDoctor.token, doctorId: clinic.otherDoctor.id, extra: ["user_id": clinic.patient.id]
            )
            #expect(madeUp.status == .created, "\(madeUp.text)")
            expectError(try await client.request(.get, "/api/v1/medical-records/\(shared)", token: clinic.otherDoctor.token), .notFound)
            #expect(try await client.request(.get, "/api/v1/medical-records", token: clinic.otherDoctor.token).json["pagination"]?["total"]?.int == 0)
            // once the patient's own booking with the other doctor is paid, that doctor is part of the care and may read;
            // a status set by staff is not a payment
            let booking = try await clinic.book(client, start: "10:00:00", end: "10:30:00", doctorId: clinic.otherDoctor.id)
            #expect(booking.status == .created)
            let bookingId = try #require(booking.json["appointment"]?["id"]?.string)
            expectError(try await client.request(.get, "/api/v1/medical-records/\(shared)", token: clinic.otherDoctor.token), .notFound)
            try await clinic.move(client, bookingId, through: ["payment_completed"])
            expectError(try await client.request(.get, "/api/v1/medical-records/\(shared)", token: clinic.otherDoctor.token), .notFound)
            try await clinic.move(client, bookingId, through: ["pending_payment"])
            try await clinic.pay(client, bookingId)
            #expect(try await client.request(.get, "/api/v1/medical-records/\(shared)", token: clinic.otherDoctor.token).status == .ok)
            expectError(try await client.request(.put, "/api/v1/medical-records/\(shared)", token: clinic.otherDoctor.token, json: ["title": "x"]), .forbidden)
        }
    }

    @Test("Who writes: doctors for their patients, secretaries for their doctors, admins; patients never; only admins delete")
    func writes() async throws {
        try await withApp { client, _ in
            let (clinic, _, shared, _) = try await self.setUp(client)
            expectError(try await client.request(.post, "/api/v1/medical-records", token: clinic.otherDoctor.token, json: [
                "user_id": clinic.patient.id, "record_type": "note", "title": "No relationship",
            ]), .forbidden)
            expectError(try await client.request(.post, "/api/v1/medical-records", token: clinic.patient.token, json: [
                "user_id": clinic.patient.id, "record_type": "note", "title": "Self-diagnosis",
            ]), .forbidden)
            let bySecretary = try await client.request(.post, "/api/v1/medical-records", token: clinic.secretary.token, json: [
                "user_id": clinic.patient.id, "doctor_id": clinic.doctor.id, "record_type": "lab_result", "title": "Blood test", "lab_results": ["crp": 4],
            ])
            #expect(bySecretary.status == .created, "\(bySecretary.text)")
            expectError(try await client.request(.post, "/api/v1/medical-records", token: clinic.doctor.token, json: [
                "user_id": clinic.patient.id, "record_type": "scan", "title": "x",
            ]), .badRequest, detailsContain: "prescription")
            expectError(try await client.request(.post, "/api/v1/medical-records", token: clinic.doctor.token, json: ["user_id": clinic.patient.id, "title": "x"]), .badRequest, detailsContain: "record_type")
            let updated = try await client.request(.put, "/api/v1/medical-records/\(shared)", token: clinic.doctor.token, json: ["notes": "Review in 7 days", "diagnosis": NSNull()])
            #expect(updated.status == .ok)
            #expect(updated.json["record"]?["notes"]?.string == "Review in 7 days")
            #expect(updated.json["record"]?["diagnosis"]?.isNull == true)
            expectError(try await client.request(.put, "/api/v1/medical-records/\(shared)", token: clinic.patient.token, json: ["title": "Mine now"]), .forbidden)
            expectError(try await client.request(.delete, "/api/v1/medical-records/\(shared)", token: clinic.doctor.token), .forbidden)
            #expect(try await client.request(.delete, "/api/v1/medical-records/\(shared)", token: clinic.admin).status == .ok)
            expectError(try await client.request(.get, "/api/v1/medical-records/\(shared)", token: clinic.admin), .notFound)
        }
    }

    @Test("Every read and write is in the audit log (admins only): who, when, what")
    func auditLog() async throws {
        try await withApp { client, _ in
            let (clinic, _, shared, _) = try await self.setUp(client)
            _ = try await client.request(.get, "/api/v1/medical-records/\(shared)", token: clinic.patient.token)
            _ = try await client.request(.get, "/api/v1/medical-records", token: clinic.secretary.token)
            _ = try await client.request(.put, "/api/v1/medical-records/\(shared)", token: clinic.doctor.token, json: ["title": "Amoxicillin 500"])
            _ = try await client.request(.get, "/api/v1/medical-records/\(shared)", token: clinic.otherPatient.token)
            expectError(try await client.request(.get, "/api/v1/medical-records/\(shared)/audit", token: clinic.doctor.token), .forbidden)
            let audit = try await client.request(.get, "/api/v1/medical-records/\(shared)/audit", token: clinic.admin)
            #expect(audit.status == .ok)
            let entries = audit.json["entries"]?.array ?? []
            let summary = entries.map { "\($0["action"]?.string ?? "") \($0["actor_id"]?.string ?? "")" }
            #expect(summary == [
                "create \(clinic.doctor.id)", "read \(clinic.patient.id)", "read \(clinic.secretary.id)", "update \(clinic.doctor.id)",
            ], "a refused read is not a read: \(summary)")
            #expect(entries[3]["detail"]?.string == "changed: title")
            #expect(entries.allSatisfy { isTimestamp($0["at"]?.string) })
            expectError(try await client.request(.get, "/api/v1/medical-records/\(UUID().uuidString)/audit", token: clinic.admin), .notFound)
        }
    }

    @Test("Attachments: upload checked by content, download the same bytes with the same access rules")
    func attachments() async throws {
        try await withApp { client, _ in
            let (clinic, _, shared, privateRecord) = try await self.setUp(client)
            let path = "/api/v1/medical-records/\(shared)/attachments"
            let uploaded = try await client.upload(path, token: clinic.doctor.token, bytes: pngBytes, fileName: "../../x-ray.png")
            #expect(uploaded.status == .created, "\(uploaded.text)")
            let attachment = uploaded.json["attachment"]
            #expect(attachment?["content_type"]?.string == "image/png")
            #expect(attachment?["file_name"]?.string == "x-ray.png")
            #expect(attachment?["size"]?.int == pngBytes.count)
            let url = try #require(attachment?["url"]?.string)
            let download = try await client.request(.get, url, token: clinic.patient.token)
            #expect(download.status == .ok)
            #expect(Array(download.body.readableBytesView) == pngBytes)
            #expect(download.headers[.contentType] == "image/png")
            expectError(try await client.request(.get, url, token: clinic.otherPatient.token), .notFound)
            #expect(try await client.request(.get, path, token: clinic.patient.token).json["attachments"]?.array?.count == 1)
            expectError(try await client.upload(path, token: clinic.patient.token, bytes: pngBytes), .forbidden)
            expectError(try await client.upload(path, token: clinic.doctor.token, bytes: Array("hello, not a picture".utf8), fileName: "a.png"), .unsupportedMediaType)
            expectError(try await client.upload(path, token: clinic.doctor.token, bytes: pngBytes, field: "document"), .badRequest, detailsContain: "'file'")
            expectError(try await client.request(.post, path, token: clinic.doctor.token, json: ["file": "x"]), .unsupportedMediaType)
            expectError(try await client.upload("/api/v1/medical-records/\(privateRecord)/attachments", token: clinic.patient.token, bytes: pngBytes), .notFound)
            let pdf = Array("%PDF-1.4\n%fake but starts right\n".utf8)
            #expect(try await client.upload(path, token: clinic.doctor.token, bytes: pdf, fileName: "report.pdf", contentType: "application/pdf").status == .created)
            let log = try await client.request(.get, "/api/v1/medical-records/\(shared)/audit", token: clinic.admin)
            let actions = log.json["entries"]?.array?.compactMap { $0["action"]?.string } ?? []
            #expect(actions.filter { $0 == "attachment_upload" }.count == 2)
            #expect(actions.filter { $0 == "attachment_download" }.count == 1)
        }
    }
}

@Suite("Multipart bodies from untrusted clients")
struct MultipartTests {
    @Test("Malformed multipart bodies are 400, never a crash (MultipartKit 4.7.1 trapped on these)")
    func malformed() async throws {
        try await withApp { client, _ in
            let patient = try await client.makeUser(role: "patient")
            let boundary = "248afd5325d24732e336bd3d78d82aed"
            let bodies: [[UInt8]] = [
                Array("--\(boundary)\r\n¦𧾺lÉ--\(boundary)--\r\n".utf8),
                Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nno closing delimiter".utf8),
                Array("no delimiter at all".utf8),
                Array("--\(boundary)\r\n\u{1}\u{2}: x\r\n\r\nbody\r\n--\(boundary)--\r\n".utf8),
                Array("--\(boundary)--\r\n".utf8),
            ]
            for body in bodies {
                let response = try await client.executeRequest(
                    uri: "/api/v1/upload/profile-picture", method: .post,
                    headers: [.authorization: "Bearer \(patient.token)", .contentType: "multipart/form-data; boundary=\(boundary)"],
                    body: ByteBuffer(bytes: body)
                )
                expectError(response, .badRequest)
            }
            #expect(try await client.request(.get, "/health").status == .ok, "the server is still up")
        }
    }
}
