import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import SOSServer

/// A small clinic for clinical tests: a listed doctor with a week of availability, a secretary for them,
/// a second doctor, and two patients.
struct Clinic {
    struct Account {
        let id: String
        let token: String
    }

    let admin: String
    let doctor: Account
    let otherDoctor: Account
    let secretary: Account
    let patient: Account
    let otherPatient: Account
    /// A date two days ahead (UTC), inside the doctor's availability.
    let date: String

    /// Builds the clinic through the API, as a client would.
    static func make(_ client: some TestClientProtocol, timeZone: String = "UTC") async throws -> Clinic {
        let admin = try await client.adminToken()
        let doctor = try await client.makeUser(role: "doctor", name: "Dr Alice Martin")
        let otherDoctor = try await client.makeUser(role: "doctor", name: "Dr Bob Stone")
        let secretary = try await client.makeUser(role: "secretary", name: "Sam Desk", extra: ["associated_doctors": [doctor.id]])
        let patient = try await client.makeUser(role: "patient", name: "Paula Tourist")
        let otherPatient = try await client.makeUser(role: "patient", name: "Otto Visitor")
        for (account, specialisation) in [(doctor, "General practice"), (otherDoctor, "Dermatology")] {
            let profile = try await client.request(.post, "/api/v1/doctors", token: account.token, json: [
                "specialisation": specialisation, "is_listed": true, "supported_languages": ["en", "es"], "time_zone": timeZone,
                "bio": "Travel medicine and \(specialisation.lowercased())", "fees": Clinic.fees, "currency": "EUR",
            ])
            #expect(profile.status == .created, "\(profile.text)")
        }
        let date = Clinic.day(offset: 2)
        for account in [doctor, otherDoctor] {
            let availability = try await client.request(.post, "/api/v1/availabilities", token: account.token, json: [
                "start_date": Clinic.day(offset: 1), "end_date": Clinic.day(offset: 8), "start_time": "08:00:00", "end_time": "18:00:00",
                "consultation_types": ["home", "online", "chat", "video"],
            ])
            #expect(availability.status == .created, "\(availability.text)")
        }
        return Clinic(
            admin: admin, doctor: Account(id: doctor.id, token: doctor.token), otherDoctor: Account(id: otherDoctor.id, token: otherDoctor.token),
            secretary: Account(id: secretary.id, token: secretary.token), patient: Account(id: patient.id, token: patient.token),
            otherPatient: Account(id: otherPatient.id, token: otherPatient.token), date: date
        )
    }

    /// Both doctors' fees (EUR): what a payment for each consultation type must be.
    static let fees: [String: Double] = ["home": 120, "online": 50, "chat": 30, "video": 60]

    /// `YYYY-MM-DD` for today + `offset` days in UTC.
    static func day(offset: Int) -> String {
        let date = Date().addingTimeInterval(TimeInterval(offset * 86_400))
        return String(Timestamp.string(from: date).prefix(10))
    }

    /// Books as the patient; returns the response.
    func book(_ client: some TestClientProtocol, start: String, end: String, type: String = "video", token: String? = nil, doctorId: String? = nil,
              date: String? = nil, extra: JSONObject = [:]) async throws -> TestResponse {
        var body: JSONObject = ["doctor_id": doctorId ?? self.doctor.id, "date": date ?? self.date, "start_time": start, "end_time": end, "consultation_type": type]
        body.merge(extra) { $1 }
        return try await client.request(.post, "/api/v1/appointments", token: token ?? self.patient.token, json: body)
    }

    /// Books and returns the new appointment's id.
    func bookId(_ client: some TestClientProtocol, start: String, end: String) async throws -> String {
        let response = try await self.book(client, start: start, end: end)
        #expect(response.status == .created, "\(response.text)")
        return response.json["appointment"]?["id"]?.string ?? ""
    }

    /// Pays an appointment's fee as the patient and has the admin confirm the manual payment: a recorded payment.
    func pay(_ client: some TestClientProtocol, _ appointmentId: String, amount: Double = 60) async throws {
        let created = try await client.request(.post, "/api/v1/payments", token: self.patient.token, json: [
            "appointment_id": appointmentId, "amount": amount, "currency": "eur", "payment_method": "bank_transfer",
        ])
        #expect(created.status == .created, "\(created.text)")
        let id = created.json["paymentId"]?.string ?? ""
        let confirmed = try await client.request(.post, "/api/v1/payments/\(id)/confirm", token: self.admin, json: [:] as JSONObject)
        #expect(confirmed.json["payment"]?["status"]?.string == "succeeded", "\(confirmed.text)")
    }

    /// Moves an appointment through the state machine as the admin.
    func move(_ client: some TestClientProtocol, _ id: String, through statuses: [String]) async throws {
        for status in statuses {
            let response = try await client.request(.put, "/api/v1/appointments/\(id)", token: self.admin, json: ["status": status])
            #expect(response.status == .ok, "to \(status): \(response.text)")
        }
    }

    /// A completed appointment between the patient and the doctor.
    func completedAppointment(_ client: some TestClientProtocol, start: String = "10:00:00", end: String = "10:30:00") async throws -> String {
        let id = try await self.bookId(client, start: start, end: end)
        try await self.move(client, id, through: ["payment_completed", "confirmed", "in_progress", "completed"])
        return id
    }
}

/// The seed's nested person object: exactly these fields, all strings.
func expectPersonShape(_ value: JSONValue?, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(value?.keys == ["id", "name", "email", "phone", "profile_picture"], "person keys: \(String(describing: value))", sourceLocation: sourceLocation)
    for key in ["id", "name", "email", "phone", "profile_picture"] {
        #expect(value?[key]?.string != nil, "\(key) must be a string", sourceLocation: sourceLocation)
    }
}

/// The seed's nested doctor object with `doctor_profiles: [{specialisation, rating}]`.
func expectNestedDoctorShape(_ value: JSONValue?, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(value?.keys == ["id", "name", "email", "phone", "profile_picture", "doctor_profiles"], sourceLocation: sourceLocation)
    let profile = value?["doctor_profiles"]?[0]
    #expect(value?["doctor_profiles"]?.array?.count == 1, sourceLocation: sourceLocation)
    #expect(profile?.keys == ["specialisation", "rating"], sourceLocation: sourceLocation)
    #expect(profile?["specialisation"]?.string != nil && profile?["rating"]?.number != nil, sourceLocation: sourceLocation)
}

/// The seed's appointment object; `detailed` adds `patient` and `doctor`.
func expectAppointmentShape(_ value: JSONValue?, detailed: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
    var keys: Set<String> = [
        "id", "user_id", "doctor_id", "date", "start_time", "end_time", "status", "stream_channel_id", "consultation_type", "symptoms",
        "additional_note", "visit_location", "created_at", "updated_at", "booked_by", "patient_acceptance", "hold_expires_at",
        "cancellation_reason", "fee", "version",
    ]
    if detailed { keys.formUnion(["patient", "doctor"]) }
    #expect(value?.keys == keys, "appointment keys: \(value?.keys.sorted() ?? [])", sourceLocation: sourceLocation)
    #expect(value?["date"]?.string?.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) != nil, sourceLocation: sourceLocation)
    for key in ["start_time", "end_time"] {
        #expect(value?[key]?.string?.range(of: #"^\d{2}:\d{2}:\d{2}$"#, options: .regularExpression) != nil, sourceLocation: sourceLocation)
    }
    #expect(value?["symptoms"]?.array != nil, sourceLocation: sourceLocation)
    #expect(value?["stream_channel_id"]?.isNull == true || value?["stream_channel_id"]?.string != nil, sourceLocation: sourceLocation)
    #expect(value?["additional_note"]?.isNull == true || value?["additional_note"]?.string != nil, sourceLocation: sourceLocation)
    #expect(isTimestamp(value?["created_at"]?.string) && isTimestamp(value?["updated_at"]?.string), sourceLocation: sourceLocation)
    if detailed {
        expectPersonShape(value?["patient"], sourceLocation: sourceLocation)
        expectNestedDoctorShape(value?["doctor"], sourceLocation: sourceLocation)
    }
}
