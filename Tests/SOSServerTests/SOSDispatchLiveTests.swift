import Foundation
import HTTPTypes
import HummingbirdTesting
import SOSDomain
import Testing

@testable import SOSServer

/// Serialized for the same reason as `SOSDispatchTests` (the two-node test alone runs two applications).
@Suite("SOS dispatch over the live hub: offers, first accept, status, privacy on the wire", .serialized)
struct SOSDispatchLiveTests {
    /// Every string and number in a frame, to prove what it does not contain.
    static func leaves(_ value: JSONValue) -> (strings: [String], numbers: [Double]) {
        switch value {
        case .string(let text): return ([text], [])
        case .number(let number): return ([], [number])
        case .array(let items):
            return items.map(Self.leaves).reduce(into: ([String](), [Double]())) { $0.0 += $1.strings; $0.1 += $1.numbers }
        case .object(let members):
            return members.map { key, value in
                let inner = Self.leaves(value)
                return ([key] + inner.strings, inner.numbers)
            }.reduce(into: ([String](), [Double]())) { $0.0 += $1.0; $0.1 += $1.1 }
        default: return ([], [])
        }
    }

    /// Waits until the hub (any node) has the users connected.
    static func waitConnected(_ services: AppServices, _ ids: [String]) async throws {
        let uuids = ids.compactMap(UUID.init(uuidString:))
        for _ in 0..<100 where await services.hub.connected(among: uuids).count < uuids.count {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await services.hub.connected(among: uuids).count == uuids.count)
    }

    @Test("Two doctors accept over the hub at once: one ack, one conflict and sos.taken; the loser never sees the place, coordinates or name")
    func liveAcceptAndPrivacy() async throws {
        try await withDispatchApp(.live, presence: nil) { client, services in
            let port = try #require(client.port)
            let first = try await OnCallDoctor.make(client, name: "Dr Ines Roux", at: Paris.north(1))
            let second = try await OnCallDoctor.make(client, name: "Dr Hugo Blanc", at: Paris.north(2))
            let offline = try await OnCallDoctor.make(client, at: Paris.north(1))
            let patient = try await client.makeUser(role: "patient", name: "Paula Secretname")
            let doctorSockets = [try await HubClient.connect(port: port, token: first.token), try await HubClient.connect(port: port, token: second.token)]
            let patientSocket = try await HubClient.connect(port: port, token: patient.token)
            try await Self.waitConnected(services, [first.id, second.id, patient.id])

            let place = "Hotel Lutetia, room 512"
            let (latitude, longitude) = (48.85123, 2.32456)
            let created = try await client.request(.post, "/api/v1/sos", token: patient.token, json: sosBody(at: (latitude, longitude), place: place))
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created.json["request"]?["id"]?.string)
            #expect(created.json["request"]?["status"]?["offered"]?.int == 2, "only the two connected doctors: \(created.text)")
            #expect(try await !offline.isOffered(client, id))

            var seen: [[JSONValue]] = [[], []]
            for (index, socket) in doctorSockets.enumerated() {
                let offer = try await socket.next("sos.offer")
                #expect(offer["data"]?["request_id"]?.string == id && offer["seq"]?.int != nil, "\(offer)")
                #expect(offer["data"]?["symptoms"]?.array?.count == 2 && offer["data"]?["language"]?.string == "en")
                seen[index].append(offer)
            }
            let searching = try await patientSocket.next("sos.status")
            #expect(searching["data"]?["state"]?.string == "searching" && searching["data"]?["offered"]?.int == 2, "\(searching)")

            // step: both accept at the same moment; exactly one wins
            async let firstReply = doctorSockets[0].call("sos.accept", ["request_id": id])
            async let secondReply = doctorSockets[1].call("sos.accept", ["request_id": id])
            let replies = [try await firstReply, try await secondReply]
            let winners = replies.indices.filter { replies[$0]["type"]?.string == "ack" }
            try #require(winners.count == 1, "\(replies)")
            let winner = winners[0]
            let loser = 1 - winner
            #expect(replies[loser]["error"]?["code"]?.string == "conflict", "\(replies[loser])")
            #expect(replies[winner]["data"]?["status"]?["state"]?.string == "accepted")
            seen[loser].append(try await doctorSockets[loser].next("sos.taken"))
            let accepted = try await patientSocket.next("sos.status", where: { $0["data"]?["state"]?.string == "accepted" })
            let winnerName = [first, second][winner].name
            #expect(accepted["data"]?["doctor"]?["name"]?.string == winnerName, "\(accepted)")
            #expect(accepted["data"]?["appointment_id"]?.string != nil)

            // step: on the way, with the doctor's position relayed to the patient only
            let token = [first, second][winner].token
            let onTheWay = try await client.request(.post, "/api/v1/sos/\(id)/status", token: token, json: ["status": "on_the_way", "eta_minutes": 12])
            #expect(onTheWay.status == .ok, "\(onTheWay.text)")
            let status = try await patientSocket.next("sos.status", where: { $0["data"]?["state"]?.string == "on_the_way" })
            #expect(status["data"]?["eta_minutes"]?.int == 12)
            _ = try await doctorSockets[winner].ack("sos.position", ["request_id": id, "latitude": 48.852, "longitude": 2.33])
            let position = try await patientSocket.next("sos.position")
            #expect(position["data"]?["latitude"]?.number == 48.852 && position["seq"]?.isNull == true, "\(position)")
            let refused = try await doctorSockets[loser].call("sos.position", ["request_id": id, "latitude": 1, "longitude": 1])
            #expect(refused["error"]?["code"]?.string == "not_found", "\(refused)")
            _ = try await client.request(.post, "/api/v1/sos/\(id)/status", token: token, json: ["status": "arrived"])
            _ = try await patientSocket.next("sos.status", where: { $0["data"]?["state"]?.string == "arrived" })

            // step: the negative — nothing the losing doctor received names the place, the coordinates or the patient
            try await Task.sleep(for: .milliseconds(500))
            seen[loser] += doctorSockets[loser].pending
            for frame in seen[loser] + [seen[winner][0]] {
                let (strings, numbers) = Self.leaves(frame)
                for text in strings {
                    #expect(!text.contains("Lutetia") && !text.contains("room 512") && !text.contains("Secretname"), "leaked in \(frame)")
                    #expect(!text.contains("48.85") && !text.contains("2.32"), "coordinates leaked in \(frame)")
                }
                #expect(!numbers.contains(latitude) && !numbers.contains(longitude), "coordinates leaked in \(frame)")
                #expect(frame["type"]?.string != "sos.position" && frame["type"]?.string != "sos.status", "\(frame)")
            }
            for socket in doctorSockets + [patientSocket] { socket.close() }
        }
    }

    @Test("sos.decline over the hub; a patient cannot accept; bad commands are bad_request")
    func hubCommands() async throws {
        try await withDispatchApp(.live, presence: nil) { client, services in
            let port = try #require(client.port)
            let doctor = try await OnCallDoctor.make(client, at: Paris.north(1))
            let patient = try await client.makeUser(role: "patient")
            let doctorSocket = try await HubClient.connect(port: port, token: doctor.token)
            let patientSocket = try await HubClient.connect(port: port, token: patient.token)
            try await Self.waitConnected(services, [doctor.id])
            let created = try await client.request(.post, "/api/v1/sos", token: patient.token, json: sosBody())
            let id = try #require(created.json["request"]?["id"]?.string)
            _ = try await doctorSocket.next("sos.offer")
            let byPatient = try await patientSocket.call("sos.accept", ["request_id": id])
            #expect(byPatient["error"]?["code"]?.string == "forbidden", "\(byPatient)")
            for (type, data) in [("sos.accept", [:]), ("sos.accept", ["request_id": id, "kind": "teleport"]), ("sos.decline", ["request_id": 7]),
                                 ("sos.position", ["request_id": id])] as [(String, [String: Any])] {
                let reply = try await doctorSocket.call(type, data)
                #expect(reply["error"]?["code"]?.string == "bad_request", "\(type) \(data): \(reply)")
            }
            let declined = try await doctorSocket.ack("sos.decline", ["request_id": id])
            #expect(declined["declined"]?.bool == true)
            let again = try await doctorSocket.call("sos.decline", ["request_id": id])
            #expect(again["error"]?["code"]?.string == "not_found", "\(again)")
            doctorSocket.close()
            patientSocket.close()
        }
    }

    @Test("Two nodes: offers raised on node A reach doctors connected to node B; ten accepting through both nodes, exactly one wins",
          .enabled(if: TestDatabase.postgresURL != nil, "needs SOS_TEST_DATABASE_URL"))
    func twoNodes() async throws {
        let storage = try await TestStorage.make()
        defer { Task { await storage.cleanUp() } }
        let configuration = {
            var configuration = dispatchConfiguration(storage)
            configuration.dispatch.waveSize = 10
            return configuration
        }()
        try await runApp(configuration, .live) { clientA, servicesA in
            try await runApp(configuration, .live) { clientB, _ in
                let portB = try #require(clientB.port)
                var doctors: [OnCallDoctor] = []
                for index in 0..<10 { doctors.append(try await OnCallDoctor.make(clientA, at: Paris.north(0.2 + Double(index) * 0.3))) }
                var sockets: [HubClient] = []
                for doctor in doctors { sockets.append(try await HubClient.connect(port: portB, token: doctor.token)) }
                // step: node A hears of node B's connections through the broker
                try await Self.waitConnected(servicesA, doctors.map(\.id))
                let patient = try await clientA.makeUser(role: "patient")
                let created = try await clientA.request(.post, "/api/v1/sos", token: patient.token, json: sosBody())
                let id = try #require(created.json["request"]?["id"]?.string)
                #expect(created.json["request"]?["status"]?["offered"]?.int == 10, "\(created.text)")
                for socket in sockets { _ = try await socket.next("sos.offer") }
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for (index, doctor) in doctors.enumerated() {
                        let client = index % 2 == 0 ? clientA : clientB
                        group.addTask { try await client.request(.post, "/api/v1/sos/\(id)/accept", token: doctor.token).status }
                    }
                    return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == .ok }.count == 1 && statuses.filter { $0 == .conflict }.count == 9, "\(statuses)")
                var taken = 0
                for socket in sockets {
                    if (try? await socket.next("sos.taken", timeout: .seconds(2))) != nil { taken += 1 }
                }
                #expect(taken == 9, "the nine losers on node B hear sos.taken, whichever node the winner used")
                let appointments = try await clientB.request(.get, "/api/v1/appointments", token: patient.token)
                #expect(appointments.json["pagination"]?["total"]?.int == 1, "\(appointments.text)")
                for socket in sockets { socket.close() }
            }
        }
    }
}
