import Foundation
import Hummingbird
import SOSDomain

/// `/api/v1/chat`: conversations, history, sending and read receipts over REST (pushed over the hub too).
struct ChatController {
    let chat: ChatService

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get("conversations", use: self.conversations)
        group.get("conversations/:partnerId/messages", use: self.messages)
        group.post("messages", use: self.send)
        group.put("messages/:id/read", use: self.read)
    }

    struct SendBody: Decodable {
        let recipient_id: UUID
        let content: String
        let client_msg_id: String?
    }

    @Sendable func conversations(_ request: Request, context: AuthenticatedContext) async throws -> ConversationListPayload {
        let limit = try QueryParameters(request).page(defaultLimit: 20).limit
        let list = try await self.chat.conversations(context.principal, limit: limit)
        return ConversationListPayload(conversations: list.map { ConversationPayload($0, userId: context.principal.id) })
    }

    @Sendable func messages(_ request: Request, context: AuthenticatedContext) async throws -> ChatMessageListPayload {
        let query = QueryParameters(request)
        let limit = try query.page(maximum: 100, defaultLimit: 50).limit
        var before: HistoryCursor?
        if let raw = try query.string("before") {
            guard let cursor = HistoryCursor.parse(raw, parseDate: Timestamp.date(from:)) else {
                throw APIError.badRequest("'before' must be the 'next_before' of the previous page, or an ISO 8601 timestamp such as 2026-11-25T09:30:00.000Z.")
            }
            before = cursor
        }
        let messages = try await self.chat.messages(context.principal, partnerId: try context.uuid("partnerId"), before: before, limit: limit)
        let next = messages.count == limit ? messages.last.map { HistoryCursor.olderThan(messageId: $0.id).token } ?? nil : nil
        return ChatMessageListPayload(messages: messages.map(ChatMessagePayload.init), next_before: Nullable(next))
    }

    @Sendable func send(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<ChatMessageEnvelope> {
        let body = try await request.decode(as: SendBody.self, context: context)
        let (message, created) = try await self.chat.send(context.principal, to: body.recipient_id, content: body.content, clientMessageId: body.client_msg_id)
        return EditedResponse(status: created ? .created : .ok, response: ChatMessageEnvelope(message: ChatMessagePayload(message)))
    }

    @Sendable func read(_ request: Request, context: AuthenticatedContext) async throws -> ChatMessageEnvelope {
        ChatMessageEnvelope(message: ChatMessagePayload(try await self.chat.read(context.principal, messageId: try context.uuid("id"))))
    }
}
