import Foundation
import Hummingbird
import SOSDomain

/// A chat message as REST and the hub show it.
struct ChatMessagePayload: Encodable, Sendable {
    let id: String
    let sender_id: String
    let recipient_id: String
    let content: String
    let client_msg_id: Nullable<String>
    let status: ChatMessageStatus
    let created_at: Date
    let delivered_at: Nullable<Date>
    let read_at: Nullable<Date>

    init(_ message: ChatMessage) {
        self.id = message.id.apiString
        self.sender_id = message.senderId.apiString
        self.recipient_id = message.recipientId.apiString
        self.content = message.content
        self.client_msg_id = Nullable(message.clientMessageId)
        self.status = message.status
        self.created_at = message.createdAt
        self.delivered_at = Nullable(message.deliveredAt)
        self.read_at = Nullable(message.readAt)
    }
}

extension ChatMessagePayload {
    /// The same JSON as `JSONCoding.encoder` writes for this payload (sorted keys), built by hand: chat is the
    /// hub's hottest path and `JSONEncoder` was its largest cost.
    static func json(_ message: ChatMessage) -> String {
        func date(_ value: Date?) -> String { value.map { "\"" + Timestamp.string(from: $0) + "\"" } ?? "null" }
        return #"{"client_msg_id":"# + (message.clientMessageId.map(JSONText.quoted) ?? "null")
            + #","content":"# + JSONText.quoted(message.content)
            + #","created_at":"# + date(message.createdAt)
            + #","delivered_at":"# + date(message.deliveredAt)
            + #","id":""# + message.id.apiString
            + #"","read_at":"# + date(message.readAt)
            + #","recipient_id":""# + message.recipientId.apiString
            + #"","sender_id":""# + message.senderId.apiString
            + #"","status":""# + message.status.rawValue + #""}"#
    }
}

struct ChatMessageEnvelope: ResponseEncodable, Sendable {
    let message: ChatMessagePayload
}

struct ChatMessageListPayload: ResponseEncodable, Sendable {
    let messages: [ChatMessagePayload]
    /// An opaque cursor: pass it as `before` to get the next (older) page; null when this page is the last.
    let next_before: Nullable<String>
}

/// The seed's conversation object.
struct ConversationPayload: Encodable, Sendable {
    let id: String
    let partnerId: String
    let partnerName: String
    let partnerAvatar: String
    let lastMessage: String
    let lastMessageAt: Date
    let unreadCount: Int

    init(_ conversation: Conversation, userId: UUID) {
        let pair = [userId.apiString, conversation.partner.id.apiString].sorted()
        self.id = pair.joined(separator: ":")
        self.partnerId = conversation.partner.id.apiString
        self.partnerName = conversation.partner.name
        self.partnerAvatar = conversation.partner.profilePicture ?? ""
        self.lastMessage = conversation.lastMessage
        self.lastMessageAt = conversation.lastMessageAt
        self.unreadCount = conversation.unreadCount
    }
}

struct ConversationListPayload: ResponseEncodable, Sendable {
    let conversations: [ConversationPayload]
}

/// The seed's video consultation object.
struct ConsultationPayload: Encodable, Sendable {
    let id: String
    let appointment_id: String
    let user_id: String
    let doctor_id: String
    let room_sid: String
    let status: ConsultationStatus
    let started_at: Nullable<Date>
    let ended_at: Nullable<Date>
    let duration: Nullable<Int>
    let created_at: Date
    let updated_at: Date

    init(_ consultation: VideoConsultation) {
        self.id = consultation.id.apiString
        self.appointment_id = consultation.appointmentId.apiString
        self.user_id = consultation.patientId.apiString
        self.doctor_id = consultation.doctorId.apiString
        self.room_sid = consultation.roomSid
        self.status = consultation.status
        self.started_at = Nullable(consultation.startedAt)
        self.ended_at = Nullable(consultation.endedAt)
        self.duration = Nullable(consultation.duration)
        self.created_at = consultation.createdAt
        self.updated_at = consultation.updatedAt
    }
}

struct ConsultationEnvelope: ResponseEncodable, Sendable {
    let consultation: ConsultationPayload
}

struct ConsultationMessageEnvelope: ResponseEncodable, Sendable {
    let message: String
    let consultation: ConsultationPayload
}

/// `GET /video-consultations/ice-servers`: `RTCConfiguration.iceServers` plus how long the TURN credentials live.
struct IceServersPayload: ResponseEncodable, Sendable {
    struct Server: Encodable, Sendable {
        let urls: [String]
        let username: String?
        let credential: String?
    }

    let iceServers: [Server]
    let ttl: Int
}

/// Renders event subjects exactly as the REST API shows those objects, for the hub.
enum EventRenderer {
    static func render(_ subject: EventSubject) -> String? {
        func encode(_ value: some Encodable) -> String? {
            (try? JSONCoding.encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
        }
        switch subject {
        case .appointment(let appointment): return encode(AppointmentPayload(appointment))
        case .appointmentDeleted(let id, let patient, let doctor):
            return encode(["id": id.apiString, "user_id": patient.apiString, "doctor_id": doctor.apiString])
        case .notification(let notification): return encode(NotificationPayload(notification))
        case .medicalRecord(let record): return encode(MedicalRecordPayload(record))
        case .medicalRecordDeleted(let id, let patient, let doctor):
            return encode(["id": id.apiString, "user_id": patient.apiString, "doctor_id": doctor.apiString])
        case .payment(let payment): return encode(PaymentPayload(payment))
        case .chatMessage(let message), .chatReceipt(let message): return ChatMessagePayload.json(message)
        case .video(let consultation): return encode(ConsultationPayload(consultation))
        case .sos(let message): return encode(message.payload)
        case .sessionRevoked: return nil
        }
    }
}

/// Lets services be built before the hub exists: events go to every target added later.
final class EventRelay: EventPublisher, @unchecked Sendable {
    // @unchecked: `targets` is only touched while holding `lock`.
    private let lock = NSLock()
    private var targets: [any EventPublisher]

    init(_ targets: [any EventPublisher] = []) {
        self.targets = targets
    }

    func add(_ target: any EventPublisher) {
        self.lock.withLock { self.targets.append(target) }
    }

    func publish(_ event: DomainEvent) async {
        for target in self.lock.withLock({ self.targets }) { await target.publish(event) }
    }
}

/// Lets SOS matching be built before the hub exists: asks the hub attached later (or a fixed directory tests give).
final class PresenceRelay: PresenceDirectory, @unchecked Sendable {
    // @unchecked: `target` is only touched while holding `lock`.
    private let lock = NSLock()
    private var target: (any PresenceDirectory)?
    private let fixed: Bool

    init(_ fixed: (any PresenceDirectory)?) {
        self.target = fixed
        self.fixed = fixed != nil
    }

    /// The hub, unless a fixed directory was given.
    func attach(_ target: any PresenceDirectory) {
        self.lock.withLock { if !self.fixed { self.target = target } }
    }

    func connected(among users: [UUID]) async -> Set<UUID> {
        guard let target = self.lock.withLock({ self.target }) else { return [] }
        return await target.connected(among: users)
    }
}
