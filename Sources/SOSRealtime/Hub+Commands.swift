import Foundation
import SOSDomain

extension Hub {
    /// Handles one text message from a client. Malformed input gets an `error` frame; the connection stays open.
    public func receive(_ text: String, from session: ClientSession) async {
        guard !session.isClosed else { return }
        guard let frame = ClientFrame.parse(text) else {
            await self.reply(session, Frames.error(id: nil, code: "bad_request", message: "Frames must be JSON objects like {\"type\": \"ping\", \"id\": \"1\"}."))
            return
        }
        guard let principal = session.principal else {
            guard frame.type == "auth" else {
                await self.close(session, code: HubCloseCode.unauthorized, reason: "Authenticate first: {\"type\":\"auth\",\"data\":{\"token\":\"…\"}}")
                return
            }
            await self.authenticate(session, frame)
            return
        }
        guard session.allowMessage() else {
            await self.reply(session, Frames.error(id: frame.id, code: "rate_limited", message: "Too many messages; at most \(self.configuration.ratePerSecond) per second."))
            return
        }
        if self.isDraining {
            await self.reply(session, Frames.error(id: frame.id, code: "unavailable", message: "The server is shutting down; reconnect in a moment."))
            return
        }
        if frame.type == "ping" {
            await self.reply(session, Frames.pong(id: frame.id))
            return
        }
        do {
            let data = try await self.inFlight { try await self.run(frame, session: session, principal: principal) }
            await self.reply(session, Frames.ack(id: frame.id, rawData: data))
        } catch let error as HubError {
            await self.reply(session, Frames.error(id: frame.id, code: error.code, message: error.message))
        } catch {
            let hubError = HubError(error)
            if case .serverError = hubError { self.logger.error("Hub command failed", metadata: ["type": "\(frame.type)", "error": "\(String(reflecting: error))"]) }
            await self.reply(session, Frames.error(id: frame.id, code: hubError.code, message: hubError.message))
        }
    }

    /// A message from a client that cannot be a JSON frame (binary).
    public func rejectBinary(from session: ClientSession) async {
        await self.reply(session, Frames.error(id: nil, code: "bad_request", message: "Send JSON text frames; binary frames are not used."))
    }

    private func authenticate(_ session: ClientSession, _ frame: ClientFrame) async {
        guard let token = frame.data?.string("token"), !token.isEmpty else {
            await self.close(session, code: HubCloseCode.unauthorized, reason: "The auth message needs data.token")
            return
        }
        do {
            let principal = try await self.dependencies.auth.authenticate(bearer: token)
            await self.reply(session, Frames.ack(id: frame.id, data: self.sessionInfo(principal)))
            await self.register(session, principal)
        } catch {
            await self.close(session, code: HubCloseCode.unauthorized, reason: HubError(error).message)
        }
    }

    /// Runs one command and returns the `ack` data as JSON text.
    private func run(_ frame: ClientFrame, session: ClientSession, principal: Principal) async throws -> String {
        if frame.type == "chat.send" {
            let data = frame.data ?? .object([:])
            guard let to = data.uuid("to") else { throw HubError.badRequest("chat.send needs data.to (a user id).") }
            guard let content = data.string("content") else { throw HubError.badRequest("chat.send needs data.content (text).") }
            let (message, created) = try await self.dependencies.chat.send(
                principal, to: to, content: content, clientMessageId: data.string("client_msg_id"), origin: session.id
            )
            return #"{"duplicate":\#(!created),"message":\#(self.dependencies.render(.chatMessage(message)) ?? "null")}"#
        }
        if frame.type == "appointment.accept" || frame.type == "appointment.decline" {
            let data = frame.data ?? .object([:])
            guard let id = data.uuid("appointment_id") else { throw HubError.badRequest("\(frame.type) needs data.appointment_id.") }
            let appointment = try await self.dependencies.appointments.respond(
                principal, id: id, accept: frame.type == "appointment.accept", reason: data.string("reason")
            )
            return #"{"appointment":\#(self.dependencies.render(.appointment(appointment)) ?? "null")}"#
        }
        return Frames.text(try await self.command(frame, session: session, principal: principal))
    }

    /// Runs a command whose answer is plain JSON.
    private func command(_ frame: ClientFrame, session: ClientSession, principal: Principal) async throws -> JSON {
        let data = frame.data ?? .object([:])
        switch frame.type {
        case "auth":
            // step: a fresh token for the same user extends the session (before the old one expires)
            let token = data.string("token") ?? ""
            let renewed = try await self.dependencies.auth.authenticate(bearer: token)
            guard renewed.id == principal.id else { throw HubError.forbidden("A session cannot change user; open a new connection.") }
            session.authenticate(renewed)
            return self.sessionInfo(renewed)
        case "resume":
            guard let lastSeq = data.int("last_seq"), lastSeq >= 0 else { throw HubError.badRequest("resume needs data.last_seq (an integer ≥ 0).") }
            if let epoch = data.string("epoch"), epoch != self.log.epoch {
                return .object(["type": .string("resume_gap"), "epoch": .string(self.log.epoch), "last_seq": .number(Double(self.log.lastSeq(of: principal.id)))])
            }
            guard let frames = self.log.replay(user: principal.id, after: lastSeq) else {
                return .object(["type": .string("resume_gap"), "epoch": .string(self.log.epoch), "last_seq": .number(Double(self.log.lastSeq(of: principal.id)))])
            }
            for replayed in frames { await self.reply(session, replayed) }
            return .object(["type": .string("resumed"), "replayed": .number(Double(frames.count)), "last_seq": .number(Double(self.log.lastSeq(of: principal.id)))])
        case "chat.read", "chat.delivered":
            let ids = try Self.uuids(data, "message_ids")
            let status: ChatMessageStatus = frame.type == "chat.read" ? .read : .delivered
            let changed = try await self.dependencies.chat.mark(principal, messageIds: ids, as: status)
            return .object(["updated": .number(Double(changed.count))])
        case "chat.typing":
            guard let to = data.uuid("to") else { throw HubError.badRequest("chat.typing needs data.to (a user id).") }
            guard try await self.dependencies.chat.mayType(principal, to: to) else { throw HubError.notFound("No one with id \(to.uuidString.lowercased()) you can chat with.") }
            await self.publishEphemeral(type: "chat.typing", to: [to], data: .object([
                "from": .string(principal.id.uuidString.lowercased()), "typing": .bool(data.bool("typing") ?? true),
            ]))
            return .object([:])
        case "presence.query":
            let ids = try Self.uuids(data, "user_ids")
            let allowed = AccessPolicy.allows(.queryAnyonesPresence, principal) ? Set(ids) : await self.related(principal.id).intersection(ids)
            return .object(["presence": .array(ids.filter(allowed.contains).map { Self.presenceJSON($0, self.presence.info($0)) })])
        case "presence.update":
            guard let raw = data.string("status"), let status = PresenceStatus(rawValue: raw), status != .offline else {
                throw HubError.badRequest("presence.update needs data.status: online or away.")
            }
            session.away = status == .away
            let sessions = self.registry.sessions(of: principal.id)
            let local: PresenceStatus = sessions.contains { !$0.away } ? .online : .away
            await self.send(Envelope(kind: .presence, node: self.nodeId, users: [principal.id], status: local, at: Date()), data: nil)
            return .object(["status": .string(local.rawValue)])
        case "video.join", "video.leave":
            guard let appointment = data.uuid("appointment_id") else { throw HubError.badRequest("\(frame.type) needs data.appointment_id.") }
            let peer = try await self.dependencies.video.peer(principal, appointmentId: appointment)
            await self.publishEphemeral(type: frame.type, to: [peer], data: .object([
                "appointment_id": .string(appointment.uuidString.lowercased()), "user_id": .string(principal.id.uuidString.lowercased()),
            ]))
            return .object(["peer_online": .bool(self.presence.info(peer).status != .offline)])
        case "signal":
            guard let appointment = data.uuid("appointment_id") else { throw HubError.badRequest("signal needs data.appointment_id.") }
            guard let kind = data.string("kind"), ["offer", "answer", "ice", "hangup"].contains(kind) else {
                throw HubError.badRequest("signal needs data.kind: offer, answer, ice or hangup.")
            }
            let peer = try await self.dependencies.video.peer(principal, appointmentId: appointment)
            var relayed: [String: JSON] = [
                "appointment_id": .string(appointment.uuidString.lowercased()), "from": .string(principal.id.uuidString.lowercased()), "kind": .string(kind),
            ]
            if let sdp = data["sdp"] { relayed["sdp"] = sdp }
            if let candidate = data["candidate"] { relayed["candidate"] = candidate }
            await self.publishEphemeral(type: "signal", to: [peer], data: .object(relayed))
            return .object([:])
        default:
            throw HubError.unknownType("Unknown message type '\(frame.type.prefix(40))'. See protocol/websocket.md for the list.")
        }
    }

    private static func uuids(_ data: JSON, _ key: String) throws -> [UUID] {
        guard case .array(let items)? = data[key], !items.isEmpty, items.count <= 500 else {
            throw HubError.badRequest("data.\(key) must be a list of 1 to 500 ids.")
        }
        return try items.map {
            guard case .string(let text) = $0, let id = UUID(uuidString: text) else { throw HubError.badRequest("data.\(key) must hold UUID strings.") }
            return id
        }
    }
}
