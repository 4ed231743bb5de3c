import Foundation

/// Delivery state of a chat message (the seed's enum).
public enum ChatMessageStatus: String, DomainEnum {
    case sent
    case delivered
    case read

    var rank: Int {
        switch self {
        case .sent: 0
        case .delivered: 1
        case .read: 2
        }
    }
}

/// One chat message between two users.
public struct ChatMessage: Sendable, Equatable {
    public var id: UUID
    public var senderId: UUID
    public var recipientId: UUID
    public var content: String
    /// The sender's idempotency key: a retry with the same key returns the stored message.
    public var clientMessageId: String?
    public var status: ChatMessageStatus
    public var createdAt: Date
    public var deliveredAt: Date?
    public var readAt: Date?

    public init(id: UUID = UUID(), senderId: UUID, recipientId: UUID, content: String, clientMessageId: String?, status: ChatMessageStatus = .sent,
                createdAt: Date, deliveredAt: Date? = nil, readAt: Date? = nil) {
        self.id = id
        self.senderId = senderId
        self.recipientId = recipientId
        self.content = content
        self.clientMessageId = clientMessageId
        self.status = status
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
        self.readAt = readAt
    }
}

/// A conversation as listed (`GET /chat/conversations`).
public struct Conversation: Sendable, Equatable {
    public var partner: PersonSummary
    public var lastMessage: String
    public var lastMessageAt: Date
    public var unreadCount: Int

    public init(partner: PersonSummary, lastMessage: String, lastMessageAt: Date, unreadCount: Int) {
        self.partner = partner
        self.lastMessage = lastMessage
        self.lastMessageAt = lastMessageAt
        self.unreadCount = unreadCount
    }
}

/// Storage of chat messages.
public protocol ChatRepository: Sendable {
    /// Stores a message, or returns the one already stored with the same sender and `clientMessageId` (and false).
    func insert(_ message: ChatMessage) async throws -> (message: ChatMessage, created: Bool)
    func find(id: UUID) async throws -> ChatMessage?
    /// Messages between two users, newest first, older than `before` (if given).
    func messages(between a: UUID, and b: UUID, before: HistoryCursor?, limit: Int) async throws -> [ChatMessage]
    /// Advances the status of messages sent to `recipientId` (never backwards); returns the ones that changed.
    func mark(_ ids: [UUID], recipientId: UUID, as status: ChatMessageStatus, at: Date) async throws -> [ChatMessage]
    func conversations(userId: UUID, limit: Int) async throws -> [Conversation]
}

/// The query behind `Relationships` (the rule is `AccessPolicy.related`): who is linked to a user by an appointment
/// that is not cancelled (patients and doctors) or by a secretary association (secretaries and their doctors).
public protocol RelationshipRepository: Sendable {
    /// Users related to `userId` by an appointment or a secretary association.
    func related(to userId: UUID) async throws -> Set<UUID>
}

/// Where the next (older) page of a conversation starts.
///
/// `after(message:)` is a keyset cursor on `(created_at, id)`: messages stored in the same millisecond (common with
/// group commit) are neither skipped nor repeated across pages. `before(date:)` is what older clients send (a
/// timestamp): it keeps working, but can skip messages that share the boundary's millisecond.
public enum HistoryCursor: Sendable, Equatable {
    case olderThan(messageId: UUID)
    case before(date: Date)

    /// The opaque text a client passes back as `before`.
    public var token: String? {
        if case .olderThan(let id) = self { return Self.prefix + id.uuidString.lowercased() }
        return nil
    }

    static let prefix = "c1."

    /// Parses `before`: a cursor this server gave out, or an ISO 8601 timestamp (`parseDate`); nil when neither.
    public static func parse(_ raw: String, parseDate: (String) -> Date?) -> HistoryCursor? {
        if raw.hasPrefix(Self.prefix) { return UUID(uuidString: String(raw.dropFirst(Self.prefix.count))).map { .olderThan(messageId: $0) } }
        return parseDate(raw).map { .before(date: $0) }
    }
}
