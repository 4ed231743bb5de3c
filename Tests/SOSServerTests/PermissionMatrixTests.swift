import Foundation
import HTTPTypes
import HummingbirdTesting
import SOSDomain
import Testing

@testable import SOSServer

/// The role × endpoint matrix, generated from `AccessPolicy.grants`: for every role-gated endpoint, each role not
/// granted the permission gets 403 (or the gate's hiding answer) with the permission's refusal, and each granted
/// role gets past the gate. A new permission must be added here or to `coveredElsewhere`.
@Suite("Role × endpoint matrix from AccessPolicy.grants")
struct PermissionMatrixTests {
    static let roles: [Role] = [.superadmin, .admin, .secretary, .doctor, .patient, .guest]

    /// The accounts and objects the gates act on.
    struct Fixture: Sendable {
        let clinic: Clinic
        let tokens: [Role: String]
        let target: String
        let unlistedDoctor: String
        let record: String
        let payment: String
        let stranger: String
    }

    /// One role-gated endpoint: the permissions that open it (any of them), the request, and how a refusal looks.
    struct Gate: Sendable {
        let permissions: [Permission]
        let label: String
        /// Status of a refusal: 403, or 404 where the endpoint hides what exists.
        var denied: HTTPResponse.Status = .forbidden
        /// Text of a refusal when it is not the permission's own (hiding answers).
        var deniedText: String?
        /// A role that may not even see the object gets 404, which counts as refused too.
        var mayHide = false
        let send: @Sendable (any TestClientProtocol, Fixture, Role) async throws -> TestResponse
    }

    /// Permissions whose rule is proven by scenario tests rather than one endpoint (they are not a single gate).
    static let coveredElsewhere: Set<Permission> = [
        .bookForPatients,  // TrustRecordsTests, AppointmentTests: staff and doctors book for their doctors' patients
        .writeRecordsWithoutAppointment,  // MedicalRecordTests "Who writes"
        .readWholeClinic,  // ScopeTests: secretaries see their doctors only; HubTests: admins hear every event
        .queryAnyonesPresence,  // HubTests presence
    ]

    static let gates: [Gate] = [
        Gate(permissions: [.listUsers], label: "GET /users") { c, f, r in try await c.request(.get, "/api/v1/users", token: f.tokens[r]) },
        Gate(permissions: [.readOtherUsers], label: "GET /users/:id", denied: .notFound, deniedText: "No user with id") { c, f, r in
            try await c.request(.get, "/api/v1/users/\(f.target)", token: f.tokens[r])
        },
        Gate(permissions: [.createUsers], label: "POST /users") { c, f, r in
            try await c.request(.post, "/api/v1/users", token: f.tokens[r], json: [
                "email": "matrix-\(r.rawValue)-\(UUID().uuidString.prefix(6))@example.com", "password": "Password1!", "name": "New", "role": "patient",
            ])
        },
        Gate(permissions: [.changeOtherUsers], label: "PUT /users/:id") { c, f, r in
            try await c.request(.put, "/api/v1/users/\(f.target)", token: f.tokens[r], json: ["name": "Changed by \(r.rawValue)"])
        },
        Gate(permissions: [.deleteUsers], label: "DELETE /users/:id") { c, f, r in
            let victim = try await c.makeUser(role: "patient")
            return try await c.request(.delete, "/api/v1/users/\(victim.id)", token: f.tokens[r])
        },
        Gate(permissions: [.seeUnlistedDoctors], label: "GET /doctors/:unlisted", denied: .notFound, deniedText: "No doctor with id") { c, f, r in
            try await c.request(.get, "/api/v1/doctors/\(f.unlistedDoctor)", token: f.tokens[r])
        },
        Gate(permissions: [.haveDoctorProfile], label: "GET /doctors/self") { c, f, r in try await c.request(.get, "/api/v1/doctors/self", token: f.tokens[r]) },
        Gate(permissions: [.editAnyDoctorProfile], label: "PUT /doctors/:other", deniedText: "edit") { c, f, r in
            try await c.request(.put, "/api/v1/doctors/\(f.clinic.otherDoctor.id)", token: f.tokens[r], json: ["bio": "by \(r.rawValue)"])
        },
        Gate(permissions: [.rateDoctors], label: "POST /doctors/:id/ratings") { c, f, r in
            try await c.request(.post, "/api/v1/doctors/\(f.clinic.doctor.id)/ratings", token: f.tokens[r], json: ["rating": 5])
        },
        Gate(permissions: [.seeAvailability], label: "GET /availabilities") { c, f, r in try await c.request(.get, "/api/v1/availabilities", token: f.tokens[r]) },
        Gate(permissions: [.seeAppointments], label: "GET /appointments") { c, f, r in try await c.request(.get, "/api/v1/appointments", token: f.tokens[r]) },
        Gate(permissions: [.listAllAppointments], label: "GET /appointments/all") { c, f, r in try await c.request(.get, "/api/v1/appointments/all", token: f.tokens[r]) },
        Gate(permissions: [.filterAppointmentsByPatient], label: "GET /appointments?userId") { c, f, r in
            try await c.request(.get, "/api/v1/appointments?userId=\(f.clinic.patient.id)", token: f.tokens[r])
        },
        Gate(permissions: [.bookAsPatient, .bookForPatients], label: "POST /appointments") { c, f, r in
            try await c.request(.post, "/api/v1/appointments", token: f.tokens[r], json: [
                "doctor_id": f.clinic.doctor.id, "date": Clinic.day(offset: 3), "start_time": "16:00:00", "end_time": "16:30:00", "consultation_type": "video",
            ])
        },
        Gate(permissions: [.deleteAnyAppointment], label: "DELETE /appointments/:id (confirmed)", mayHide: true) { c, f, r in
            let booked = try await f.clinic.book(c, start: "17:00:00", end: "17:30:00", date: Clinic.day(offset: 4))
            let id = booked.json["appointment"]?["id"]?.string ?? ""
            _ = try await c.request(.put, "/api/v1/appointments/\(id)", token: f.clinic.admin, json: ["status": "confirmed"])
            let answer = try await c.request(.delete, "/api/v1/appointments/\(id)", token: f.tokens[r])
            _ = try await c.request(.delete, "/api/v1/appointments/\(id)", token: f.clinic.admin)
            return answer
        },
        Gate(permissions: [.seeRecords], label: "GET /medical-records") { c, f, r in try await c.request(.get, "/api/v1/medical-records", token: f.tokens[r]) },
        Gate(permissions: [.writeRecords], label: "POST /medical-records") { c, f, r in
            try await c.request(.post, "/api/v1/medical-records", token: f.tokens[r], json: [
                "user_id": f.clinic.patient.id, "doctor_id": f.clinic.doctor.id, "record_type": "note", "title": "by \(r.rawValue)",
            ])
        },
        Gate(permissions: [.filterRecordsByPatient], label: "GET /medical-records?userId") { c, f, r in
            try await c.request(.get, "/api/v1/medical-records?userId=\(f.clinic.patient.id)", token: f.tokens[r])
        },
        Gate(permissions: [.filterRecordsByDoctor], label: "GET /medical-records?doctorId") { c, f, r in
            try await c.request(.get, "/api/v1/medical-records?doctorId=\(f.clinic.doctor.id)", token: f.tokens[r])
        },
        Gate(permissions: [.deleteRecords], label: "DELETE /medical-records/:id") { c, f, r in
            let created = try await c.request(.post, "/api/v1/medical-records", token: f.clinic.doctor.token, json: [
                "user_id": f.clinic.patient.id, "record_type": "note", "title": "to delete",
            ])
            return try await c.request(.delete, "/api/v1/medical-records/\(created.json["record"]?["id"]?.string ?? "")", token: f.tokens[r])
        },
        Gate(permissions: [.readRecordAuditLog], label: "GET /medical-records/:id/audit") { c, f, r in
            try await c.request(.get, "/api/v1/medical-records/\(f.record)/audit", token: f.tokens[r])
        },
        Gate(permissions: [.readOwnAccessLog, .readAnyAccessLog], label: "GET /medical-records/access-log") { c, f, r in
            try await c.request(.get, "/api/v1/medical-records/access-log", token: f.tokens[r])
        },
        Gate(permissions: [.readAnyAccessLog], label: "GET /medical-records/access-log?userId") { c, f, r in
            try await c.request(.get, "/api/v1/medical-records/access-log?userId=\(f.target)", token: f.tokens[r])
        },
        Gate(permissions: [.seePayments], label: "GET /payments") { c, f, r in try await c.request(.get, "/api/v1/payments", token: f.tokens[r]) },
        Gate(permissions: [.filterPaymentsByPatient], label: "GET /payments?userId") { c, f, r in
            try await c.request(.get, "/api/v1/payments?userId=\(f.clinic.patient.id)", token: f.tokens[r])
        },
        Gate(permissions: [.refundPayments], label: "POST /payments/:id/refund") { c, f, r in
            try await c.request(.post, "/api/v1/payments/\(f.payment)/refund", token: f.tokens[r], json: ["amount": 1])
        },
        Gate(permissions: [.readDashboard], label: "GET /admin/dashboard/stats") { c, f, r in
            try await c.request(.get, "/api/v1/admin/dashboard/stats", token: f.tokens[r])
        },
        Gate(permissions: [.chatWithAnyone], label: "POST /chat/messages to a stranger", denied: .notFound, deniedText: "you can chat with") { c, f, r in
            try await c.request(.post, "/api/v1/chat/messages", token: f.tokens[r], json: ["recipient_id": f.stranger, "content": "Hello from \(r.rawValue)"])
        },
        Gate(permissions: [.goOnCall], label: "GET /doctors/me/on-call") { c, f, r in
            try await c.request(.get, "/api/v1/doctors/me/on-call", token: f.tokens[r])
        },
        Gate(permissions: [.requestSOS], label: "POST /sos") { c, f, r in
            try await c.request(.post, "/api/v1/sos", token: f.tokens[r], json: sosBody())
        },
        Gate(permissions: [.watchSOS], label: "GET /sos") { c, f, r in try await c.request(.get, "/api/v1/sos", token: f.tokens[r]) },
        Gate(permissions: [.readDevOutbox], label: "GET /dev/outbox") { c, f, r in try await c.request(.get, "/api/v1/dev/outbox", token: f.tokens[r]) },
        Gate(permissions: [.loadDemoData], label: "POST /dev/seed-demo") { c, f, r in try await c.request(.post, "/api/v1/dev/seed-demo", token: f.tokens[r]) },
        Gate(permissions: [.changeDoctorEmail], label: "PUT /doctors/:id email", deniedText: "administrator") { c, f, r in
            try await c.request(.put, "/api/v1/doctors/\(f.clinic.doctor.id)", token: f.tokens[r], json: ["email": "alice-\(r.rawValue)@clinic.example"])
        },
    ]

    @Test("Every role gets exactly what AccessPolicy.grants gives it, on every role-gated endpoint")
    func matrix() async throws {
        try await withApp { client, services in
            let clinic = try await Clinic.make(client)
            _ = try await services.userService.ensureAdmin(email: "root@test.com", password: "Superadmin1", name: "Root", role: .superadmin)
            let guest = try await client.makeUser(role: "guest")
            var tokens: [Role: String] = [
                .admin: clinic.admin, .secretary: clinic.secretary.token, .doctor: clinic.doctor.token, .patient: clinic.patient.token, .guest: guest.token,
            ]
            tokens[.superadmin] = try await client.login("root@test.com", "Superadmin1")["access_token"]?.string
            let unlisted = try await client.makeUser(role: "doctor", name: "Dr Hidden")
            _ = try await client.request(.post, "/api/v1/doctors", token: unlisted.token, json: ["specialisation": "ENT", "is_listed": false])
            let booked = try await clinic.bookId(client, start: "09:00:00", end: "09:30:00")
            try await clinic.pay(client, booked)
            let payments = try await client.request(.get, "/api/v1/payments?userId=\(clinic.patient.id)", token: clinic.admin)
            let record = try await client.request(.post, "/api/v1/medical-records", token: clinic.doctor.token, json: [
                "user_id": clinic.patient.id, "record_type": "note", "title": "Matrix",
            ])
            let fixture = Fixture(
                clinic: clinic, tokens: tokens, target: clinic.otherPatient.id, unlistedDoctor: unlisted.id,
                record: try #require(record.json["record"]?["id"]?.string), payment: try #require(payments.json["payments"]?[0]?["id"]?.string),
                stranger: (try await client.makeUser(role: "patient")).id
            )
            let gated = Set(Self.gates.flatMap(\.permissions))
            #expect(gated.union(Self.coveredElsewhere) == Set(Permission.allCases), "every permission has a gate here or a scenario test")
            for gate in Self.gates {
                let allowed = Set(gate.permissions.flatMap { AccessPolicy.grants[$0] ?? [] })
                for role in Self.roles {
                    let response = try await gate.send(client, fixture, role)
                    // step: refused when the answer is a refusal: this gate's (or an earlier gate's, e.g. a guest's), or a hiding 404
                    let texts = gate.deniedText.map { [$0] } ?? Permission.allCases.map { String($0.refusal.prefix(40)) }
                    let refused = (response.status == gate.denied && texts.contains { response.text.contains($0) })
                        || (gate.mayHide && response.status == .notFound)
                    let refusedHere = response.status == gate.denied
                        && (gate.deniedText.map { response.text.contains($0) } ?? gate.permissions.contains { response.text.contains(String($0.refusal.prefix(40))) })
                    if allowed.contains(role) {
                        #expect(!refusedHere, "\(gate.label) as \(role.rawValue) should pass the gate: \(response.status.code) \(response.text)")
                        #expect(response.status.code < 500, "\(gate.label) as \(role.rawValue): \(response.text)")
                    } else {
                        #expect(refused, "\(gate.label) as \(role.rawValue) should be refused: \(response.status.code) \(response.text)")
                        expectError(response, response.status)
                    }
                }
                let anonymous = try await client.request(.get, "/api/v1/users/me")
                expectError(anonymous, .unauthorized)
            }
        }
    }
}
