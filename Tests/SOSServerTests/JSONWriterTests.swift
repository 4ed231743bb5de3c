import Foundation
import Testing

@testable import SOSDomain
@testable import SOSServer
@testable import SOSStorage

@Suite("Hand-written JSON for list responses")
struct JSONWriterTests {
    /// Text that exercises every escaping rule: quotes, backslashes, slashes, control characters, non-ASCII.
    static let awkward = "Dr \"Zoë\" \\ / O'Brien\n\t\r\u{8}\u{c}\u{1}\u{1f}\u{7f} 😀 \u{2028}"

    static func bytes(_ value: some Encodable) throws -> [UInt8] {
        [UInt8](try JSONCoding.encoder.encode(value))
    }

    static func appointment(_ note: String?, location: JSON?, symptoms: [String]) -> Appointment {
        Appointment(
            patientId: UUID(), doctorId: UUID(), date: LocalDate(year: 2026, month: 12, day: 3)!, startTime: LocalTime(hour: 9, minute: 30)!,
            endTime: LocalTime(hour: 10, minute: 0)!, status: .confirmed, streamChannelId: note == nil ? nil : "room-1", consultationType: .video,
            symptoms: symptoms, additionalNote: note, visitLocation: location, startsAt: Date(timeIntervalSince1970: 1_796_290_200.123),
            endsAt: Date(timeIntervalSince1970: 1_796_292_000), createdAt: Date(timeIntervalSince1970: 1_764_000_000.5),
            updatedAt: Date(timeIntervalSince1970: -1.25), bookedBy: note == nil ? nil : UUID(), patientAcceptance: note == nil ? .accepted : .pending,
            holdExpiresAt: note == nil ? nil : Date(timeIntervalSince1970: 1_764_001_200.25), cancellationReason: note.map { "Declined: " + $0 },
            fee: note == nil ? nil : Fee(amountMinor: 4550, currency: try! Currency("EUR")), version: note == nil ? 1 : 17
        )
    }

    @Test("Ids are written and read without Foundation's formatting: the same text as uuidString, either case read")
    func uuidText() throws {
        for id in (0..<200).map({ _ in UUID() }) + [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))] {
            #expect(id.apiString == id.uuidString.lowercased())
            for text in [id.uuidString, id.apiString] {
                #expect(Array(text.utf8).withUnsafeBufferPointer { UUID(text: $0) } == id)
            }
        }
        for bad in ["", "not-a-uuid", "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5", "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5g", "3f1b2c4d5e6f-4a7b-8c9d-0e1f2a3b4c5d0"] {
            #expect(Array(bad.utf8).withUnsafeBufferPointer { UUID(text: $0) } == nil, "\(bad)")
        }
    }

    @Test("Appointment lists are byte for byte what JSONEncoder writes, with and without nested people")
    func appointments() throws {
        let location: JSON = .object([
            "hotel": .string(Self.awkward), "floor": .number(3), "lat": .number(41.38879), "lng": .number(-0.0), "big": .number(1e21),
            "Room": .array([.null, .bool(true), .bool(false), .number(0.1), .object([:]), .array([])]), "é": .string(""), "_": .null,
        ])
        let patient = PersonSummary(id: UUID(), name: Self.awkward, email: nil, phone: "+33612345678", profilePicture: "https://cdn.example/a/b.png")
        let doctor = DoctorSummary(person: PersonSummary(id: UUID(), name: "Dr Alice", email: "a@b.c", phone: nil, profilePicture: nil),
                                   specialisation: "Dermatology", rating: 4.0)
        let payloads = [
            AppointmentPayload(Self.appointment(Self.awkward, location: location, symptoms: ["fever", Self.awkward, ""]), patient: patient, doctor: doctor),
            AppointmentPayload(Self.appointment(nil, location: nil, symptoms: []), patient: nil, doctor: nil),
            AppointmentPayload(Self.appointment("", location: .array([.number(4.5), .number(3.3333333333333335)]), symptoms: ["a"]), patient: patient,
                               doctor: DoctorSummary(person: patient, specialisation: "", rating: 4.25)),
        ]
        let page = Page(items: [1, 2, 3], total: 41, request: try PageRequest(page: 2, limit: 3))
        for count in [0, 1, 3] {
            let list = AppointmentListPayload(appointments: Array(payloads.prefix(count)), pagination: PaginationPayload(page))
            let written = try #require(list.jsonBytes)
            #expect(written == (try Self.bytes(list)), "\(String(decoding: written, as: UTF8.self))")
        }
    }

    @Test("Doctor lists are byte for byte what JSONEncoder writes")
    func doctors() throws {
        let now = Date(timeIntervalSince1970: 1_764_000_000.999)
        let user = User(email: nil, name: Self.awkward, role: .doctor, status: .blocked, phone: nil, profilePicture: "https://x.example/p.jpg",
                        createdAt: now, updatedAt: now)
        let full = DoctorProfile(
            userId: user.id, specialisation: "Médecine générale", rating: 4.666666666666667, ratingCount: 3, address: "1 Rue \"Haute\"",
            workingHours: .object(["mon": .array([.string("09:00-12:00")]), "Tue": .null]), bio: Self.awkward, isListed: true,
            supportedLanguages: ["fr", "en"], timeZone: "Europe/Paris", fees: [.video: 4550, .home: 12_000, .chat: 1], currency: try! Currency("KWD"),
            version: 3, createdAt: now, updatedAt: now.addingTimeInterval(10)
        )
        let bare = DoctorProfile(userId: user.id, specialisation: "", createdAt: now, updatedAt: now)
        let list = DoctorListPayload(
            doctors: [DoctorPayload(Doctor(user: user, profile: full)), DoctorPayload(Doctor(user: user, profile: bare))],
            pagination: PaginationPayload(Page(items: [0], total: 0, request: try PageRequest()))
        )
        let written = try #require(list.jsonBytes)
        #expect(written == (try Self.bytes(list)), "\(String(decoding: written, as: UTF8.self))")
    }

    @Test("A number with no JSON form falls back to JSONEncoder (which refuses it)")
    func nonFinite() throws {
        let doctor = DoctorSummary(person: PersonSummary(id: UUID(), name: "x", email: nil, phone: nil, profilePicture: nil), specialisation: "",
                                   rating: .nan)
        let list = AppointmentListPayload(
            appointments: [AppointmentPayload(Self.appointment(nil, location: nil, symptoms: []), patient: nil, doctor: doctor)],
            pagination: PaginationPayload(Page(items: [0], total: 1, request: try PageRequest()))
        )
        #expect(list.jsonBytes == nil)
    }
}
