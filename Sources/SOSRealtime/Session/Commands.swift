import Foundation
import SOSDomain

/// What a finished command sends back: frames in order (replayed events, then the ack or the error), and the
/// principal of a successful re-`auth`.
struct CommandOutcome: Sendable {
    var frames: [ConnectionStateMachine.Outgoing]
    var renewed: Principal?
}

/// Runs one client command against the domain services (a task per command, while it runs). Refusals become `error`
/// frames with codes from the one domain-to-wire table; nothing here keeps connection state.
struct Commands {
    let hub: Hub

    var dependencies: HubDependencies { self.hub.dependencies }

    func run(_ frame: ClientFrame, session: ClientSession, principal: Principal) async -> CommandOutcome {
        do {
            return try await self.dispatch(frame, session: session, principal: principal)
        } catch {
            let hubError = HubError(error)
            if hubError.unexpected {
                self.hub.logger.error("Hub command failed", metadata: ["type": "\(frame.type)", "error": "\(String(reflecting: error))"])
            }
            return CommandOutcome(frames: [.text(Frames.error(id: frame.id, code: hubError.code, message: hubError.message))])
        }
    }

    private func ack(_ frame: ClientFrame, _ data: String) -> CommandOutcome {
        CommandOutcome(frames: [.text(Frames.ack(id: frame.id, rawData: data))])
    }

    private func dispatch(_ frame: ClientFrame, session: ClientSession, principal: Principal) async throws -> CommandOutcome {
        let data = frame.data ?? .object([:])
        switch frame.type {
        case "chat.send":
            guard let to = data.uuid("to") else { throw HubError.badRequest("chat.send needs data.to (a user id).") }
            guard let content = data.string("content") else { throw HubError.badRequest("chat.send needs data.content (text).") }
            let (message, created) = try await self.dependencies.chat.send(
                principal, to: to, content: content, clientMessageId: data.string("client_msg_id"), origin: String(session.id)
            )
            return self.ack(frame, #"{"duplicate":\#(!created),"message":\#(self.dependencies.render(.chatMessage(message)) ?? "null")}"#)
        case "appointment.accept", "appointment.decline":
            guard let id = data.uuid("appointment_id") else { throw HubError.badRequest("\(frame.type) needs data.appointment_id.") }
            let appointment = try await self.dependencies.appointments.respond(
                principal, id: id, accept: frame.type == "appointment.accept", reason: data.string("reason")
            )
            return self.ack(frame, #"{"appointment":\#(self.dependencies.render(.appointment(appointment)) ?? "null")}"#)
        case "sos.accept":
            guard let id = data.uuid("request_id") else { throw HubError.badRequest("sos.accept needs data.request_id.") }
            let kind = try data.string("kind").map { raw in
                guard let kind = SOSKind(rawValue: raw) else { throw HubError.badRequest("data.kind must be one of: \(SOSKind.allowedValues).") }
                return kind
            }
            let accepted = try await self.dependencies.sos.accept(principal, id: id, kind: kind)
            return self.ack(frame, #"{"status":\#(self.dependencies.render(.sos(.status(accepted.status))) ?? "null")}"#)
        case "auth":
            // step: a fresh token for the same user extends the session (before the old one expires)
            let renewed = try await self.dependencies.auth.authenticate(bearer: data.string("token") ?? "")
            guard renewed.id == principal.id else { throw HubError.forbidden("A session cannot change user; open a new connection.") }
            var outcome = self.ack(frame, await self.hub.renew(session, renewed))
            outcome.renewed = renewed
            return outcome
        case "resume":
            return try await self.resume(frame, data, principal)
        case "presence.update":
            guard let raw = data.string("status"), let status = PresenceStatus(rawValue: raw), status != .offline else {
                throw HubError.badRequest("presence.update needs data.status: online or away.")
            }
            let local = await self.hub.registry.setAway(session, user: principal.id, away: status == .away)
            await self.hub.send(Envelope(kind: .presence, node: self.hub.nodeId, users: [principal.id], status: local, at: Date()), data: nil)
            return self.ack(frame, Frames.text(.object(["status": .string(local.rawValue)])))
        default:
            return self.ack(frame, Frames.text(try await self.command(frame, data, principal)))
        }
    }

    /// `resume {last_seq, epoch?}`: the missed events, then `resumed`; or `resume_gap` when they are not all kept.
    private func resume(_ frame: ClientFrame, _ data: JSON, _ principal: Principal) async throws -> CommandOutcome {
        guard let lastSeq = data.int("last_seq"), lastSeq >= 0 else { throw HubError.badRequest("resume needs data.last_seq (an integer ≥ 0).") }
        let (replayed, cursor) = await self.hub.registry.resume(user: principal.id, after: lastSeq, epoch: data.string("epoch"))
        let last = JSON.number(Double(cursor.lastSeq))
        guard let replayed else {
            self.hub.counters.resumeGaps.add(1, ordering: .relaxed)
            return self.ack(frame, Frames.text(.object(["type": .string("resume_gap"), "epoch": .string(cursor.epoch), "last_seq": last])))
        }
        var outcome = self.ack(frame, Frames.text(.object(["type": .string("resumed"), "replayed": .number(Double(replayed.count)), "last_seq": last])))
        outcome.frames.insert(contentsOf: replayed.map { .text($0) }, at: 0)
        return outcome
    }

    /// The commands whose answer is plain JSON.
    private func command(_ frame: ClientFrame, _ data: JSON, _ principal: Principal) async throws -> JSON {
        switch frame.type {
        case "chat.read", "chat.delivered":
            let ids = try Self.uuids(data, "message_ids")
            let changed = try await self.dependencies.chat.mark(principal, messageIds: ids, as: frame.type == "chat.read" ? .read : .delivered)
            return .object(["updated": .number(Double(changed.count))])
        case "chat.typing":
            guard let to = data.uuid("to") else { throw HubError.badRequest("chat.typing needs data.to (a user id).") }
            guard try await self.dependencies.chat.mayType(principal, to: to) else { throw HubError.notFound("No one with id \(to.uuidString.lowercased()) you can chat with.") }
            await self.hub.publishEphemeral(type: "chat.typing", to: [to], data: .object([
                "from": .string(principal.id.uuidString.lowercased()), "typing": .bool(data.bool("typing") ?? true),
            ]))
            return .object([:])
        case "presence.query":
            let ids = try Self.uuids(data, "user_ids")
            let allowed = AccessPolicy.allows(.queryAnyonesPresence, principal)
                ? Set(ids) : ((try? await self.dependencies.relationships.related(to: principal.id)) ?? []).intersection(ids)
            var presence: [JSON] = []
            for id in ids where allowed.contains(id) { presence.append(Hub.presenceJSON(id, await self.hub.presence.info(id))) }
            return .object(["presence": .array(presence)])
        case "sos.decline":
            guard let id = data.uuid("request_id") else { throw HubError.badRequest("sos.decline needs data.request_id.") }
            try await self.dependencies.sos.decline(principal, id: id)
            return .object(["request_id": .string(id.uuidString.lowercased()), "declined": .bool(true)])
        case "sos.position":
            guard let id = data.uuid("request_id") else { throw HubError.badRequest("sos.position needs data.request_id.") }
            guard let latitude = data.number("latitude"), let longitude = data.number("longitude") else {
                throw HubError.badRequest("sos.position needs data.latitude and data.longitude (numbers).")
            }
            let patient = try await self.dependencies.sos.positionAudience(principal, id: id, latitude: latitude, longitude: longitude)
            // step: relayed to the patient only, never stored
            await self.hub.publishEphemeral(type: "sos.position", to: [patient], data: .object([
                "request_id": .string(id.uuidString.lowercased()), "doctor_id": .string(principal.id.uuidString.lowercased()),
                "latitude": .number(latitude), "longitude": .number(longitude), "at": .string(ISO8601.string(Date())),
            ]))
            return .object([:])
        case "video.join", "video.leave":
            guard let appointment = data.uuid("appointment_id") else { throw HubError.badRequest("\(frame.type) needs data.appointment_id.") }
            let peer = try await self.dependencies.video.peer(principal, appointmentId: appointment)
            await self.hub.publishEphemeral(type: frame.type, to: [peer], data: .object([
                "appointment_id": .string(appointment.uuidString.lowercased()), "user_id": .string(principal.id.uuidString.lowercased()),
            ]))
            return .object(["peer_online": .bool(await self.hub.presence.info(peer).status != .offline)])
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
            await self.hub.publishEphemeral(type: "signal", to: [peer], data: .object(relayed))
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
