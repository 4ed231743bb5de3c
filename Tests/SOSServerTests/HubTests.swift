import AsyncHTTPClient
import Crypto
import Foundation
import HummingbirdTesting
import Logging
import HummingbirdWSClient
import NIOWebSocket
import ServiceLifecycle
import Testing

@testable import SOSServer
@testable import SOSStorage

/// Runs a live server with the hub (short presence grace so tests stay fast) and hands over its port.
func withHub<T: Sendable>(
    configure: @escaping @Sendable (inout ServerConfiguration) -> Void = { _ in },
    _ test: @Sendable (any TestClientProtocol, Int, AppServices) async throws -> T
) async throws -> T {
    try await withApp(.live, configure: { configuration in
        configuration.hub.offlineGrace = 0.3
        configure(&configuration)
    }) { client, services in
        try await test(client, try #require(client.port), services)
    }
}

/// A clinic whose patient has an appointment with the doctor (so they may chat and see each other's presence).
func clinicWithAppointment(_ client: some TestClientProtocol) async throws -> (Clinic, String) {
    let clinic = try await Clinic.make(client)
    let appointment = try await clinic.bookId(client, start: "10:00:00", end: "10:30:00")
    return (clinic, appointment)
}

@Suite("Real-time hub: connection and authentication")
struct HubConnectionTests {
    @Test("Header auth answers ready; first-message auth answers an ack; ping answers pong")
    func authentication() async throws {
        try await withHub { client, port, _ in
            let clinic = try await Clinic.make(client)
            let byHeader = try await HubClient.connect(port: port, token: clinic.patient.token, waitForReady: false)
            let ready = try await byHeader.next("ready")
            #expect(ready["seq"]?.isNull == true)
            #expect(ready["data"]?["user_id"]?.string == clinic.patient.id)
            #expect(ready["data"]?["role"]?.string == "patient")
            #expect(ready["data"]?["epoch"]?.string?.isEmpty == false)
            #expect(ready["data"]?["last_seq"]?.int == 0)

            let byMessage = try await HubClient.connect(port: port)
            let auth = try await byMessage.ack("auth", ["token": clinic.doctor.token])
            #expect(auth["user_id"]?.string == clinic.doctor.id)
            #expect(auth["role"]?.string == "doctor")

            byMessage.send("ping", id: "p1")
            let pong = try await byMessage.next("pong")
            #expect(pong["id"]?.string == "p1")
            #expect(isTimestamp(pong["data"]?["at"]?.string))
            byHeader.close()
            byMessage.close()
        }
    }

    @Test("A bad token, a command before auth, or no auth within the timeout close the socket with 4001")
    func unauthenticated() async throws {
        try await withHub(configure: { $0.hub.authTimeout = 1 }) { client, port, _ in
            let forged = try await HubClient.connect(port: port, token: "not-a-jwt", waitForReady: false)
            #expect(try await forged.closed()?.closeCode == .unknown(4001))

            let early = try await HubClient.connect(port: port)
            early.send("chat.send", ["to": UUID().uuidString, "content": "hi"])
            let closeFrame = try await early.closed()
            #expect(closeFrame?.closeCode == .unknown(4001))
            #expect(closeFrame?.reason?.contains("auth") == true)

            let wrongAuth = try await HubClient.connect(port: port)
            wrongAuth.send("auth", ["token": "eyJhbGciOiJIUzI1NiJ9.e30.bad"])
            #expect(try await wrongAuth.closed()?.closeCode == .unknown(4001))

            let silent = try await HubClient.connect(port: port)
            let silentClose = try await silent.closed(timeout: .seconds(10))
            #expect(silentClose?.closeCode == .unknown(4001))
            #expect(silentClose?.reason?.contains("Authenticate within 1 seconds") == true)

            // a plain GET on the socket path says how to connect
            let plain = try await client.request(.get, "/api/v1/ws")
            expectError(plain, .upgradeRequired, detailsContain: "WebSocket")
        }
    }

    @Test("Logout, blocking and token expiry close open sockets with 4001; other users' sockets stay open")
    func revocation() async throws {
        try await withHub { client, port, _ in
            let clinic = try await Clinic.make(client)
            let patient = try await HubClient.connect(port: port, token: clinic.patient.token)
            let bystander = try await HubClient.connect(port: port, token: clinic.otherPatient.token)
            let logout = try await client.request(.post, "/api/v1/auth/logout", token: clinic.patient.token, json: [:])
            #expect(logout.status == .ok, "\(logout.text)")
            let closeFrame = try await patient.closed(timeout: .seconds(5))
            #expect(closeFrame?.closeCode == .unknown(4001))
            #expect(closeFrame?.reason == "Session revoked")
            // the revoked token cannot reconnect
            let again = try await HubClient.connect(port: port, token: clinic.patient.token, waitForReady: false)
            #expect(try await again.closed()?.closeCode == .unknown(4001))

            let doctor = try await HubClient.connect(port: port, token: clinic.doctor.token)
            let blocked = try await client.request(.put, "/api/v1/users/\(clinic.doctor.id)", token: clinic.admin, json: ["is_status": "blocked"])
            #expect(blocked.status == .ok, "\(blocked.text)")
            #expect(try await doctor.closed(timeout: .seconds(5))?.closeCode == .unknown(4001))

            let pong = try await bystander.call("ping")
            #expect(pong["type"]?.string == "pong", "the other patient's socket is untouched")
            bystander.close()
        }
    }

    @Test("An access token that expires while connected closes the socket with 4001")
    func expiry() async throws {
        try await withHub(configure: { $0.accessTokenLifetime = 3 }) { client, port, _ in
            let token = try await client.adminToken()
            let socket = try await HubClient.connect(port: port, token: token)
            let closeFrame = try await socket.closed(timeout: .seconds(15))
            #expect(closeFrame?.closeCode == .unknown(4001))
            #expect(closeFrame?.reason?.contains("expired") == true)
        }
    }

    @Test("Malformed JSON, unknown types, missing fields and binary frames get error frames; the socket survives")
    func malformedInput() async throws {
        try await withHub { client, port, _ in
            let clinic = try await Clinic.make(client)
            let socket = try await HubClient.connect(port: port, token: clinic.patient.token)
            socket.sendRaw("{not json")
            let malformed = try await socket.next("error")
            #expect(malformed["error"]?["code"]?.string == "bad_request")
            #expect(malformed["error"]?["message"]?.string?.contains("JSON") == true)
            socket.sendRaw(#"["an", "array"]"#)
            #expect(try await socket.next("error")["error"]?["code"]?.string == "bad_request")

            let unknown = try await socket.call("teleport", ["to": "mars"])
            #expect(unknown["type"]?.string == "error")
            #expect(unknown["error"]?["code"]?.string == "unknown_type")
            #expect(unknown["error"]?["message"]?.string?.contains("protocol/websocket.md") == true)

            for (type, data) in [
                ("chat.send", ["content": "hi"]), ("chat.send", ["to": "not-a-uuid", "content": "hi"]), ("chat.send", ["to": clinic.doctor.id]),
                ("chat.read", ["message_ids": "x"]), ("chat.read", ["message_ids": [Int]()]), ("presence.update", ["status": "invisible"]),
                ("presence.query", [:]), ("resume", ["last_seq": -1]), ("signal", ["appointment_id": UUID().uuidString, "kind": "dance"]),
                ("video.join", [:]), ("chat.typing", ["to": 42]), ("chat.send", ["to": clinic.doctor.id, "content": "a\u{0}b"]),
            ] as [(String, [String: Any])] {
                let reply = try await socket.call(type, data)
                #expect(reply["type"]?.string == "error", "\(type) \(data)")
                #expect(reply["error"]?["code"]?.string == "bad_request", "\(type) \(data): \(reply)")
                #expect(reply["error"]?["message"]?.string?.isEmpty == false)
            }
            socket.sendBinary([1, 2, 3])
            #expect(try await socket.next("error")["error"]?["message"]?.string?.contains("binary") == true)
            #expect(try await socket.call("ping")["type"]?.string == "pong")
            socket.close()
        }
    }

    @Test("A message above the size limit closes the socket with 1009, compressed ones too (no inflating bombs)")
    func messageTooBig() async throws {
        try await withHub(configure: { $0.hub.maxMessageBytes = 2048 }) { client, port, _ in
            let token = try await client.adminToken()
            let socket = try await HubClient.connect(port: port, token: token)
            socket.send("chat.send", ["to": UUID().uuidString, "content": String(repeating: "x", count: 4096)])
            #expect(try await socket.closed()?.closeCode == .messageTooLarge)
            // 1 MB of one letter deflates to about a kilobyte: the server stops inflating at the limit
            let compressed = try await HubClient.connect(port: port, token: token, deflate: true)
            #expect(try await compressed.call("ping")["type"]?.string == "pong", "small compressed messages pass")
            compressed.send("chat.send", ["to": UUID().uuidString, "content": String(repeating: "x", count: 1 << 20)])
            #expect(try await compressed.closed()?.closeCode == .messageTooLarge)
        }
    }

    @Test("The per-connection rate limit answers rate_limited errors and the socket stays open")
    func rateLimit() async throws {
        try await withHub(configure: { $0.hub.ratePerSecond = 1; $0.hub.rateBurst = 3 }) { client, port, _ in
            let token = try await client.adminToken()
            let socket = try await HubClient.connect(port: port, token: token)
            let ids = (0..<10).map { socket.send("ping", id: "r\($0)") }
            var replies: [JSONValue] = []
            for _ in 0..<100 {
                replies = socket.pending.filter { ids.contains($0["id"]?.string ?? "") }
                if replies.count == 10 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let limited = replies.filter { $0["error"]?["code"]?.string == "rate_limited" }
            #expect(replies.count == 10)
            // 3 in the burst plus one per second while the ten are processed: most are refused whatever the load
            #expect(limited.count >= 4, "\(replies)")
            #expect(limited.first?["error"]?["message"]?.string?.contains("per second") == true)
            try await Task.sleep(for: .milliseconds(1_100))
            #expect(try await socket.call("ping")["type"]?.string == "pong", "the bucket refills")
            socket.close()
        }
    }

    @Test("permessage-deflate is negotiated when offered and messages still flow both ways")
    func deflate() async throws {
        try await withHub { client, port, _ in
            let (clinic, _) = try await clinicWithAppointment(client)
            let patient = try await HubClient.connect(port: port, token: clinic.patient.token, deflate: true)
            let doctor = try await HubClient.connect(port: port, token: clinic.doctor.token, deflate: true)
            let long = String(repeating: "Compressible symptom description. ", count: 60)
            let ack = try await patient.ack("chat.send", ["to": clinic.doctor.id, "content": long, "client_msg_id": "deflate-1"])
            #expect(ack["message"]?["content"]?.string == long.trimmingCharacters(in: .whitespaces))
            let delivered = try await doctor.next("chat.message")
            #expect(delivered["data"]?["content"]?.string == long.trimmingCharacters(in: .whitespaces))
            patient.close()
            doctor.close()
        }
    }

    @Test("Graceful shutdown closes open sockets with 1001")
    func shutdown() async throws {
        let storage = try await TestStorage.make()
        defer { Task { await storage.cleanUp() } }
        var logger = Logger(label: "hub-shutdown-test")
        logger.logLevel = .critical
        let services = try await AppServices.build(storage.configuration, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try buildApplication(services, onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) })
        let group = serviceGroup(app, services)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = http.shutdown() }
            var login = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/auth/email/login")
            login.method = .POST
            login.headers.add(name: "Content-Type", value: "application/json")
            login.body = .bytes(Data(#"{"email":"admin@test.com","password":"Admin123!"}"#.utf8))
            let response = try await http.execute(login, timeout: .seconds(10))
            let body = JSONValue.parse(Data(buffer: try await response.body.collect(upTo: 1 << 16)))
            let token = try #require(body?["access_token"]?.string ?? body?["session"]?["access_token"]?.string, "\(String(describing: body))")
            let socket = try await HubClient.connect(port: port, token: token)
            await group.triggerGracefulShutdown()
            let closeFrame = try await socket.closed()
            #expect(closeFrame?.closeCode == .goingAway)
            try await tasks.waitForAll()
        }
    }
}

@Suite("Real-time hub: chat")
struct HubChatTests {
    @Test("chat.send is stored then acked, reaches every device of the recipient and the sender's other devices, never strangers")
    func delivery() async throws {
        try await withHub { client, port, _ in
            let (clinic, _) = try await clinicWithAppointment(client)
            let phone = try await HubClient.connect(port: port, token: clinic.patient.token)
            let laptop = try await HubClient.connect(port: port, token: clinic.patient.token)
            let doctorPhone = try await HubClient.connect(port: port, token: clinic.doctor.token)
            let doctorDesk = try await HubClient.connect(port: port, token: clinic.doctor.token)
            let stranger = try await HubClient.connect(port: port, token: clinic.otherPatient.token)
            let otherDoctor = try await HubClient.connect(port: port, token: clinic.otherDoctor.token)

            let ack = try await phone.ack("chat.send", ["to": clinic.doctor.id, "content": "  I have a fever  ", "client_msg_id": "m-1"])
            #expect(ack["duplicate"]?.bool == false)
            let message = try #require(ack["message"])
            #expect(message.keys == ["id", "sender_id", "recipient_id", "content", "client_msg_id", "status", "created_at", "delivered_at", "read_at"])
            #expect(message["content"]?.string == "I have a fever")
            #expect(message["status"]?.string == "sent")
            #expect(message["sender_id"]?.string == clinic.patient.id && message["recipient_id"]?.string == clinic.doctor.id)
            #expect(message["client_msg_id"]?.string == "m-1")
            #expect(message["delivered_at"]?.isNull == true && message["read_at"]?.isNull == true)

            for socket in [doctorPhone, doctorDesk, laptop] {
                let event = try await socket.next("chat.message")
                #expect(event["data"] == message)
                #expect((event["seq"]?.int ?? 0) >= 1)
            }
            try await phone.expectNothing("chat.message")
            try await stranger.expectNothing("chat.message", within: .milliseconds(50))
            try await otherDoctor.expectNothing("chat.message", within: .milliseconds(50))

            // stored before the ack: the doctor's REST history has it
            let history = try await client.request(.get, "/api/v1/chat/conversations/\(clinic.patient.id)/messages", token: clinic.doctor.token)
            #expect(history.json["messages"]?[0]?["id"] == message["id"])

            // a retry after a lost ack returns the stored message and delivers nothing new
            let retry = try await laptop.ack("chat.send", ["to": clinic.doctor.id, "content": "I have a fever", "client_msg_id": "m-1"])
            #expect(retry["duplicate"]?.bool == true)
            #expect(retry["message"]?["id"] == message["id"])
            try await doctorPhone.expectNothing("chat.message")
            let count = try await client.request(.get, "/api/v1/chat/conversations/\(clinic.patient.id)/messages", token: clinic.doctor.token)
            #expect(count.json["messages"]?.array?.count == 1)

            // seq increases per user
            _ = try await doctorPhone.ack("chat.send", ["to": clinic.patient.id, "content": "Drink water", "client_msg_id": "d-1"])
            let first = try await laptop.next("chat.message")
            let second = try await phone.next("chat.message")
            #expect(first["seq"] == second["seq"], "both devices of one user see the same seq")
            #expect((first["seq"]?.int ?? 0) > 1)
            for socket in [phone, laptop, doctorPhone, doctorDesk, stranger, otherDoctor] { socket.close() }
        }
    }

    @Test("Concurrent sends are all stored once; retries of one client_msg_id inside the same write batch store one message")
    func concurrentSends() async throws {
        try await withHub { client, port, _ in
            let (clinic, _) = try await clinicWithAppointment(client)
            let ids = try await withThrowingTaskGroup(of: (String, Int, String).self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let key = index < 10 ? "same-key" : "key-\(index)"
                        let response = try await client.request(.post, "/api/v1/chat/messages", token: clinic.patient.token, json: [
                            "recipient_id": clinic.doctor.id, "content": "message \(index)", "client_msg_id": key,
                        ])
                        return (key, Int(response.status.code), response.json["message"]?["id"]?.string ?? "")
                    }
                }
                var results: [(String, Int, String)] = []
                for try await result in group { results.append(result) }
                return results
            }
            let same = ids.filter { $0.0 == "same-key" }
            #expect(Set(same.map(\.2)).count == 1, "every retry of one key answers the same stored message")
            #expect(same.filter { $0.1 == 201 }.count == 1 && same.filter { $0.1 == 200 }.count == 9)
            #expect(ids.filter { $0.0 != "same-key" }.allSatisfy { $0.1 == 201 })
            let history = try await client.request(.get, "/api/v1/chat/conversations/\(clinic.doctor.id)/messages?limit=100", token: clinic.patient.token)
            #expect(history.json["messages"]?.array?.count == 31)
            _ = port
        }
    }

    @Test("Who may chat with whom: no appointment, patient to patient and to strangers are refused without saying why")
    func rules() async throws {
        try await withHub { client, port, _ in
            let (clinic, _) = try await clinicWithAppointment(client)
            let patient = try await HubClient.connect(port: port, token: clinic.patient.token)
            let stranger = try await HubClient.connect(port: port, token: clinic.otherPatient.token)
            for target in [clinic.otherPatient.id, clinic.otherDoctor.id, UUID().uuidString.lowercased(), clinic.patient.id] {
                let reply = try await patient.call("chat.send", ["to": target, "content": "hello"])
                #expect(reply["error"]?["code"]?.string == "not_found", "to \(target): \(reply)")
            }
            let typing = try await patient.call("chat.typing", ["to": clinic.otherPatient.id])
            #expect(typing["error"]?["code"]?.string == "not_found")
            try await stranger.expectNothing("chat.message")
            try await stranger.expectNothing("chat.typing", within: .milliseconds(50))

            // staff may write to anyone; doctors to doctors
            let secretary = try await HubClient.connect(port: port, token: clinic.secretary.token)
            _ = try await secretary.ack("chat.send", ["to": clinic.otherPatient.id, "content": "Your test results are ready"])
            #expect(try await stranger.next("chat.message")["data"]?["sender_id"]?.string == clinic.secretary.id)
            let doctor = try await HubClient.connect(port: port, token: clinic.doctor.token)
            _ = try await doctor.ack("chat.send", ["to": clinic.otherDoctor.id, "content": "Second opinion?"])

            // empty and over-long content
            #expect(try await patient.call("chat.send", ["to": clinic.doctor.id, "content": "   "])["error"]?["code"]?.string == "bad_request")
            let long = try await patient.call("chat.send", ["to": clinic.doctor.id, "content": String(repeating: "a", count: 4001)])
            #expect(long["error"]?["message"]?.string?.contains("4000") == true)
            for socket in [patient, stranger, secretary, doctor] { socket.close() }
        }
    }

    @Test("Receipts move sent → delivered → read, reach the sender, and only the recipient sets them; typing is relayed, not stored")
    func receiptsAndTyping() async throws {
        try await withHub { client, port, _ in
            let (clinic, _) = try await clinicWithAppointment(client)
            let patient = try await HubClient.connect(port: port, token: clinic.patient.token)
            let doctor = try await HubClient.connect(port: port, token: clinic.doctor.token)
            let stranger = try await HubClient.connect(port: port, token: clinic.otherPatient.token)
            let sent = try await patient.ack("chat.send", ["to": clinic.doctor.id, "content": "Hello doctor"])
            let id = try #require(sent["message"]?["id"]?.string)
            _ = try await doctor.next("chat.message")

            // the sender cannot mark his own message; strangers cannot either
            #expect(try await patient.ack("chat.read", ["message_ids": [id]])["updated"]?.int == 0)
            #expect(try await stranger.ack("chat.read", ["message_ids": [id]])["updated"]?.int == 0)

            #expect(try await doctor.ack("chat.delivered", ["message_ids": [id]])["updated"]?.int == 1)
            let delivered = try await patient.next("chat.receipt")
            #expect(delivered["data"]?["id"]?.string == id)
            #expect(delivered["data"]?["status"]?.string == "delivered")
            #expect(isTimestamp(delivered["data"]?["delivered_at"]?.string))

            let conversations = try await client.request(.get, "/api/v1/chat/conversations", token: clinic.doctor.token)
            #expect(conversations.json["conversations"]?[0]?["unreadCount"]?.int == 1)

            #expect(try await doctor.ack("chat.read", ["message_ids": [id]])["updated"]?.int == 1)
            let read = try await patient.next("chat.receipt")
            #expect(read["data"]?["status"]?.string == "read")
            #expect(isTimestamp(read["data"]?["read_at"]?.string))
            // receipts never go backwards
            #expect(try await doctor.ack("chat.delivered", ["message_ids": [id]])["updated"]?.int == 0)
            let after = try await client.request(.get, "/api/v1/chat/conversations", token: clinic.doctor.token)
            #expect(after.json["conversations"]?[0]?["unreadCount"]?.int == 0)
            try await stranger.expectNothing("chat.receipt")

            _ = try await doctor.ack("chat.typing", ["to": clinic.patient.id, "typing": true])
            let typing = try await patient.next("chat.typing")
            #expect(typing["seq"]?.isNull == true, "typing is ephemeral: no seq")
            #expect(typing["data"]?["from"]?.string == clinic.doctor.id)
            #expect(typing["data"]?["typing"]?.bool == true)
            try await stranger.expectNothing("chat.typing", within: .milliseconds(50))
            let history = try await client.request(.get, "/api/v1/chat/conversations/\(clinic.doctor.id)/messages", token: clinic.patient.token)
            #expect(history.json["messages"]?.array?.count == 1, "typing is not stored")
            for socket in [patient, doctor, stranger] { socket.close() }
        }
    }

    @Test("REST chat: send (201, retry 200), conversations in the seed shape, history paging, read receipts pushed over the hub")
    func rest() async throws {
        try await withHub { client, port, _ in
            let (clinic, _) = try await clinicWithAppointment(client)
            let doctor = try await HubClient.connect(port: port, token: clinic.doctor.token)
            let patient = try await HubClient.connect(port: port, token: clinic.patient.token)
            let sent = try await client.request(.post, "/api/v1/chat/messages", token: clinic.patient.token, json: [
                "recipient_id": clinic.doctor.id, "content": "Sent over REST", "client_msg_id": "rest-1",
            ])
            #expect(sent.status == .created, "\(sent.text)")
            let message = try #require(sent.json["message"])
            #expect(try await doctor.next("chat.message")["data"] == message)
            #expect(try await patient.next("chat.message")["data"] == message, "a REST send reaches the sender's sockets too")
            let retry = try await client.request(.post, "/api/v1/chat/messages", token: clinic.patient.token, json: [
                "recipient_id": clinic.doctor.id, "content": "Sent over REST", "client_msg_id": "rest-1",
            ])
            #expect(retry.status == .ok)
            #expect(retry.json["message"]?["id"] == message["id"])

            for index in 1...4 {
                let more = try await client.request(.post, "/api/v1/chat/messages", token: clinic.doctor.token, json: [
                    "recipient_id": clinic.patient.id, "content": "Reply \(index)",
                ])
                #expect(more.status == .created)
                try await Task.sleep(for: .milliseconds(3))
            }
            let conversations = try await client.request(.get, "/api/v1/chat/conversations", token: clinic.patient.token)
            #expect(conversations.status == .ok)
            let conversation = try #require(conversations.json["conversations"]?[0])
            #expect(conversation.keys == ["id", "partnerId", "partnerName", "partnerAvatar", "lastMessage", "lastMessageAt", "unreadCount"])
            #expect(conversation["partnerId"]?.string == clinic.doctor.id)
            #expect(conversation["partnerName"]?.string == "Dr Alice Martin")
            #expect(conversation["lastMessage"]?.string == "Reply 4")
            #expect(conversation["unreadCount"]?.int == 4)
            #expect(isTimestamp(conversation["lastMessageAt"]?.string))

            let page1 = try await client.request(.get, "/api/v1/chat/conversations/\(clinic.doctor.id)/messages?limit=3", token: clinic.patient.token)
            #expect(page1.json["messages"]?.array?.map { $0["content"]?.string ?? "" } == ["Reply 4", "Reply 3", "Reply 2"])
            let before = try #require(page1.json["next_before"]?.string)
            let page2 = try await client.request(
                .get, "/api/v1/chat/conversations/\(clinic.doctor.id)/messages?limit=3&before=\(before.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)",
                token: clinic.patient.token
            )
            #expect(page2.json["messages"]?.array?.map { $0["content"]?.string ?? "" } == ["Reply 1", "Sent over REST"])
            #expect(page2.json["next_before"]?.isNull == true)

            let replyId = try #require(page1.json["messages"]?[0]?["id"]?.string)
            let read = try await client.request(.put, "/api/v1/chat/messages/\(replyId)/read", token: clinic.patient.token)
            #expect(read.status == .ok)
            #expect(read.json["message"]?["status"]?.string == "read")
            let receipt = try await doctor.next("chat.receipt")
            #expect(receipt["data"]?["id"]?.string == replyId)

            // errors: not the recipient, unknown ids, bad input, no token
            expectError(try await client.request(.put, "/api/v1/chat/messages/\(replyId)/read", token: clinic.doctor.token), .notFound)
            expectError(try await client.request(.put, "/api/v1/chat/messages/\(replyId)/read", token: clinic.otherPatient.token), .notFound)
            expectError(try await client.request(.put, "/api/v1/chat/messages/nope/read", token: clinic.patient.token), .badRequest)
            expectError(try await client.request(.post, "/api/v1/chat/messages", token: clinic.patient.token, json: ["recipient_id": clinic.doctor.id]),
                        .badRequest, detailsContain: "content")
            expectError(try await client.request(.post, "/api/v1/chat/messages", token: clinic.patient.token, json: ["recipient_id": "x", "content": "hi"]),
                        .badRequest, detailsContain: "recipient_id")
            expectError(try await client.request(.post, "/api/v1/chat/messages", token: clinic.otherPatient.token, json: [
                "recipient_id": clinic.patient.id, "content": "hi",
            ]), .notFound)
            expectError(try await client.request(.get, "/api/v1/chat/conversations/\(clinic.doctor.id)/messages?before=yesterday", token: clinic.patient.token),
                        .badRequest, detailsContain: "before")
            expectError(try await client.request(.get, "/api/v1/chat/conversations"), .unauthorized)
            // another user's conversation is not readable: the stranger sees only his own (empty) history with the doctor
            let snoop = try await client.request(.get, "/api/v1/chat/conversations/\(clinic.doctor.id)/messages", token: clinic.otherPatient.token)
            #expect(snoop.json["messages"]?.array?.isEmpty == true)
            doctor.close()
            patient.close()
        }
    }
}

@Suite("Real-time hub: presence, live events, resume")
struct HubLiveTests {
    @Test("Presence: online/away/offline across devices, pushed only to related users, query answers only for them")
    func presence() async throws {
        try await withHub { client, port, _ in
            let (clinic, _) = try await clinicWithAppointment(client)
            let doctor = try await HubClient.connect(port: port, token: clinic.doctor.token)
            let secretary = try await HubClient.connect(port: port, token: clinic.secretary.token)
            let stranger = try await HubClient.connect(port: port, token: clinic.otherPatient.token)
            let otherDoctor = try await HubClient.connect(port: port, token: clinic.otherDoctor.token)
            _ = try await doctor.next("presence.changed", where: { $0["data"]?["user_id"]?.string == clinic.secretary.id })

            let phone = try await HubClient.connect(port: port, token: clinic.patient.token)
            let online = try await doctor.next("presence.changed", where: { $0["data"]?["user_id"]?.string == clinic.patient.id })
            #expect(online["data"]?["status"]?.string == "online")
            #expect(online["seq"]?.isNull == true)
            try await stranger.expectNothing("presence.changed", within: .milliseconds(300))
            try await otherDoctor.expectNothing("presence.changed", within: .milliseconds(10))

            // a second device: no change; away only when every device is away
            let laptop = try await HubClient.connect(port: port, token: clinic.patient.token)
            #expect(try await phone.ack("presence.update", ["status": "away"])["status"]?.string == "online")
            #expect(try await laptop.ack("presence.update", ["status": "away"])["status"]?.string == "away")
            let away = try await doctor.next("presence.changed", where: { $0["data"]?["user_id"]?.string == clinic.patient.id })
            #expect(away["data"]?["status"]?.string == "away")

            let query = try await doctor.ack("presence.query", ["user_ids": [clinic.patient.id, clinic.otherPatient.id, clinic.secretary.id]])
            let answered = query["presence"]?.array ?? []
            #expect(Set(answered.compactMap { $0["user_id"]?.string }) == [clinic.patient.id, clinic.secretary.id], "\(query)")
            #expect(answered.first { $0["user_id"]?.string == clinic.patient.id }?["status"]?.string == "away")
            let nosy = try await stranger.ack("presence.query", ["user_ids": [clinic.patient.id, clinic.doctor.id]])
            #expect(nosy["presence"]?.array?.isEmpty == true, "no relationship: nothing")

            phone.close()
            try await doctor.expectNothing("presence.changed")
            laptop.close()
            let offline = try await doctor.next("presence.changed", where: { $0["data"]?["user_id"]?.string == clinic.patient.id })
            #expect(offline["data"]?["status"]?.string == "offline")
            #expect(isTimestamp(offline["data"]?["last_seen"]?.string))
            try await secretary.expectNothing("presence.changed", within: .milliseconds(10))
            for socket in [doctor, secretary, stranger, otherDoctor] { socket.close() }
        }
    }

    @Test("A quick reconnect inside the grace period does not flap to offline")
    func noFlapping() async throws {
        try await withHub(configure: { $0.hub.offlineGrace = 3 }) { client, port, _ in
            let (clinic, _) = try await clinicWithAppointment(client)
            let doctor = try await HubClient.connect(port: port, token: clinic.doctor.token)
            let first = try await HubClient.connect(port: port, token: clinic.patient.token)
            _ = try await doctor.next("presence.changed", where: { $0["data"]?["user_id"]?.string == clinic.patient.id })
            first.close()
            _ = try await first.closed()
            let second = try await HubClient.connect(port: port, token: clinic.patient.token)
            try await doctor.expectNothing("presence.changed", within: .seconds(2))
            second.close()
            doctor.close()
        }
    }

    @Test("Appointment, notification and payment events reach patient, doctor, the doctor's secretary and admins — nobody else")
    func liveAppointments() async throws {
        try await withHub { client, port, _ in
            let clinic = try await Clinic.make(client)
            let patient = try await HubClient.connect(port: port, token: clinic.patient.token)
            let doctor = try await HubClient.connect(port: port, token: clinic.doctor.token)
            let secretary = try await HubClient.connect(port: port, token: clinic.secretary.token)
            let admin = try await HubClient.connect(port: port, token: clinic.admin)
            let strangers = [
                try await HubClient.connect(port: port, token: clinic.otherPatient.token),
                try await HubClient.connect(port: port, token: clinic.otherDoctor.token),
            ]
            let booked = try await clinic.book(client, start: "11:00:00", end: "11:30:00")
            #expect(booked.status == .created)
            let id = try #require(booked.json["appointment"]?["id"]?.string)
            for socket in [patient, doctor, secretary, admin] {
                let event = try await socket.next("appointment.created")
                #expect(event["data"]?["id"]?.string == id)
                #expect(event["data"]?["status"]?.string == "pending_payment")
                expectAppointmentShape(event["data"], detailed: false)
                #expect((event["seq"]?.int ?? 0) >= 1)
            }
            let update = try await client.request(.put, "/api/v1/appointments/\(id)", token: clinic.admin, json: ["status": "payment_completed"])
            #expect(update.status == .ok)
            for socket in [patient, doctor, secretary, admin] {
                #expect(try await socket.next("appointment.updated")["data"]?["status"]?.string == "payment_completed")
            }
            #expect(try await patient.next("notification.created")["data"]?["title"]?.string?.contains("Appointment") == true)
            _ = try await doctor.next("notification.created")

            let payment = try await client.request(.post, "/api/v1/payments", token: clinic.patient.token, json: [
                "appointment_id": try await clinic.bookId(client, start: "12:00:00", end: "12:30:00"), "amount": 60, "currency": "EUR", "payment_method": "bank_transfer",
            ])
            if payment.status == .created || payment.status == .ok {
                for socket in [patient, doctor, secretary, admin] { _ = try await socket.next("payment.updated") }
            } else {
                Issue.record("manual payment failed: \(payment.text)")
            }

            let deleted = try await client.request(.delete, "/api/v1/appointments/\(id)", token: clinic.admin)
            #expect(deleted.status == .ok, "\(deleted.text)")
            for socket in [patient, doctor, secretary, admin] {
                let event = try await socket.next("appointment.deleted")
                #expect(event["data"]?["id"]?.string == id)
            }
            for stranger in strangers {
                for type in ["appointment.created", "appointment.updated", "appointment.deleted", "notification.created", "payment.updated"] {
                    try await stranger.expectNothing(type, within: .milliseconds(type == "appointment.created" ? 300 : 0))
                }
                stranger.close()
            }
            for socket in [patient, doctor, secretary, admin] { socket.close() }
        }
    }

    @Test("resume replays missed events in order; an unknown epoch or a trimmed log answers resume_gap")
    func resume() async throws {
        try await withHub(configure: { $0.hub.eventsPerUser = 4 }) { client, port, _ in
            let (clinic, _) = try await clinicWithAppointment(client)
            let doctor = try await HubClient.connect(port: port, token: clinic.doctor.token)
            let first = try await HubClient.connect(port: port, token: clinic.patient.token, waitForReady: false)
            let ready = try await first.next("ready")
            let epoch = try #require(ready["data"]?["epoch"]?.string)
            _ = try await doctor.ack("chat.send", ["to": clinic.patient.id, "content": "one"])
            let seen = try await first.next("chat.message")
            let lastSeq = try #require(seen["seq"]?.int)
            first.close()
            _ = try await first.closed()

            for text in ["two", "three"] { _ = try await doctor.ack("chat.send", ["to": clinic.patient.id, "content": text]) }
            let second = try await HubClient.connect(port: port, token: clinic.patient.token)
            let resumed = try await second.ack("resume", ["last_seq": lastSeq, "epoch": epoch])
            #expect(resumed["type"]?.string == "resumed")
            #expect(resumed["replayed"]?.int == 2)
            let replayed = [try await second.next("chat.message"), try await second.next("chat.message")]
            #expect(replayed.map { $0["data"]?["content"]?.string } == ["two", "three"])
            #expect(replayed.map { $0["seq"]?.int } == [lastSeq + 1, lastSeq + 2])
            #expect(resumed["last_seq"]?.int == lastSeq + 2)

            let otherEpoch = try await second.ack("resume", ["last_seq": 1, "epoch": "some-other-node"])
            #expect(otherEpoch["type"]?.string == "resume_gap")
            #expect(otherEpoch["epoch"]?.string == epoch)

            second.close()
            _ = try await second.closed()
            for index in 0..<6 { _ = try await doctor.ack("chat.send", ["to": clinic.patient.id, "content": "later \(index)"]) }
            let third = try await HubClient.connect(port: port, token: clinic.patient.token)
            let gap = try await third.ack("resume", ["last_seq": lastSeq + 2, "epoch": epoch])
            #expect(gap["type"]?.string == "resume_gap", "only 4 events are kept per user: \(gap)")
            #expect(gap["last_seq"]?.int == lastSeq + 8)
            third.close()
            doctor.close()
        }
    }
}

@Suite("Real-time hub: video consultations and signaling")
struct HubVideoTests {
    @Test("Start, status, end over REST; video.status pushed to the parties; signaling relayed only between patient and doctor while open")
    func consultation() async throws {
        try await withHub(configure: {
            $0.stunURLs = ["stun:stun.example.org:3478"]
            $0.turnURLs = ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"]
            $0.turnSecret = "turn-shared-secret"
            $0.turnTTL = 600
        }) { client, port, _ in
            let (clinic, appointment) = try await clinicWithAppointment(client)
            let patient = try await HubClient.connect(port: port, token: clinic.patient.token)
            let doctor = try await HubClient.connect(port: port, token: clinic.doctor.token)
            let secretary = try await HubClient.connect(port: port, token: clinic.secretary.token)
            let stranger = try await HubClient.connect(port: port, token: clinic.otherDoctor.token)

            // not yet paid: no consultation; signaling refused
            expectError(try await client.request(.post, "/api/v1/video-consultations/\(appointment)/start", token: clinic.doctor.token), .conflict)
            #expect(try await patient.call("signal", ["appointment_id": appointment, "kind": "offer", "sdp": "v=0"])["error"]?["code"]?.string == "not_found")
            try await clinic.move(client, appointment, through: ["payment_completed", "confirmed"])

            let scheduled = try await client.request(.get, "/api/v1/video-consultations/status/\(appointment)", token: clinic.patient.token)
            #expect(scheduled.status == .ok, "\(scheduled.text)")
            #expect(scheduled.json["consultation"]?["status"]?.string == "scheduled")
            expectError(try await client.request(.post, "/api/v1/video-consultations/\(appointment)/start", token: clinic.patient.token), .forbidden)
            expectError(try await client.request(.get, "/api/v1/video-consultations/status/\(appointment)", token: clinic.otherDoctor.token), .notFound)

            let started = try await client.request(.post, "/api/v1/video-consultations/\(appointment)/start", token: clinic.doctor.token)
            #expect(started.status == .ok, "\(started.text)")
            let consultation = try #require(started.json["consultation"])
            #expect(consultation.keys == ["id", "appointment_id", "user_id", "doctor_id", "room_sid", "status", "started_at", "ended_at", "duration", "created_at", "updated_at"])
            #expect(consultation["status"]?.string == "in_progress")
            #expect(consultation["room_sid"]?.string?.isEmpty == false)
            #expect(consultation["duration"]?.isNull == true)
            for socket in [patient, doctor, secretary] {
                let event = try await socket.next("video.status")
                #expect(event["data"]?["status"]?.string == "in_progress")
            }

            // join, offer/answer/ice relay
            let joined = try await patient.ack("video.join", ["appointment_id": appointment])
            #expect(joined["peer_online"]?.bool == true)
            #expect(try await doctor.next("video.join")["data"]?["user_id"]?.string == clinic.patient.id)
            _ = try await doctor.ack("signal", ["appointment_id": appointment, "kind": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"])
            let offer = try await patient.next("signal")
            #expect(offer["data"]?["kind"]?.string == "offer")
            #expect(offer["data"]?["from"]?.string == clinic.doctor.id)
            #expect(offer["data"]?["sdp"]?.string?.hasPrefix("v=0") == true)
            #expect(offer["seq"]?.isNull == true)
            _ = try await patient.ack("signal", ["appointment_id": appointment, "kind": "answer", "sdp": "v=0 answer"])
            #expect(try await doctor.next("signal")["data"]?["kind"]?.string == "answer")
            let candidate: [String: Any] = ["candidate": "candidate:1 1 UDP 2122252543 192.0.2.1 54321 typ host", "sdpMid": "0", "sdpMLineIndex": 0]
            _ = try await patient.ack("signal", ["appointment_id": appointment, "kind": "ice", "candidate": candidate])
            let ice = try await doctor.next("signal")
            #expect(ice["data"]?["candidate"]?["sdpMid"]?.string == "0")

            // strangers and the secretary cannot signal or listen
            #expect(try await stranger.call("signal", ["appointment_id": appointment, "kind": "offer", "sdp": "x"])["error"]?["code"]?.string == "not_found")
            #expect(try await secretary.call("video.join", ["appointment_id": appointment])["error"]?["code"]?.string == "not_found")
            try await stranger.expectNothing("signal", within: .milliseconds(200))
            try await secretary.expectNothing("signal", within: .milliseconds(10))
            try await stranger.expectNothing("video.status", within: .milliseconds(10))

            let ice2 = try await client.request(.get, "/api/v1/video-consultations/ice-servers", token: clinic.patient.token)
            #expect(ice2.status == .ok)
            let servers = ice2.json["iceServers"]?.array ?? []
            #expect(servers.count == 2)
            #expect(servers.first?["urls"]?.array?.first?.string == "stun:stun.example.org:3478")
            let turn = servers.last
            let username = try #require(turn?["username"]?.string)
            let parts = username.split(separator: ":")
            #expect(parts.count == 2 && parts[1] == Substring(clinic.patient.id))
            let expiry = Int(parts[0]) ?? 0
            #expect(abs(expiry - Int(Date().timeIntervalSince1970) - 600) < 10)
            let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(username.utf8), using: SymmetricKey(data: Data("turn-shared-secret".utf8)))
            #expect(turn?["credential"]?.string == Data(mac).base64EncodedString(), "TURN REST API: base64(HMAC-SHA1(secret, username))")
            #expect(ice2.json["ttl"]?.int == 600)
            expectError(try await client.request(.get, "/api/v1/video-consultations/ice-servers"), .unauthorized)

            _ = try await patient.ack("video.leave", ["appointment_id": appointment])
            _ = try await doctor.next("video.leave")
            try await Task.sleep(for: .milliseconds(1100))
            expectError(try await client.request(.post, "/api/v1/video-consultations/\(appointment)/end", token: clinic.patient.token), .forbidden)
            let ended = try await client.request(.post, "/api/v1/video-consultations/\(appointment)/end", token: clinic.doctor.token)
            #expect(ended.status == .ok, "\(ended.text)")
            #expect(ended.json["consultation"]?["status"]?.string == "completed")
            #expect((ended.json["consultation"]?["duration"]?.int ?? 0) >= 1)
            #expect(try await patient.next("video.status")["data"]?["status"]?.string == "completed")
            #expect(try await patient.call("signal", ["appointment_id": appointment, "kind": "hangup"])["error"]?["code"]?.string == "conflict")
            for socket in [patient, doctor, secretary, stranger] { socket.close() }
        }
    }

    @Test("A client that stops reading is closed with 4008 once its bounded queue fills; the sender is unaffected")
    func slowConsumer() async throws {
        try await withHub(configure: { $0.hub.outboundQueueCapacity = 8; $0.hub.ratePerSecond = 10_000; $0.hub.rateBurst = 10_000 }) { client, port, services in
            let (clinic, appointment) = try await clinicWithAppointment(client)
            try await clinic.move(client, appointment, through: ["payment_completed", "confirmed"])
            let started = try await client.request(.post, "/api/v1/video-consultations/\(appointment)/start", token: clinic.doctor.token)
            #expect(started.status == .ok)
            let patient = try await HubClient.connect(port: port, token: clinic.patient.token)
            patient.setReading(false)
            let doctor = try await HubClient.connect(port: port, token: clinic.doctor.token)
            let sdp = String(repeating: "a=candidate-padding ", count: 2_900)  // ~58 KB per frame
            var sent = 0
            while services.hub.slowConsumerCount == 0, sent < 1_000 {
                let reply = try await doctor.call("signal", ["appointment_id": appointment, "kind": "offer", "sdp": sdp])
                try #require(reply["type"]?.string == "ack", "\(reply)")
                sent += 1
            }
            #expect(services.hub.slowConsumerCount == 1, "after \(sent) frames of 58 KB")
            let metrics = try await client.request(.get, "/metrics").text
            #expect(metrics.contains(#"sos_hub_slow_consumers_closed_total{node=""# + services.hub.nodeId + #""} 1"#), "\(metrics.suffix(1500))")
            // step: read again so the buffered frames and then the close frame arrive (else the server drops the TCP connection after 2 s)
            patient.setReading(true)
            let closeFrame = try await patient.closed()
            #expect(closeFrame?.closeCode == .unknown(4008))
            #expect(closeFrame?.reason?.contains("Slow consumer") == true)
            #expect(try await doctor.call("ping")["type"]?.string == "pong")
            doctor.close()
        }
    }
}

@Suite("Real-time hub: two nodes on one PostgreSQL")
struct HubClusterTests {
    /// Two live nodes on one PostgreSQL schema, a clinic with an appointment, the patient's socket on node A and the
    /// doctor's on node B, and one chat message that crossed (so both LISTEN connections are up).
    struct TwoNodes {
        let clientB: any TestClientProtocol
        let servicesA: AppServices
        let servicesB: AppServices
        let portB: Int
        let clinic: Clinic
        let patient: HubClient
        let doctor: HubClient
    }

    static func withTwoNodes(_ configuration: ServerConfiguration, _ test: @Sendable (TwoNodes) async throws -> Void) async throws {
        try await runApp(configuration, .live) { clientA, servicesA in
            let portA = try #require(clientA.port)
            let (clinic, _) = try await clinicWithAppointment(clientA)
            try await runApp(configuration, .live) { clientB, servicesB in
                let portB = try #require(clientB.port)
                let patient = try await HubClient.connect(port: portA, token: clinic.patient.token)
                let doctor = try await HubClient.connect(port: portB, token: clinic.doctor.token)
                try await test(TwoNodes(clientB: clientB, servicesA: servicesA, servicesB: servicesB, portB: portB, clinic: clinic,
                                        patient: patient, doctor: doctor))
                patient.close()
                doctor.close()
            }
        }
    }
    @Test("A lost LISTEN connection: once it is back, sockets get a resume_gap event with a new epoch, an old cursor no longer resumes, and delivery crosses nodes again",
          .enabled(if: TestDatabase.postgresURL != nil, "needs SOS_TEST_DATABASE_URL"))
    func brokerGap() async throws {
        let storage = try await TestStorage.make()
        defer { Task { await storage.cleanUp() } }
        try await Self.withTwoNodes(storage.configuration) { nodes in
            let (servicesA, servicesB, portB, clinic, patient, doctor) = (nodes.servicesA, nodes.servicesB, nodes.portB, nodes.clinic, nodes.patient, nodes.doctor)
            let before = try #require(doctor.ready?["data"])
            let channel = try #require(servicesB.postgresBroker?.channel)
            _ = try await patient.ack("chat.send", ["to": clinic.doctor.id, "content": "before the gap"])
            let first = try await doctor.next("chat.message")
            let seq = try #require(first["seq"]?.int)

            // step: PostgreSQL drops both nodes' LISTEN connections (as a restart or a network cut would)
            let terminated = try await servicesA.database.write { sql in
                try await sql.raw("""
                    SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity
                    WHERE datname = current_database() AND query = \(bind: "LISTEN \"\(channel)\";")
                    """).first()?.decode(column: "n", as: Int.self)
            }
            #expect(terminated == 2, "both nodes' LISTEN connections")
            let gap = try await doctor.next("resume_gap", timeout: .seconds(15))
            #expect(gap["seq"] == .null)
            let epoch = try #require(gap["data"]?["epoch"]?.string)
            #expect(epoch != before["epoch"]?.string)
            #expect(gap["data"]?["last_seq"]?.int == seq)
            _ = try await patient.next("resume_gap", timeout: .seconds(15))
            #expect(servicesB.hub.statistics.brokerGaps == 1)

            // a cursor from before the gap no longer resumes on node B; one from the new epoch does
            let again = try await HubClient.connect(port: portB, token: clinic.doctor.token)
            let old = try await again.ack("resume", ["last_seq": seq, "epoch": try #require(before["epoch"]?.string)])
            #expect(old["type"]?.string == "resume_gap")
            #expect(old["epoch"]?.string == epoch)
            let current = try await again.ack("resume", ["last_seq": seq, "epoch": epoch])
            #expect(current["type"]?.string == "resumed")
            again.close()

            // cross-node delivery resumes by itself
            var delivered = false
            for attempt in 0..<50 where !delivered {
                _ = try await patient.ack("chat.send", ["to": clinic.doctor.id, "content": "after the gap \(attempt)"])
                delivered = (try? await doctor.next("chat.message", timeout: .milliseconds(300))) != nil
            }
            #expect(delivered)
        }
    }

    @Test("A LISTEN connection that stays open but goes deaf is noticed (the node's own heartbeat does not come back), replaced, and sockets get resume_gap",
          .enabled(if: TestDatabase.postgresURL != nil, "needs SOS_TEST_DATABASE_URL"))
    func deafListener() async throws {
        let storage = try await TestStorage.make()
        defer { Task { await storage.cleanUp() } }
        let configuration = {
            var configuration = storage.configuration
            // step: a heartbeat every second, so a listener that hears nothing for 10 s is deaf
            configuration.hub.heartbeat = 1
            return configuration
        }()
        try await Self.withTwoNodes(configuration) { nodes in
            let (servicesA, servicesB, clinic, patient, doctor) = (nodes.servicesA, nodes.servicesB, nodes.clinic, nodes.patient, nodes.doctor)
            let channel = try #require(servicesB.postgresBroker?.channel)
            _ = try await patient.ack("chat.send", ["to": clinic.doctor.id, "content": "before"])
            _ = try await doctor.next("chat.message")

            // step: both nodes' listening backends are stopped (SIGSTOP): their connections stay open and say
            // nothing, as behind a middlebox that silently drops traffic. Only possible when PostgreSQL runs here.
            let pids = try await servicesA.database.write { sql in
                try await sql.raw("""
                    SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = \(bind: "LISTEN \"\(channel)\";")
                    """).all().map { try $0.decode(column: "pid", as: Int32.self) }
            }
            #expect(pids.count == 2, "both nodes' LISTEN connections")
            guard pids.allSatisfy({ kill($0, SIGSTOP) == 0 }) else {
                pids.forEach { _ = kill($0, SIGCONT) }
                Issue.record("cannot signal PostgreSQL's backends (is PostgreSQL on another host or user namespace?)")
                return
            }
            defer { pids.forEach { _ = kill($0, SIGCONT) } }
            // deaf: a message sent now does not cross
            _ = try await patient.ack("chat.send", ["to": clinic.doctor.id, "content": "into the void"])
            #expect((try? await doctor.next("chat.message", timeout: .seconds(2))) == nil)

            // the watchdog notices within the bound (10 s of silence, checked every 1.7 s), listens anew, tells sockets
            let gap = try await doctor.next("resume_gap", timeout: .seconds(40))
            #expect(gap["seq"] == .null)
            _ = try await patient.next("resume_gap", timeout: .seconds(40))
            #expect(servicesB.hub.statistics.brokerGaps == 1)
            #expect(servicesA.hub.statistics.brokerGaps == 1)

            var delivered = false
            for attempt in 0..<50 where !delivered {
                _ = try await patient.ack("chat.send", ["to": clinic.doctor.id, "content": "after \(attempt)"])
                delivered = (try? await doctor.next("chat.message", timeout: .milliseconds(300))) != nil
            }
            #expect(delivered, "cross-node delivery resumes on the new listening connections")
        }
    }

    @Test("Broker sequence numbers: a sender's first batch sets its baseline, the next one is in order, a skipped number is a gap")
    func brokerSequences() {
        var sequences = BrokerSequences()
        let a = UUID(), b = UUID()
        #expect(sequences.heard(a, 7) == false, "first sight of a sender (a node started before this listener)")
        #expect(sequences.heard(a, 8) == false)
        #expect(sequences.heard(b, 1) == false, "senders are counted apart")
        #expect(sequences.heard(a, 10) == true, "batch 9 never came")
        #expect(sequences.heard(a, 11) == false)
        #expect(sequences.heard(b, 2) == false)
        #expect(PostgresBroker.sequenceHeader("seq:\(a.uuidString):42")?.number == 42)
        #expect(PostgresBroker.sequenceHeader("{\"kind\":\"event\"}") == nil)
    }

    @Test("A node whose publish fails while every listener works: the next NOTIFY shows the hole, sockets on both nodes get resume_gap, and the message is in the history; an unreadable large message is a gap too",
          .enabled(if: TestDatabase.postgresURL != nil, "needs SOS_TEST_DATABASE_URL"))
    func failedPublish() async throws {
        let storage = try await TestStorage.make()
        defer { Task { await storage.cleanUp() } }
        try await Self.withTwoNodes(storage.configuration) { nodes in
            let (clientB, servicesA, servicesB, clinic, patient, doctor) = (nodes.clientB, nodes.servicesA, nodes.servicesB, nodes.clinic, nodes.patient, nodes.doctor)
            _ = try await patient.ack("chat.send", ["to": clinic.doctor.id, "content": "before"])
            _ = try await doctor.next("chat.message")

            // step: a message too large for one NOTIFY travels through broker_messages; with that table gone, node
            // A stores the chat message (and acknowledges it) but its publish fails; both LISTEN connections are fine
            try await servicesA.database.write { sql in try await sql.raw("ALTER TABLE broker_messages RENAME TO broker_messages_away").run() }
            let large = String(repeating: "\u{20AC}", count: 4_000)  // 12,000 bytes of UTF-8
            let stored = try await patient.ack("chat.send", ["to": clinic.doctor.id, "content": large])
            #expect(stored["message"]?["id"] != nil, "stored and acknowledged")
            #expect((try? await doctor.next("chat.message", timeout: .seconds(2))) == nil, "the publish failed: nothing crosses")
            #expect(servicesB.hub.statistics.brokerGaps == 0, "no listener was lost")
            try await servicesA.database.write { sql in try await sql.raw("ALTER TABLE broker_messages_away RENAME TO broker_messages").run() }

            // the next batch from A carries a number one too far: every listener reports the gap
            _ = try await patient.ack("chat.send", ["to": clinic.doctor.id, "content": "after"])
            _ = try await doctor.next("resume_gap", timeout: .seconds(10))
            let after = try await doctor.next("chat.message")
            #expect(after["data"]?["content"]?.string == "after")
            _ = try await patient.next("resume_gap", timeout: .seconds(10))
            #expect(servicesB.hub.statistics.brokerGaps == 1)
            #expect(servicesA.hub.statistics.brokerGaps == 1)

            // refetching, as resume_gap asks, finds what was missed
            let history = try await clientB.request(.get, "/api/v1/chat/conversations/\(clinic.patient.id)/messages", token: clinic.doctor.token)
            let contents = history.json["messages"]?.array?.compactMap { $0["content"]?.string } ?? []
            #expect(contents.contains(large))

            // a large message whose stored payload cannot be read (purged, or the read failed) is a gap too
            let channel = try #require(servicesA.postgresBroker?.channel)
            let missing = "seq:\(UUID().uuidString):1\u{1E}ref:\(UUID().uuidString)"
            try await servicesA.database.write { sql in try await sql.raw("SELECT pg_notify(\(bind: channel), \(bind: missing))").run() }
            _ = try await doctor.next("resume_gap", timeout: .seconds(10))
            _ = try await patient.next("resume_gap", timeout: .seconds(10))
        }
    }

    @Test("Chat, presence, live events and revocation cross nodes through LISTEN/NOTIFY; a node that starts later learns presence",
          .enabled(if: TestDatabase.postgresURL != nil, "needs SOS_TEST_DATABASE_URL"))
    func twoNodes() async throws {
        let storage = try await TestStorage.make()
        defer { Task { await storage.cleanUp() } }
        let configuration = {
            var configuration = storage.configuration
            configuration.hub.offlineGrace = 0.3
            return configuration
        }()
        try await runApp(configuration, .live) { clientA, servicesA in
            let portA = try #require(clientA.port)
            let (clinic, appointment) = try await clinicWithAppointment(clientA)
            let patient = try await HubClient.connect(port: portA, token: clinic.patient.token)
            let stranger = try await HubClient.connect(port: portA, token: clinic.otherPatient.token)
            try await runApp(configuration, .live) { clientB, servicesB in
                let portB = try #require(clientB.port)
                #expect(servicesA.hub.nodeId != servicesB.hub.nodeId)
                let doctor = try await HubClient.connect(port: portB, token: clinic.doctor.token)
                // node B started after the patient connected on A: it learns A's presence through sync, moments after start
                var query = JSONValue.null
                for _ in 0..<50 {
                    query = try await doctor.ack("presence.query", ["user_ids": [clinic.patient.id]])
                    if query["presence"]?[0]?["status"]?.string == "online" { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(query["presence"]?[0]?["status"]?.string == "online", "\(query)")
                // when B learned it after the doctor connected, the doctor was also told by a presence.changed
                try await Task.sleep(for: .milliseconds(200))
                doctor.discard("presence.changed")

                // chat A → B and B → A
                let sent = try await patient.ack("chat.send", ["to": clinic.doctor.id, "content": "Hello from node A", "client_msg_id": "x-1"])
                let received = try await doctor.next("chat.message")
                #expect(received["data"] == sent["message"])
                _ = try await doctor.ack("chat.send", ["to": clinic.patient.id, "content": "Hello from node B"])
                #expect(try await patient.next("chat.message")["data"]?["content"]?.string == "Hello from node B")
                // a message bigger than NOTIFY's 8000-byte limit travels by reference
                let long = String(repeating: "é", count: 3_900)
                _ = try await patient.ack("chat.send", ["to": clinic.doctor.id, "content": long])
                #expect(try await doctor.next("chat.message")["data"]?["content"]?.string == long)
                // a burst crosses in order (several messages share one NOTIFY)
                for index in 0..<30 { patient.send("chat.send", ["to": clinic.doctor.id, "content": "burst \(index)"]) }
                var burst: [String] = []
                for _ in 0..<30 { burst.append(try await doctor.next("chat.message")["data"]?["content"]?.string ?? "") }
                #expect(burst == (0..<30).map { "burst \($0)" })
                let receipt = try await doctor.ack("chat.read", ["message_ids": [try #require(sent["message"]?["id"]?.string)]])
                #expect(receipt["updated"]?.int == 1)
                #expect(try await patient.next("chat.receipt")["data"]?["status"]?.string == "read")

                // a REST change on node B reaches the patient's socket on node A, not the stranger's
                let update = try await clientB.request(.put, "/api/v1/appointments/\(appointment)", token: clinic.admin, json: ["status": "payment_completed"])
                #expect(update.status == .ok)
                #expect(try await patient.next("appointment.updated")["data"]?["id"]?.string == appointment)
                try await stranger.expectNothing("appointment.updated")
                try await stranger.expectNothing("chat.message", within: .zero)

                // presence across nodes: a second patient device on B, then both close
                let laptop = try await HubClient.connect(port: portB, token: clinic.patient.token)
                patient.close()
                try await doctor.expectNothing("presence.changed")
                laptop.close()
                let offline = try await doctor.next("presence.changed", where: { $0["data"]?["user_id"]?.string == clinic.patient.id })
                #expect(offline["data"]?["status"]?.string == "offline")

                // logout on node A closes the doctor's socket on node B
                let logout = try await clientA.request(.post, "/api/v1/auth/logout", token: clinic.doctor.token, json: [:])
                #expect(logout.status == .ok)
                #expect(try await doctor.closed(timeout: .seconds(5))?.closeCode == .unknown(4001))
                stranger.close()
            }
        }
    }
}
