import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import SOSServer

@Suite("Users: profiles, listing, administration")
struct UserTests {
    @Test("PUT /users/me changes name, phone and picture, and nothing else")
    func updateOwnProfile() async throws {
        try await withApp { client, _ in
            let patient = try await client.makeUser(role: "patient")
            // a profile picture is only ever one of the account's own uploads: an outside URL or someone else's picture is refused
            let other = try await client.makeUser(role: "patient")
            let othersPicture = try #require(try await client.upload("/api/v1/upload/profile-picture", token: other.token, bytes: pngBytes).json["url"]?.string)
            let picture = try #require(try await client.upload("/api/v1/upload/profile-picture", token: patient.token, bytes: pngBytes).json["url"]?.string)
            expectError(try await client.request(.put, "/api/v1/users/me", token: patient.token, json: ["profile_picture": "https://cdn.example.com/me.png"]), .badRequest, detailsContain: "uploaded")
            expectError(try await client.request(.put, "/api/v1/users/me", token: patient.token, json: ["profile_picture": othersPicture]), .badRequest, detailsContain: "this account uploaded")
            let response = try await client.request(.put, "/api/v1/users/me", token: patient.token, json: ["name": "  New Name ", "phone": "+33612345678", "profile_picture": picture])
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.json.keys == ["message", "user"])
            expectUserShape(response.json["user"], timestamps: true)
            #expect(response.json["user"]?["name"]?.string == "New Name")
            #expect(response.json["user"]?["phone"]?.string == "+33612345678")
            #expect(response.json["user"]?["profile_picture"]?.string == picture)
            let cleared = try await client.request(.put, "/api/v1/users/me", token: patient.token, json: ["phone": ""])
            #expect(cleared.json["user"]?["phone"]?.string == "")
            expectError(try await client.request(.put, "/api/v1/users/me", token: patient.token, json: ["name": ""]), .badRequest, detailsContain: "name")
            expectError(try await client.request(.put, "/api/v1/users/me", token: patient.token, json: ["phone": "12"]), .badRequest, detailsContain: "E.164")
            expectError(try await client.request(.put, "/api/v1/users/me", token: patient.token, json: ["profile_picture": "javascript:alert(1)"]), .badRequest)
            expectError(try await client.request(.put, "/api/v1/users/me", token: patient.token, json: ["name": 5]), .badRequest, detailsContain: "'name' must be a string")
        }
    }

    @Test("Nobody raises their own role or changes their own status; nothing changes on refusal")
    func massAssignment() async throws {
        try await withApp { client, _ in
            let patient = try await client.makeUser(role: "patient", name: "Original")
            for body: JSONObject in [["role": "admin", "name": "Hacker"], ["is_status": "active", "name": "Hacker"], ["email": "x@example.com"], ["associated_doctors": []]] {
                expectError(try await client.request(.put, "/api/v1/users/me", token: patient.token, json: body), .forbidden)
                expectError(try await client.request(.put, "/api/v1/users/\(patient.id)", token: patient.token, json: body), .forbidden)
            }
            let me = try await client.request(.get, "/api/v1/users/me", token: patient.token)
            #expect(me.json["user"]?["role"]?.string == "patient")
            #expect(me.json["user"]?["name"]?.string == "Original")
            // the admin cannot demote or block themself either
            let admin = try await client.adminToken()
            let adminId = try await client.request(.get, "/api/v1/users/me", token: admin).json["user"]?["id"]?.string ?? ""
            expectError(try await client.request(.put, "/api/v1/users/\(adminId)", token: admin, json: ["role": "patient"]), .forbidden)
            expectError(try await client.request(.put, "/api/v1/users/\(adminId)", token: admin, json: ["is_status": "blocked"]), .forbidden)
            #expect(try await client.request(.put, "/api/v1/users/\(adminId)", token: admin, json: ["name": "Chief"]).status == .ok)
        }
    }

    @Test("GET /users lists with the seed's pagination, filters and limits")
    func listUsers() async throws {
        try await withApp { client, _ in
            let admin = try await client.adminToken()
            for index in 0..<3 {
                _ = try await client.makeUser(role: "doctor", email: "doc\(index)@clinic.example", name: "Doctor Zed \(index)")
            }
            _ = try await client.makeUser(role: "patient", email: "pat@example.com", name: "Pat 100%_Sure")
            let all = try await client.request(.get, "/api/v1/users", token: admin)
            #expect(all.status == .ok)
            #expect(all.json.keys == ["users", "pagination"])
            #expect(all.json["pagination"] == .object(["page": .number(1), "limit": .number(10), "total": .number(5), "totalPages": .number(1)]))
            for user in all.json["users"]?.array ?? [] { expectUserShape(user, timestamps: true) }

            let doctors = try await client.request(.get, "/api/v1/users?role=doctor&limit=2&page=2", token: admin)
            #expect(doctors.json["pagination"] == .object(["page": .number(2), "limit": .number(2), "total": .number(3), "totalPages": .number(2)]))
            #expect(doctors.json["users"]?.array?.count == 1)
            #expect(doctors.json["users"]?[0]?["role"]?.string == "doctor")

            let search = try await client.request(.get, "/api/v1/users?search=ZED%201", token: admin)
            #expect(search.json["users"]?.array?.map { $0["email"]?.string } == ["doc1@clinic.example"])
            let byEmail = try await client.request(.get, "/api/v1/users?search=clinic.example", token: admin)
            #expect(byEmail.json["pagination"]?["total"]?.int == 3)
            let literal = try await client.request(.get, "/api/v1/users?search=100%25_", token: admin)
            #expect(literal.json["pagination"]?["total"]?.int == 1, "LIKE wildcards in the search must be literal")

            let clamped = try await client.request(.get, "/api/v1/users?limit=101", token: admin)
            #expect(clamped.json["pagination"]?["limit"]?.int == 100)
            let one = try await client.request(.get, "/api/v1/users?limit=1", token: admin)
            #expect(one.json["users"]?.array?.count == 1)
            #expect(one.json["pagination"]?["totalPages"]?.int == 5)
            let past = try await client.request(.get, "/api/v1/users?page=99", token: admin)
            #expect(past.status == .ok)
            #expect(past.json["users"]?.array?.isEmpty == true)
            let blocked = try await client.request(.get, "/api/v1/users?status=blocked", token: admin)
            #expect(blocked.json["pagination"]?["total"]?.int == 0)

            expectError(try await client.request(.get, "/api/v1/users?limit=0", token: admin), .badRequest, detailsContain: "limit")
            expectError(try await client.request(.get, "/api/v1/users?page=0", token: admin), .badRequest, detailsContain: "page")
            expectError(try await client.request(.get, "/api/v1/users?page=abc", token: admin), .badRequest, detailsContain: "integer")
            expectError(try await client.request(.get, "/api/v1/users?role=pilot", token: admin), .badRequest, detailsContain: "one of")
            expectError(try await client.request(.get, "/api/v1/users?status=gone", token: admin), .badRequest, detailsContain: "one of")
        }
    }

    @Test("Secretaries list users; patients and doctors may not")
    func listRoles() async throws {
        try await withApp { client, _ in
            let secretary = try await client.makeUser(role: "secretary")
            #expect(try await client.request(.get, "/api/v1/users", token: secretary.token).status == .ok)
            for role in ["patient", "doctor", "guest"] {
                let user = try await client.makeUser(role: role)
                expectError(try await client.request(.get, "/api/v1/users", token: user.token), .forbidden)
            }
            expectError(try await client.request(.get, "/api/v1/users"), .unauthorized)
        }
    }

    @Test("POST /users creates any role (201) for admins; secretaries get associated doctors that must be doctors")
    func createUsers() async throws {
        try await withApp { client, _ in
            let admin = try await client.adminToken()
            let doctor = try await client.makeUser(role: "doctor")
            let created = try await client.request(.post, "/api/v1/users", token: admin, json: [
                "email": "desk@clinic.example", "password": "Secret123", "name": "Front Desk", "role": "secretary",
                "associated_doctors": [doctor.id], "phone": "+4930123456",
            ])
            #expect(created.status == .created, "\(created.text)")
            #expect(created.json.keys == ["message", "user"])
            expectUserShape(created.json["user"], timestamps: true)
            #expect(created.json["user"]?["associated_doctors"]?.array == [.string(doctor.id)])
            let secretaryToken = try await client.login("desk@clinic.example", "Secret123")["access_token"]?.string ?? ""
            #expect(try await client.request(.get, "/api/v1/auth/me", token: secretaryToken).json["user"]?["associated_doctors"]?.array == [.string(doctor.id)])

            let patient = try await client.makeUser(role: "patient")
            expectError(try await client.request(.post, "/api/v1/users", token: admin, json: [
                "email": "desk2@clinic.example", "password": "Secret123", "name": "Desk", "role": "secretary", "associated_doctors": [patient.id],
            ]), .badRequest, detailsContain: "not doctors")
            expectError(try await client.request(.post, "/api/v1/users", token: admin, json: [
                "email": "desk3@clinic.example", "password": "Secret123", "name": "Desk", "role": "secretary", "associated_doctors": ["nope"],
            ]), .badRequest, detailsContain: "UUID")
            expectError(try await client.request(.post, "/api/v1/users", token: admin, json: [
                "email": "desk@clinic.example", "password": "Secret123", "name": "Again", "role": "doctor",
            ]), .conflict)
            expectError(try await client.request(.post, "/api/v1/users", token: admin, json: [
                "email": "boss@clinic.example", "password": "Secret123", "name": "Boss", "role": "superadmin",
            ]), .forbidden, detailsContain: "above your own")
            expectError(try await client.request(.post, "/api/v1/users", token: admin, json: ["email": "x@clinic.example", "password": "Secret123", "name": "X"]), .badRequest, detailsContain: "'role' is required")
            expectError(try await client.request(.post, "/api/v1/users", token: patient.token, json: [
                "email": "x@clinic.example", "password": "Secret123", "name": "X", "role": "patient",
            ]), .forbidden)
        }
    }

    @Test("GET /users/:id: self and staff see the user; others get 404 and no data; bad ids are 400")
    func getUser() async throws {
        try await withApp { client, _ in
            let admin = try await client.adminToken()
            let alice = try await client.makeUser(role: "patient")
            let bob = try await client.makeUser(role: "patient")
            let own = try await client.request(.get, "/api/v1/users/\(alice.id)", token: alice.token)
            #expect(own.status == .ok)
            expectUserShape(own.json["user"], timestamps: true)
            #expect(try await client.request(.get, "/api/v1/users/\(alice.id)", token: admin).status == .ok)
            let stranger = try await client.request(.get, "/api/v1/users/\(alice.id)", token: bob.token)
            expectError(stranger, .notFound)
            expectError(try await client.request(.get, "/api/v1/users/\(UUID().uuidString)", token: admin), .notFound)
            expectError(try await client.request(.get, "/api/v1/users/not-a-uuid", token: admin), .badRequest, detailsContain: "UUID")
        }
    }

    @Test("PUT /users/:id lets admins change role, status, name, phone and associations")
    func adminUpdate() async throws {
        try await withApp { client, _ in
            let admin = try await client.adminToken()
            let doctor = try await client.makeUser(role: "doctor")
            let user = try await client.makeUser(role: "patient")
            let response = try await client.request(.put, "/api/v1/users/\(user.id)", token: admin, json: [
                "role": "secretary", "is_status": "pending", "name": "Promoted", "phone": "+12025550123", "associated_doctors": [doctor.id],
            ])
            #expect(response.status == .ok, "\(response.text)")
            let updated = response.json["user"]
            #expect(updated?["role"]?.string == "secretary")
            #expect(updated?["is_status"]?.string == "pending")
            #expect(updated?["name"]?.string == "Promoted")
            #expect(updated?["associated_doctors"]?.array == [.string(doctor.id)])
            // the change is stored, and a change of role ends the user's sessions: he signs in again with the new role
            let fetched = try await client.request(.get, "/api/v1/users/\(user.id)", token: admin)
            #expect(fetched.json["user"] == updated)
            expectError(try await client.request(.get, "/api/v1/users", token: user.token), .unauthorized, detailsContain: "role changed")

            expectError(try await client.request(.put, "/api/v1/users/\(user.id)", token: admin, json: ["role": "wizard"]), .badRequest, detailsContain: "one of")
            expectError(try await client.request(.put, "/api/v1/users/\(user.id)", token: admin, json: ["is_status": true]), .badRequest, detailsContain: "is_status")
            expectError(try await client.request(.put, "/api/v1/users/\(UUID().uuidString)", token: admin, json: ["name": "X"]), .notFound)
            let secretary = try await client.makeUser(role: "secretary")
            expectError(try await client.request(.put, "/api/v1/users/\(doctor.id)", token: secretary.token, json: ["name": "X"]), .forbidden)
        }
    }

    @Test("DELETE /users/:id is admin only, never yourself, and the user is gone afterwards")
    func deleteUser() async throws {
        try await withApp { client, _ in
            let admin = try await client.adminToken()
            let user = try await client.makeUser(role: "patient")
            let other = try await client.makeUser(role: "patient")
            expectError(try await client.request(.delete, "/api/v1/users/\(user.id)", token: other.token), .forbidden)
            let deleted = try await client.request(.delete, "/api/v1/users/\(user.id)", token: admin)
            #expect(deleted.status == .ok)
            #expect(deleted.json.keys == ["message"])
            expectError(try await client.request(.get, "/api/v1/users/\(user.id)", token: admin), .notFound)
            expectError(try await client.request(.get, "/api/v1/auth/me", token: user.token), .unauthorized)
            expectError(try await client.request(.delete, "/api/v1/users/\(user.id)", token: admin), .notFound)
            let adminId = try await client.request(.get, "/api/v1/users/me", token: admin).json["user"]?["id"]?.string ?? ""
            expectError(try await client.request(.delete, "/api/v1/users/\(adminId)", token: admin), .forbidden)
        }
    }
}
