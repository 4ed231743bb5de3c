import Foundation

/// Chat between patients, doctors and clinic staff.
///
/// Rules: a patient chats with a doctor they have an appointment with (not cancelled); staff (admins,
/// secretaries) with anyone; doctors with doctors; patients never with other patients; guests with nobody.
/// A message is acknowledged only once stored, and a retry with the same `client_msg_id` returns the stored
/// message instead of a duplicate. Receipts only move forward (sent → delivered → read) and only the recipient
/// sets them.
public struct ChatService: Sendable {
    let chats: any ChatRepository
    let users: any UserRepository
    /// Who may write to whom without being staff (the one rule and cache, shared with the hub's presence).
    let relationships: Relationships
    let events: any EventPublisher
    let now: @Sendable () -> Date

    public static let maxLength = InputLimits.chatMessage

    public init(chats: any ChatRepository, users: any UserRepository, relationships: Relationships, events: any EventPublisher,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.chats = chats
        self.users = users
        self.relationships = relationships
        self.events = events
        self.now = now
    }

    /// Whether `sender` may write to the user `recipientId`.
    public func mayChat(_ sender: User, to recipientId: UUID) async throws -> Bool {
        try await self.relationships.mayChat(sender, to: recipientId) { try await self.users.find(id: recipientId) }
    }

    /// Stores and delivers a message. `created` is false for a retried `clientMessageId`.
    public func send(_ principal: Principal, to recipientId: UUID, content: String, clientMessageId: String?, origin: String? = nil) async throws -> (ChatMessage, Bool) {
        let text = content.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw DomainError.invalid("'content' must not be empty.") }
        guard text.count <= Self.maxLength else { throw DomainError.invalid("'content' must be at most \(Self.maxLength) characters.") }
        try InputLimits.storable(text, field: "content")
        if let key = clientMessageId, key.isEmpty || key.count > InputLimits.clientMessageId {
            throw DomainError.invalid("'client_msg_id' must be 1 to 100 characters.")
        }
        let now = self.now()
        guard try await self.mayChat(principal.user, to: recipientId) else {
            throw DomainError.notFound("No one with id \(recipientId.uuidString.lowercased()) you can chat with (patients chat with doctors they have an appointment with).")
        }
        let (stored, created) = try await self.chats.insert(ChatMessage(
            senderId: principal.id, recipientId: recipientId, content: text, clientMessageId: clientMessageId, createdAt: now
        ))
        if created {
            await self.events.publish(DomainEvent(
                type: "chat.message", userIds: [stored.senderId, stored.recipientId], includeAdmins: false, subject: .chatMessage(stored),
                occurredAt: stored.createdAt, origin: origin
            ))
        }
        return (stored, created)
    }

    /// The recipient marks messages delivered or read; the sender hears of it (`chat.receipt`).
    public func mark(_ principal: Principal, messageIds: [UUID], as status: ChatMessageStatus) async throws -> [ChatMessage] {
        guard status != .sent else { throw DomainError.invalid("A receipt is 'delivered' or 'read'.") }
        guard !messageIds.isEmpty, messageIds.count <= 500 else { throw DomainError.invalid("Give 1 to 500 message ids.") }
        let changed = try await self.chats.mark(messageIds, recipientId: principal.id, as: status, at: self.now())
        for message in changed {
            await self.events.publish(DomainEvent(
                type: "chat.receipt", userIds: [message.senderId, message.recipientId], includeAdmins: false, subject: .chatReceipt(message), occurredAt: self.now()
            ))
        }
        return changed
    }

    /// Marks one message read (`PUT /chat/messages/:id/read`); 404 unless the caller received it.
    public func read(_ principal: Principal, messageId: UUID) async throws -> ChatMessage {
        guard let message = try await self.chats.find(id: messageId), message.recipientId == principal.id else {
            throw DomainError.notFound("No message with id \(messageId.uuidString.lowercased()) sent to you.")
        }
        return try await self.mark(principal, messageIds: [messageId], as: .read).first ?? message
    }

    public func conversations(_ principal: Principal, limit: Int) async throws -> [Conversation] {
        try await self.chats.conversations(userId: principal.id, limit: limit)
    }

    public func messages(_ principal: Principal, partnerId: UUID, before: HistoryCursor?, limit: Int) async throws -> [ChatMessage] {
        guard try await self.users.find(id: partnerId) != nil else {
            throw DomainError.notFound("No user with id \(partnerId.uuidString.lowercased()).")
        }
        return try await self.chats.messages(between: principal.id, and: partnerId, before: before, limit: limit)
    }

    /// Whether a typing indicator may be relayed (same rule as sending).
    public func mayType(_ principal: Principal, to recipientId: UUID) async throws -> Bool {
        try await self.mayChat(principal.user, to: recipientId)
    }
}
