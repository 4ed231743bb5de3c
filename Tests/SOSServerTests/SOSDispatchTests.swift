import Foundation
import HTTPTypes
import HummingbirdTesting
import SOSDomain
import Testing

@testable import SOSServer

/// Serialized: each test runs a whole application; one at a time keeps this suite's PostgreSQL connections (pool +
/// LISTEN) few while the rest of the package's suites run in parallel against the same server.
@Suite("SOS dispatch: matching, waves, timeouts, the case's life, RBAC", .serialized)
struct SOSDispatchTests {
    @Test("Matching: only doctors on call, connected, within their coverage and the wave's radius, speaking the language, offering the kind")
    func matchingRules() async throws {
        let presence = FakePresence()
        let clock = TestClock()
        try await withDispatchApp(presence: presence, clock: clock) { client, services in
            let near = try await OnCallDoctor.make(client, at: Paris.north(1))
            let german = try await OnCallDoctor.make(client, at: Paris.north(1), languages: ["de"])
            let videoOnly = try await OnCallDoctor.make(client, at: Paris.north(1), kinds: ["video"])
            let offCall = try await OnCallDoctor.make(client, at: Paris.north(1), onCall: false)
            let offline = try await OnCallDoctor.make(client, at: Paris.north(1))
            let smallCoverage = try await OnCallDoctor.make(client, at: Paris.north(3), radiusKm: 2)
            let farther = try await OnCallDoctor.make(client, at: Paris.north(8), radiusKm: 10)
            presence.set([near, german, videoOnly, offCall, smallCoverage, farther].map(\.id))
            let patient = try await client.makeUser(role: "patient", name: "Paula Tourist")

            let created = try await client.request(.post, "/api/v1/sos", token: patient.token, json: sosBody())
            #expect(created.status == .created, "\(created.text)")
            let request = created.json["request"]
            let id = try #require(request?["id"]?.string)
            #expect(request?["state"]?.string == "searching")
            #expect(request?["wave"]?.int == 1 && request?["search_radius_km"]?.number == 5)
            #expect(request?["status"]?["offered"]?.int == 1, "\(created.text)")
            #expect(request?["status"]?["emergency_number"]?.isNull == true, "no red flag, no number")
            #expect(try await near.isOffered(client, id))
            for doctor in [german, videoOnly, offCall, offline, smallCoverage, farther] {
                #expect(try await !doctor.isOffered(client, id), "\(doctor.name) must not be offered in wave 1")
            }

            // step: the next wave widens to 10 km and reaches the doctor 8 km away, never the one whose coverage is 2 km
            clock.advance(31)
            #expect(try await services.sos.advanceDue() == 1)
            #expect(try await farther.isOffered(client, id))
            #expect(try await !smallCoverage.isOffered(client, id))
            let after = try await client.request(.get, "/api/v1/sos/\(id)", token: patient.token)
            #expect(after.json["request"]?["wave"]?.int == 2 && after.json["request"]?["search_radius_km"]?.number == 10, "\(after.text)")
            #expect(after.json["request"]?["status"]?["offered"]?.int == 2)

            // step: going off call stops new offers
            let off = try await client.request(.put, "/api/v1/doctors/me/on-call", token: offline.token, json: ["on_call": false])
            #expect(off.status == .ok && off.json["on_call"]?.bool == false && off.json["languages"]?.array?.count == 2, "\(off.text)")
        }
    }

    @Test("On call by schedule: offered while his availability covers the moment (his time zone), not outside it; the switch still works")
    func onCallBySchedule() async throws {
        let presence = FakePresence()
        let clock = TestClock()
        // step: 11:59 in Paris on the app's clock, so the windows around "now" never cross midnight
        let paris = TimeZone(identifier: "Europe/Paris")!
        let local = WallClock.local(Date(), in: paris)
        clock.advance(TimeInterval(12 * 3600 - 60 - local.time.seconds))
        let today = WallClock.local(clock.now(), in: paris).date
        try await withDispatchApp(presence: presence, clock: clock) { client, services in
            let covered = try await OnCallDoctor.make(client, at: Paris.north(1), onCall: false)
            let later = try await OnCallDoctor.make(client, at: Paris.north(1), onCall: false)
            for (doctor, window) in [(covered, ("11:00:00", "13:00:00")), (later, ("12:00:00", "18:00:00"))] {
                let availability = try await client.request(.post, "/api/v1/availabilities", token: doctor.token, json: [
                    "start_date": "\(today)", "end_date": "\(today)", "start_time": window.0, "end_time": window.1, "consultation_types": ["home"],
                ])
                #expect(availability.status == .created, "\(availability.text)")
                let set = try await client.request(.put, "/api/v1/doctors/me/on-call", token: doctor.token, json: ["on_call": false, "by_schedule": true])
                #expect(set.status == .ok && set.json["by_schedule"]?.bool == true && set.json["on_call"]?.bool == false, "\(set.text)")
            }
            #expect(try await client.request(.get, "/api/v1/doctors/me/on-call", token: covered.token).json["on_call_now"]?.bool == true)
            #expect(try await client.request(.get, "/api/v1/doctors/me/on-call", token: later.token).json["on_call_now"]?.bool == false)
            presence.set([covered.id, later.id])
            let patient = try await client.makeUser(role: "patient", name: "Sam Scheduled")
            let created = try await client.request(.post, "/api/v1/sos", token: patient.token, json: sosBody())
            let id = try #require(created.json["request"]?["id"]?.string, "\(created.text)")
            #expect(try await covered.isOffered(client, id))
            #expect(try await !later.isOffered(client, id), "his availability starts at 12:00")

            // step: at 12:00 the second doctor's schedule covers the moment: the next wave reaches him
            clock.advance(61)
            #expect(try await services.sos.advanceDue() == 1)
            #expect(try await later.isOffered(client, id))

            // step: off by schedule and off by hand: nothing more, and a schedule without a base is refused
            let off = try await client.request(.put, "/api/v1/doctors/me/on-call", token: later.token, json: ["on_call": false, "by_schedule": false])
            #expect(off.json["on_call_now"]?.bool == false && off.json["by_schedule"]?.bool == false, "\(off.text)")
            let fresh = try await client.makeUser(role: "doctor", name: "Dr No Base")
            expectError(try await client.request(.put, "/api/v1/doctors/me/on-call", token: fresh.token, json: ["on_call": false, "by_schedule": true]),
                        .badRequest, detailsContain: "base location")
            expectError(try await client.request(.put, "/api/v1/doctors/me/on-call", token: covered.token, json: ["on_call": false, "by_schedule": "yes"]), .badRequest)
        }
    }

    @Test("Waves: the nearest few first, ranked by distance; declines by everyone send the next wave at once")
    func wavesAndDecline() async throws {
        let presence = FakePresence()
        try await withDispatchApp(presence: presence) { client, services in
            var doctors: [OnCallDoctor] = []
            for km in [4.0, 1.0, 3.0, 2.0] { doctors.append(try await OnCallDoctor.make(client, at: Paris.north(km))) }
            presence.set(doctors.map(\.id))
            let patient = try await client.makeUser(role: "patient")
            let created = try await client.request(.post, "/api/v1/sos", token: patient.token, json: sosBody())
            let id = try #require(created.json["request"]?["id"]?.string)
            // the three nearest (1, 2, 3 km) in wave 1, not the one 4 km away
            #expect(try await !doctors[0].isOffered(client, id))
            for doctor in doctors[1...] { #expect(try await doctor.isOffered(client, id)) }
            let offer = try #require(try await doctors[1].offers(client).first)
            #expect(offer.keys == ["request_id", "symptoms", "severity", "language", "kind", "distance_km", "area", "wave", "offered_at"], "\(offer)")
            #expect(offer["distance_km"]?.int == 1 && offer["kind"]?.string == "home" && offer["area"]?.string?.hasPrefix("FR, about 1 km south") == true, "\(offer)")

            for doctor in doctors[1...] {
                let declined = try await client.request(.post, "/api/v1/sos/\(id)/decline", token: doctor.token)
                #expect(declined.status == .ok, "\(declined.text)")
            }
            #expect(try await doctors[0].isOffered(client, id), "all declined: wave 2 goes out at once")
            let again = try await client.request(.post, "/api/v1/sos/\(id)/decline", token: doctors[1].token)
            expectError(again, .notFound)
            let late = try await client.request(.post, "/api/v1/sos/\(id)/accept", token: doctors[1].token)
            expectError(late, .conflict, detailsContain: "declined")
            _ = services
        }
    }

    @Test("No accept: video with any on-call doctor speaking the language, then no_doctor with the emergency number")
    func timeoutToVideoThenNoDoctor() async throws {
        let presence = FakePresence()
        let clock = TestClock()
        try await withDispatchApp(presence: presence, clock: clock) { client, services in
            let lyon = try await OnCallDoctor.make(client, at: (45.764, 4.8357), radiusKm: 20, kinds: ["home", "video"])
            let spanish = try await OnCallDoctor.make(client, at: (45.764, 4.8357), kinds: ["video"], languages: ["es"])
            presence.set([lyon.id, spanish.id])
            let patient = try await client.makeUser(role: "patient")
            let created = try await client.request(.post, "/api/v1/sos", token: patient.token, json: sosBody(kinds: ["home", "video"]))
            let id = try #require(created.json["request"]?["id"]?.string)
            #expect(created.json["request"]?["status"]?["offered"]?.int == 0)

            clock.advance(121)
            #expect(try await services.sos.advanceDue() == 1)
            let fallback = try await client.request(.get, "/api/v1/sos/\(id)", token: patient.token)
            #expect(fallback.json["request"]?["state"]?.string == "video_fallback", "\(fallback.text)")
            let offers = try await lyon.offers(client)
            #expect(offers.count == 1 && offers.first?["kind"]?.string == "video" && offers.first?["area"]?.string == "FR", "\(offers)")
            #expect(try await !spanish.isOffered(client, id))

            clock.advance(60)
            #expect(try await services.sos.advanceDue() == 0, "nothing due before the video window ends")
            clock.advance(61)
            #expect(try await services.sos.advanceDue() == 1)
            let ended = try await client.request(.get, "/api/v1/sos/\(id)", token: patient.token)
            #expect(ended.json["request"]?["state"]?.string == "no_doctor", "\(ended.text)")
            #expect(ended.json["request"]?["status"]?["emergency_number"]?["number"]?.string == "112")
            #expect(ended.json["request"]?["status"]?["message"]?.string?.contains("No doctor is available") == true)
            #expect(try await lyon.offers(client).isEmpty, "a request that ended is no longer offered")
            let accept = try await client.request(.post, "/api/v1/sos/\(id)/accept", token: lyon.token)
            expectError(accept, .conflict)
            clock.advance(3600)
            #expect(try await services.sos.advanceDue() == 0, "no_doctor is final: nothing waits forever")
        }
    }

    @Test("Red flags put the local emergency number in the first answer")
    func redFlags() async throws {
        try await withDispatchApp { client, _ in
            for (body, number, alternatives) in [
                (sosBody(severity: "critical", country: "gb"), "999", ["112"]),
                (sosBody(severity: "low", symptoms: ["Chest pain since an hour"], country: "US"), "911", []),
                (sosBody(severity: "high", country: "ZZ"), "112", []),
            ] {
                let patient = try await client.makeUser(role: "patient")
                let created = try await client.request(.post, "/api/v1/sos", token: patient.token, json: body)
                #expect(created.status == .created, "\(created.text)")
                let emergency = created.json["request"]?["status"]?["emergency_number"]
                #expect(emergency?["number"]?.string == number && emergency?["alternatives"]?.array?.compactMap(\.string) == alternatives, "\(created.text)")
                #expect(created.json["request"]?["red_flag"]?.bool == true)
                #expect(created.json["request"]?["status"]?["message"]?.string?.hasPrefix("Call \(number) now") == true)
            }
        }
    }

    @Test("Red-flag symptoms are recognised in the languages tourists write in, without case or accents; ordinary complaints are not",
          arguments: [
              ("Chest pain since an hour", true), ("Douleur à la poitrine", true), ("ÉVANOUIE dans la salle de bain", true),
              ("Mein Mann ist bewusstlos", true), ("Starke Brustschmerzen", true), ("No puede respirar", true), ("Está sangrando mucho", true),
              ("Dolore al petto", true), ("È svenuta", true), ("Dor no peito", true), ("Hij is flauwgevallen", true), ("Ademnood", true),
              ("Sore throat", false), ("Mal de gorge", false), ("Halsschmerzen", false), ("Demasiada sangría anoche", false),
              ("Mal di testa", false), ("Dor de dente", false), ("Keelpijn", false),
          ])
    func redFlagLanguages(symptom: String, raised: Bool) {
        #expect(RedFlags.raised(severity: .low, symptoms: [symptom]) == raised, "\(symptom)")
    }

    @Test("Going on call needs a fee for each kind offered (an accepted case becomes an appointment at that fee)")
    func onCallNeedsFees() async throws {
        try await withDispatchApp { client, _ in
            let doctor = try await client.makeUser(role: "doctor")
            let profile = try await client.request(.post, "/api/v1/doctors", token: doctor.token, json: [
                "specialisation": "General practice", "supported_languages": ["en"], "fees": ["video": 60], "currency": "EUR",
            ])
            #expect(profile.status == .created || profile.status == .ok, "\(profile.text)")
            let both = try await client.request(.put, "/api/v1/doctors/me/on-call", token: doctor.token, json: [
                "on_call": true, "latitude": 48.85, "longitude": 2.35, "kinds": ["home", "video"],
            ])
            expectError(both, .badRequest, detailsContain: "no fee for 'home' consultations")
            #expect(both.json["details"]?.string?.contains("'kinds': [\"video\"]") == true, "the fix is named: \(both.text)")
            #expect(both.json["details"]?.string?.contains("PUT /api/v1/doctors/\(doctor.id)") == true, "and where to set the fee: \(both.text)")
            let video = try await client.request(.put, "/api/v1/doctors/me/on-call", token: doctor.token, json: [
                "on_call": true, "latitude": 48.85, "longitude": 2.35, "kinds": ["video"],
            ])
            #expect(video.status == .ok && video.json["on_call"]?.bool == true, "\(video.text)")
            // going off call needs no fee
            let off = try await client.request(.put, "/api/v1/doctors/me/on-call", token: doctor.token, json: ["on_call": false, "kinds": ["home"]])
            #expect(off.status == .ok, "\(off.text)")
        }
    }

    @Test("First accept wins: a confirmed appointment like any other; the other doctor gets 409 Taken; status to closed")
    func acceptBecomesAppointment() async throws {
        let presence = FakePresence()
        let clock = TestClock()
        try await withDispatchApp(presence: presence, clock: clock) { client, services in
            let first = try await OnCallDoctor.make(client, name: "Dr Ines Roux", at: Paris.north(1))
            let second = try await OnCallDoctor.make(client, at: Paris.north(2))
            presence.set([first.id, second.id])
            let patient = try await client.makeUser(role: "patient", name: "Paula Tourist")
            let created = try await client.request(.post, "/api/v1/sos", token: patient.token, json: sosBody())
            let id = try #require(created.json["request"]?["id"]?.string)

            let accepted = try await client.request(.post, "/api/v1/sos/\(id)/accept", token: first.token)
            #expect(accepted.status == .ok, "\(accepted.text)")
            let status = accepted.json["request"]?["status"]
            #expect(status?["state"]?.string == "accepted" && status?["doctor"]?["name"]?.string == "Dr Ines Roux", "\(accepted.text)")
            #expect(status?["doctor"]?["languages"]?.array?.count == 2 && status?["doctor"]?["distance_km"]?.number == 1)
            let appointmentId = try #require(status?["appointment_id"]?.string)
            let taken = try await client.request(.post, "/api/v1/sos/\(id)/accept", token: second.token)
            expectError(taken, .conflict, detailsContain: "Another doctor accepted")
            #expect(taken.json["error"]?.string == "Taken")
            // the doctor who has the case sees it whole
            let seen = try await client.request(.get, "/api/v1/sos/\(id)", token: first.token)
            #expect(seen.json["request"]?["place"]?.string == "Hotel Lutetia, room 512", "\(seen.text)")

            for token in [patient.token, first.token] {
                let list = try await client.request(.get, "/api/v1/appointments", token: token)
                let appointment = list.json["appointments"]?.array?.first { $0["id"]?.string == appointmentId }
                #expect(appointment?["status"]?.string == "confirmed" && appointment?["consultation_type"]?.string == "home", "\(list.text)")
                #expect(appointment?["patient_acceptance"]?.string == "accepted" && appointment?["hold_expires_at"]?.isNull == true)
                #expect(appointment?["fee"]?["amount"]?.number == 120, "the doctor's home fee: \(String(describing: appointment))")
                #expect(appointment?["visit_location"]?["place"]?.string == "Hotel Lutetia, room 512")
            }
            let chat = try await client.request(.post, "/api/v1/chat/messages", token: patient.token, json: ["recipient_id": first.id, "content": "Room 512, second floor"])
            #expect(chat.status == .created, "chat between the two is allowed: \(chat.text)")
            // no hold may cancel it while the doctor is on the way
            clock.advance(3 * 86_400)
            _ = try await services.payments.releaseEndedHolds()
            let kept = try await client.request(.get, "/api/v1/appointments/\(appointmentId)", token: patient.token)
            #expect(kept.json["appointment"]?["status"]?.string == "confirmed", "\(kept.text)")

            let noEta = try await client.request(.post, "/api/v1/sos/\(id)/status", token: first.token, json: ["status": "on_the_way"])
            expectError(noEta, .badRequest, detailsContain: "eta_minutes")
            let wrongDoctor = try await client.request(.post, "/api/v1/sos/\(id)/status", token: second.token, json: ["status": "arrived"])
            expectError(wrongDoctor, .notFound)
            let onTheWay = try await client.request(.post, "/api/v1/sos/\(id)/status", token: first.token, json: ["status": "on_the_way", "eta_minutes": 15])
            #expect(onTheWay.json["request"]?["status"]?["eta_minutes"]?.int == 15, "\(onTheWay.text)")
            #expect(onTheWay.json["request"]?["status"]?["message"]?.string == "Dr Ines Roux is on the way, about 15 minutes away.")
            for state in ["arrived", "closed"] {
                let moved = try await client.request(.post, "/api/v1/sos/\(id)/status", token: first.token, json: ["status": state])
                #expect(moved.json["request"]?["state"]?.string == state, "\(moved.text)")
            }
            let back = try await client.request(.post, "/api/v1/sos/\(id)/status", token: first.token, json: ["status": "on_the_way", "eta_minutes": 5])
            expectError(back, .conflict, detailsContain: "final")
            let unknown = try await client.request(.post, "/api/v1/sos/\(id)/status", token: first.token, json: ["status": "teleported"])
            expectError(unknown, .badRequest)
        }
    }

    @Test("Concurrent accept: ten doctors accept at once, exactly one wins and one appointment exists")
    func concurrentAccept() async throws {
        let presence = FakePresence()
        try await withDispatchApp(presence: presence, configure: { $0.dispatch.waveSize = 10 }) { client, _ in
            var doctors: [OnCallDoctor] = []
            for index in 0..<10 { doctors.append(try await OnCallDoctor.make(client, at: Paris.north(0.2 + Double(index) * 0.3))) }
            presence.set(doctors.map(\.id))
            let patient = try await client.makeUser(role: "patient")
            let created = try await client.request(.post, "/api/v1/sos", token: patient.token, json: sosBody())
            let id = try #require(created.json["request"]?["id"]?.string)
            #expect(created.json["request"]?["status"]?["offered"]?.int == 10)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for doctor in doctors {
                    group.addTask { try await client.request(.post, "/api/v1/sos/\(id)/accept", token: doctor.token).status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == .conflict }.count == 9, "\(statuses)")
            let list = try await client.request(.get, "/api/v1/appointments", token: patient.token)
            #expect(list.json["pagination"]?["total"]?.int == 1, "\(list.text)")
        }
    }

    @Test("Cancel by the patient withdraws offers and cancels the appointment; hand-back restarts matching without the doctor")
    func cancelAndHandBack() async throws {
        let presence = FakePresence()
        try await withDispatchApp(presence: presence) { client, _ in
            let first = try await OnCallDoctor.make(client, at: Paris.north(1))
            let second = try await OnCallDoctor.make(client, at: Paris.north(2))
            presence.set([first.id, second.id])
            let patient = try await client.makeUser(role: "patient")

            let open = try await client.request(.post, "/api/v1/sos", token: patient.token, json: sosBody())
            let openId = try #require(open.json["request"]?["id"]?.string)
            let again = try await client.request(.post, "/api/v1/sos", token: patient.token, json: sosBody())
            expectError(again, .conflict, detailsContain: "already have an SOS request")
            let byDoctor = try await client.request(.post, "/api/v1/sos/\(openId)/cancel", token: first.token)
            expectError(byDoctor, .notFound)
            let cancelled = try await client.request(.post, "/api/v1/sos/\(openId)/cancel", token: patient.token, json: ["reason": "Feeling better"])
            #expect(cancelled.json["request"]?["state"]?.string == "cancelled" && cancelled.json["request"]?["reason"]?.string == "Feeling better", "\(cancelled.text)")
            #expect(try await first.offers(client).isEmpty)
            #expect(try await second.offers(client).isEmpty)
            expectError(try await client.request(.post, "/api/v1/sos/\(openId)/cancel", token: patient.token), .conflict, detailsContain: "final")

            let created = try await client.request(.post, "/api/v1/sos", token: patient.token, json: sosBody())
            let id = try #require(created.json["request"]?["id"]?.string)
            let accepted = try await client.request(.post, "/api/v1/sos/\(id)/accept", token: first.token)
            let appointmentId = try #require(accepted.json["request"]?["status"]?["appointment_id"]?.string)
            expectError(try await client.request(.post, "/api/v1/sos/\(id)/hand-back", token: second.token), .notFound)
            let handedBack = try await client.request(.post, "/api/v1/sos/\(id)/hand-back", token: first.token, json: ["reason": "Car broke down"])
            #expect(handedBack.status == .ok, "\(handedBack.text)")
            #expect(handedBack.json["request"]?["state"]?.string == "searching" && handedBack.json["request"]?["accepted_doctor_id"]?.isNull == true)
            let appointment = try await client.request(.get, "/api/v1/appointments/\(appointmentId)", token: patient.token)
            #expect(appointment.json["appointment"]?["status"]?.string == "cancelled", "\(appointment.text)")
            #expect(try await second.isOffered(client, id), "offered again in the new search")
            #expect(try await !first.isOffered(client, id), "not offered back to the doctor who handed it back")
            let accept = try await client.request(.post, "/api/v1/sos/\(id)/accept", token: second.token)
            #expect(accept.status == .ok, "\(accept.text)")
            let newAppointment = try #require(accept.json["request"]?["status"]?["appointment_id"]?.string)
            let cancel = try await client.request(.post, "/api/v1/sos/\(id)/cancel", token: patient.token)
            #expect(cancel.json["request"]?["state"]?.string == "cancelled", "\(cancel.text)")
            let ended = try await client.request(.get, "/api/v1/appointments/\(newAppointment)", token: patient.token)
            #expect(ended.json["appointment"]?["status"]?.string == "cancelled", "\(ended.text)")
        }
    }

    @Test("RBAC and validation: patients ask, doctors answer, strangers see nothing, staff see their scope")
    func accessAndValidation() async throws {
        let presence = FakePresence()
        try await withDispatchApp(presence: presence) { client, _ in
            let admin = try await client.adminToken()
            let doctor = try await OnCallDoctor.make(client, at: Paris.north(1))
            let other = try await OnCallDoctor.make(client, at: Paris.north(1.5))
            presence.set([doctor.id, other.id])
            let secretary = try await client.makeUser(role: "secretary", extra: ["associated_doctors": [doctor.id]])
            let otherSecretary = try await client.makeUser(role: "secretary", extra: ["associated_doctors": [other.id]])
            let patient = try await client.makeUser(role: "patient")
            let stranger = try await client.makeUser(role: "patient")

            expectError(try await client.request(.post, "/api/v1/sos", token: doctor.token, json: sosBody()), .forbidden, detailsContain: "Only patients")
            expectError(try await client.request(.put, "/api/v1/doctors/me/on-call", token: patient.token, json: ["on_call": false]), .forbidden)
            expectError(try await client.request(.get, "/api/v1/sos", token: patient.token), .forbidden)
            expectError(try await client.request(.get, "/api/v1/sos/offers", token: patient.token), .forbidden)
            for (body, fragment) in [
                (sosBody(severity: "apocalyptic"), "severity"), (sosBody(at: (100, 2)), "latitude"), (sosBody(country: "FRA"), "country"),
                (sosBody(language: "english"), "language"), (sosBody(kinds: ["teleport"]), "kinds"), (sosBody(kinds: []), "kinds"),
                (sosBody(symptoms: []), "symptoms"),
            ] {
                expectError(try await client.request(.post, "/api/v1/sos", token: patient.token, json: body), .badRequest, detailsContain: fragment)
            }
            let nul = try await client.request(.post, "/api/v1/sos", token: patient.token, rawBody: #"{"symptoms":["a"],"severity":"low","latitude":1,"longitude":1,"country":"FR","language":"en","place":"room\u0000"}"#)
            expectError(nul, .badRequest, detailsContain: "NUL")
            expectError(try await client.request(.put, "/api/v1/doctors/me/on-call", token: doctor.token, json: ["latitude": 1]), .badRequest)
            let fresh = try await client.makeUser(role: "doctor")
            expectError(try await client.request(.put, "/api/v1/doctors/me/on-call", token: fresh.token, json: ["on_call": true]), .badRequest, detailsContain: "base location")
            expectError(try await client.request(.put, "/api/v1/doctors/me/on-call", token: doctor.token, json: ["on_call": true, "radius_km": 0]), .badRequest)
            let defaults = try await client.request(.get, "/api/v1/doctors/me/on-call", token: fresh.token)
            #expect(defaults.json["on_call"]?.bool == false && defaults.json["latitude"]?.isNull == true, "\(defaults.text)")

            let created = try await client.request(.post, "/api/v1/sos", token: patient.token, json: sosBody())
            let id = try #require(created.json["request"]?["id"]?.string)
            expectError(try await client.request(.post, "/api/v1/sos/\(id)/accept", token: patient.token), .forbidden)
            for token in [stranger.token, doctor.token, secretary.token] {
                expectError(try await client.request(.get, "/api/v1/sos/\(id)", token: token), .notFound)
            }
            expectError(try await client.request(.get, "/api/v1/sos/not-a-uuid", token: patient.token), .badRequest)
            let staff = try await client.request(.get, "/api/v1/sos", token: admin)
            #expect(staff.json["requests"]?.array?.map { $0["id"]?.string } == [id], "\(staff.text)")
            #expect(try await client.request(.get, "/api/v1/sos", token: secretary.token).json["requests"]?.array?.isEmpty == true)

            _ = try await client.request(.post, "/api/v1/sos/\(id)/accept", token: doctor.token)
            #expect(try await client.request(.get, "/api/v1/sos", token: secretary.token).json["requests"]?.array?.count == 1)
            #expect(try await client.request(.get, "/api/v1/sos", token: otherSecretary.token).json["requests"]?.array?.isEmpty == true)
            #expect(try await client.request(.get, "/api/v1/sos/\(id)", token: secretary.token).status == .ok)
            expectError(try await client.request(.get, "/api/v1/sos/\(id)", token: other.token), .notFound)
        }
    }

    @Test("A doctor who has an appointment now cannot take the case: his accept is undone (409) and the search goes on without him")
    func acceptUndoneWhenBooked() async throws {
        let presence = FakePresence()
        let clock = TestClock()
        // step: the test's clock at 10:00 tomorrow in Paris, so the appointments below fit in one day whenever the test runs
        let paris = TimeZone(identifier: "Europe/Paris")!
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = paris
        let tomorrow = calendar.date(byAdding: .day, value: 1, to: Date())!
        let ten = calendar.date(bySettingHour: 10, minute: 0, second: 0, of: tomorrow)!
        clock.advance(ten.timeIntervalSinceNow)
        let day = String(Timestamp.string(from: calendar.startOfDay(for: tomorrow).addingTimeInterval(12 * 3600)).prefix(10))
        try await withDispatchApp(presence: presence, clock: clock) { client, _ in
            let busy = try await OnCallDoctor.make(client, at: Paris.north(1))
            let free = try await OnCallDoctor.make(client, at: Paris.north(2))
            presence.set([busy.id, free.id])
            let admin = try await client.adminToken()
            let patient = try await client.makeUser(role: "patient")
            let other = try await client.makeUser(role: "patient")
            let booked = try await client.request(.post, "/api/v1/appointments", token: admin, json: [
                "user_id": other.id, "doctor_id": busy.id, "date": day, "start_time": "10:10:00", "end_time": "10:40:00", "consultation_type": "video",
            ])
            #expect(booked.status == .created, "\(booked.text)")
            let created = try await client.request(.post, "/api/v1/sos", token: patient.token, json: sosBody())
            let id = try #require(created.json["request"]?["id"]?.string)
            let refused = try await client.request(.post, "/api/v1/sos/\(id)/accept", token: busy.token)
            expectError(refused, .conflict, detailsContain: "You have an appointment at this time")
            let after = try await client.request(.get, "/api/v1/sos/\(id)", token: patient.token)
            #expect(after.json["request"]?["state"]?.string == "searching" && after.json["request"]?["accepted_doctor_id"]?.isNull == true, "\(after.text)")
            #expect(try await !busy.isOffered(client, id), "his offer counts as declined")
            #expect(try await free.isOffered(client, id))
            let list = try await client.request(.get, "/api/v1/appointments", token: patient.token)
            #expect(list.json["pagination"]?["total"]?.int == 0, "no appointment was left behind: \(list.text)")
            let accepted = try await client.request(.post, "/api/v1/sos/\(id)/accept", token: free.token)
            #expect(accepted.status == .ok, "\(accepted.text)")
        }
    }
}
