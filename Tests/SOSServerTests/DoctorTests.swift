import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import SOSServer

@Suite("Doctors: profiles, listings, ratings")
struct DoctorTests {
    static let profileKeys: Set<String> = [
        "specialisation", "rating", "rating_count", "address", "working_hours", "bio", "is_listed", "supported_languages", "time_zone", "fees", "currency",
    ]

    func expectDoctorShape(_ doctor: JSONValue?, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(doctor?.keys == ["id", "name", "email", "phone", "profile_picture", "is_status", "created_at", "updated_at", "doctor_profile"],
                "doctor keys: \(doctor?.keys.sorted() ?? [])", sourceLocation: sourceLocation)
        let profile = doctor?["doctor_profile"]
        #expect(profile?.keys == Self.profileKeys, sourceLocation: sourceLocation)
        #expect(profile?["rating"]?.number != nil && profile?["rating_count"]?.int != nil && profile?["is_listed"]?.bool != nil, sourceLocation: sourceLocation)
        #expect(profile?["address"]?.isNull == true || profile?["address"]?.string != nil, sourceLocation: sourceLocation)
        #expect(isTimestamp(doctor?["created_at"]?.string), sourceLocation: sourceLocation)
    }

    @Test("POST /doctors creates (201) then updates (200) a doctor's own profile; PUT /doctors/:id too; nulls clear fields")
    func profileLifecycle() async throws {
        try await withApp { client, _ in
            let doctor = try await client.makeUser(role: "doctor", name: "Dr Ana")
            let missing = try await client.request(.post, "/api/v1/doctors", token: doctor.token, json: ["bio": "x"])
            expectError(missing, .badRequest, detailsContain: "specialisation")
            let created = try await client.request(.post, "/api/v1/doctors", token: doctor.token, json: [
                "specialisation": "Pediatrics", "address": "1 Beach Road", "working_hours": ["monday": "09:00-17:00"], "bio": "Kids",
                "is_listed": true, "supported_languages": ["en", "FR"], "time_zone": "America/Mexico_City", "phone": "+525512345678",
            ])
            #expect(created.status == .created, "\(created.text)")
            #expect(created.json.keys == ["message", "doctor"])
            expectDoctorShape(created.json["doctor"])
            let profile = created.json["doctor"]?["doctor_profile"]
            #expect(profile?["specialisation"]?.string == "Pediatrics")
            #expect(profile?["working_hours"] == .object(["monday": .string("09:00-17:00")]))
            #expect(profile?["supported_languages"] == .array([.string("en"), .string("FR")]))
            #expect(created.json["doctor"]?["phone"]?.string == "+525512345678")
            let again = try await client.request(.post, "/api/v1/doctors", token: doctor.token, json: ["bio": "Children and teens", "address": NSNull()])
            #expect(again.status == .ok, "\(again.text)")
            #expect(again.json["doctor"]?["doctor_profile"]?["bio"]?.string == "Children and teens")
            #expect(again.json["doctor"]?["doctor_profile"]?["address"]?.isNull == true)
            #expect(again.json["doctor"]?["doctor_profile"]?["specialisation"]?.string == "Pediatrics")
            let put = try await client.request(.put, "/api/v1/doctors/\(doctor.id)", token: doctor.token, json: ["is_listed": false, "name": "Dr Ana Ruiz"])
            #expect(put.status == .ok)
            #expect(put.json["doctor"]?["name"]?.string == "Dr Ana Ruiz")
            #expect(put.json["doctor"]?["doctor_profile"]?["is_listed"]?.bool == false)
            let own = try await client.request(.get, "/api/v1/doctors/self", token: doctor.token)
            #expect(own.status == .ok)
            #expect(own.json["doctor"] == put.json["doctor"])

            expectError(try await client.request(.post, "/api/v1/doctors", token: doctor.token, json: ["time_zone": "Mars/Olympus"]), .badRequest, detailsContain: "IANA")
            expectError(try await client.request(.post, "/api/v1/doctors", token: doctor.token, json: ["working_hours": [1, 2]]), .badRequest, detailsContain: "object")
            expectError(try await client.request(.post, "/api/v1/doctors", token: doctor.token, json: ["supported_languages": ["english!"]]), .badRequest)
            expectError(try await client.request(.post, "/api/v1/doctors", token: doctor.token, json: ["is_listed": "yes"]), .badRequest, detailsContain: "boolean")
        }
    }

    @Test("Only the doctor themself or an admin edits a profile; non-doctors cannot get one")
    func profilePermissions() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            expectError(try await client.request(.put, "/api/v1/doctors/\(clinic.doctor.id)", token: clinic.otherDoctor.token, json: ["bio": "hacked"]), .forbidden)
            expectError(try await client.request(.post, "/api/v1/doctors", token: clinic.otherDoctor.token, json: ["user_id": clinic.doctor.id, "bio": "x"]), .forbidden)
            expectError(try await client.request(.put, "/api/v1/doctors/\(clinic.doctor.id)", token: clinic.patient.token, json: ["bio": "x"]), .forbidden)
            expectError(try await client.request(.put, "/api/v1/doctors/\(clinic.doctor.id)", token: clinic.secretary.token, json: ["bio": "x"]), .forbidden)
            let byAdmin = try await client.request(.put, "/api/v1/doctors/\(clinic.doctor.id)", token: clinic.admin, json: ["bio": "Checked by admin"])
            #expect(byAdmin.status == .ok)
            expectError(try await client.request(.post, "/api/v1/doctors", token: clinic.admin, json: ["user_id": clinic.patient.id, "specialisation": "X"]),
                        .badRequest, detailsContain: "not a doctor")
            expectError(try await client.request(.post, "/api/v1/doctors", token: clinic.patient.token, json: ["specialisation": "X"]), .forbidden)
            expectError(try await client.request(.get, "/api/v1/doctors/self", token: clinic.patient.token), .forbidden)
            expectError(try await client.request(.put, "/api/v1/doctors/\(UUID().uuidString)", token: clinic.admin, json: ["bio": "x"]), .notFound)
            let unchanged = try await client.request(.get, "/api/v1/doctors/\(clinic.doctor.id)", token: clinic.patient.token)
            #expect(unchanged.json["doctor"]?["doctor_profile"]?["bio"]?.string == "Checked by admin")
        }
    }

    @Test("GET /doctors: filters, sorting, pagination; patients only see listed, active doctors")
    func listing() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let hidden = try await client.makeUser(role: "doctor", name: "Dr Hidden")
            _ = try await client.request(.post, "/api/v1/doctors", token: hidden.token, json: ["specialisation": "Cardiology", "is_listed": false])
            let all = try await client.request(.get, "/api/v1/doctors", token: clinic.patient.token)
            #expect(all.status == .ok)
            #expect(all.json.keys == ["doctors", "pagination"])
            #expect(all.json["pagination"]?["total"]?.int == 2)
            for doctor in all.json["doctors"]?.array ?? [] { expectDoctorShape(doctor) }
            let staff = try await client.request(.get, "/api/v1/doctors", token: clinic.admin)
            #expect(staff.json["pagination"]?["total"]?.int == 3)
            let unlisted = try await client.request(.get, "/api/v1/doctors?isListed=false", token: clinic.admin)
            #expect(unlisted.json["doctors"]?.array?.map { $0["id"]?.string } == [hidden.id])
            #expect(try await client.request(.get, "/api/v1/doctors?isListed=false", token: clinic.patient.token).json["pagination"]?["total"]?.int == 0)
            expectError(try await client.request(.get, "/api/v1/doctors/\(hidden.id)", token: clinic.patient.token), .notFound)
            #expect(try await client.request(.get, "/api/v1/doctors/\(hidden.id)", token: clinic.admin).status == .ok)

            let search = try await client.request(.get, "/api/v1/doctors?search=DERMA", token: clinic.patient.token)
            #expect(search.json["doctors"]?.array?.map { $0["id"]?.string } == [clinic.otherDoctor.id])
            let byName = try await client.request(.get, "/api/v1/doctors?search=alice", token: clinic.patient.token)
            #expect(byName.json["doctors"]?.array?.map { $0["id"]?.string } == [clinic.doctor.id])
            let byBio = try await client.request(.get, "/api/v1/doctors?search=travel%20medicine", token: clinic.patient.token)
            #expect(byBio.json["pagination"]?["total"]?.int == 2)
            let special = try await client.request(.get, "/api/v1/doctors?specialisation=general%20practice", token: clinic.patient.token)
            #expect(special.json["doctors"]?.array?.map { $0["id"]?.string } == [clinic.doctor.id])
            #expect(try await client.request(.get, "/api/v1/doctors?language=es", token: clinic.patient.token).json["pagination"]?["total"]?.int == 2)
            #expect(try await client.request(.get, "/api/v1/doctors?language=de", token: clinic.patient.token).json["pagination"]?["total"]?.int == 0)
            let paged = try await client.request(.get, "/api/v1/doctors?limit=1&page=2&sortBy=created_at&sortOrder=asc", token: clinic.patient.token)
            #expect(paged.json["doctors"]?.array?.map { $0["id"]?.string } == [clinic.otherDoctor.id])
            #expect(paged.json["pagination"] == .object(["page": .number(2), "limit": .number(1), "total": .number(2), "totalPages": .number(2)]))

            expectError(try await client.request(.get, "/api/v1/doctors?sortBy=price", token: clinic.patient.token), .badRequest, detailsContain: "rating")
            expectError(try await client.request(.get, "/api/v1/doctors?minRating=high", token: clinic.patient.token), .badRequest, detailsContain: "number")
            expectError(try await client.request(.get, "/api/v1/doctors?isListed=maybe", token: clinic.patient.token), .badRequest)
            expectError(try await client.request(.get, "/api/v1/doctors"), .unauthorized)
        }
    }

    @Test("Ratings: only after a completed appointment, once per appointment; rating and rating_count stay exact")
    func ratings() async throws {
        try await withApp { client, _ in
            let clinic = try await Clinic.make(client)
            let path = "/api/v1/doctors/\(clinic.doctor.id)/ratings"
            expectError(try await client.request(.post, path, token: clinic.patient.token, json: ["rating": 5]), .forbidden, detailsContain: "completed appointment")
            let first = try await clinic.completedAppointment(client, start: "10:00:00", end: "10:30:00")
            let second = try await clinic.completedAppointment(client, start: "11:00:00", end: "11:30:00")
            expectError(try await client.request(.post, path, token: clinic.patient.token, json: ["rating": 6]), .badRequest, detailsContain: "1 to 5")
            expectError(try await client.request(.post, path, token: clinic.patient.token, json: ["rating": 4.5]), .badRequest)
            let rated = try await client.request(.post, path, token: clinic.patient.token, json: ["rating": 5, "comment": "Great", "appointment_id": first])
            #expect(rated.status == .created, "\(rated.text)")
            #expect(rated.json["doctor"]?["doctor_profile"]?["rating"]?.number == 5)
            #expect(rated.json["doctor"]?["doctor_profile"]?["rating_count"]?.int == 1)
            expectError(try await client.request(.post, path, token: clinic.patient.token, json: ["rating": 1, "appointment_id": first]), .conflict)
            let next = try await client.request(.post, path, token: clinic.patient.token, json: ["rating": 4])
            #expect(next.status == .created)
            #expect(next.json["doctor"]?["doctor_profile"]?["rating"]?.number == 4.5)
            #expect(next.json["doctor"]?["doctor_profile"]?["rating_count"]?.int == 2)
            expectError(try await client.request(.post, path, token: clinic.patient.token, json: ["rating": 3]), .conflict)
            _ = second
            expectError(try await client.request(.post, path, token: clinic.otherPatient.token, json: ["rating": 1]), .forbidden)
            expectError(try await client.request(.post, path, token: clinic.doctor.token, json: ["rating": 5]), .forbidden)
            let sorted = try await client.request(.get, "/api/v1/doctors?sortBy=rating&sortOrder=desc&minRating=4", token: clinic.patient.token)
            #expect(sorted.json["doctors"]?.array?.map { $0["id"]?.string } == [clinic.doctor.id])
        }
    }
}
