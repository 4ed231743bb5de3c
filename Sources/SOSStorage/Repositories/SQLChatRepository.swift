import Foundation
import SOSDomain
import SQLKit

/// `ChatRepository` and `RelationshipRepository` over SQLKit.
public struct SQLChatRepository: ChatRepository, RelationshipRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = "id, sender_id, recipient_id, content, client_msg_id, status, created_at, delivered_at, read_at"

    public func insert(_ message: ChatMessage) async throws -> (message: ChatMessage, created: Bool) {
        do {
            try await self.database.write { sql in
                try await sql.raw("""
                    INSERT INTO chat_messages (\(unsafeRaw: Self.columns)) VALUES (\(bind: message.id), \(bind: message.senderId), \(bind: message.recipientId),
                        \(bind: message.content), \(bind: message.clientMessageId), \(bind: message.status.rawValue), \(bind: message.createdAt),
                        \(bind: message.deliveredAt), \(bind: message.readAt))
                    """).run()
            }
            return (message, true)
        } catch where SQLErrors.isUniqueViolation(error) {
            guard let key = message.clientMessageId, let existing = try await self.database.read({ sql in
                try await sql.raw("""
                    SELECT \(unsafeRaw: Self.columns) FROM chat_messages WHERE sender_id = \(bind: message.senderId) AND client_msg_id = \(bind: key)
                    """).first().map(Self.message(from:))
            }) else { throw error }
            return (existing, false)
        }
    }

    public func find(id: UUID) async throws -> ChatMessage? {
        try await self.database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM chat_messages WHERE id = \(bind: id)").first().map(Self.message(from:))
        }
    }

    public func messages(between a: UUID, and b: UUID, before: Date?, limit: Int) async throws -> [ChatMessage] {
        try await self.database.read { sql in
            var filter: SQLQueryString = """
                WHERE ((sender_id = \(bind: a) AND recipient_id = \(bind: b)) OR (sender_id = \(bind: b) AND recipient_id = \(bind: a)))
                """
            if let before { filter += " AND created_at < \(bind: before)" }
            return try await sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM chat_messages \(filter) ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)
                """).all().map(Self.message(from:))
        }
    }

    public func mark(_ ids: [UUID], recipientId: UUID, as status: ChatMessageStatus, at: Date) async throws -> [ChatMessage] {
        guard !ids.isEmpty else { return [] }
        let allowedFrom = status == .read ? ["sent", "delivered"] : ["sent"]
        return try await self.database.write { sql in
            try await sql.raw("""
                UPDATE chat_messages SET status = \(bind: status.rawValue),
                    delivered_at = COALESCE(delivered_at, \(bind: at)),
                    read_at = CASE WHEN \(bind: status.rawValue) = 'read' THEN \(bind: at) ELSE read_at END
                WHERE recipient_id = \(bind: recipientId) AND id IN (\(binds: ids)) AND status IN (\(binds: allowedFrom))
                RETURNING \(unsafeRaw: Self.columns)
                """).all().map(Self.message(from:))
        }
    }

    public func conversations(userId: UUID, limit: Int) async throws -> [Conversation] {
        try await self.database.read { sql in
            // step: the newest message of each pair, then unread counts, then the partners' cards
            let rows = try await sql.raw("""
                SELECT partner_id, content, created_at FROM (
                    SELECT CASE WHEN sender_id = \(bind: userId) THEN recipient_id ELSE sender_id END AS partner_id, content, created_at,
                        ROW_NUMBER() OVER (PARTITION BY CASE WHEN sender_id = \(bind: userId) THEN recipient_id ELSE sender_id END
                                           ORDER BY created_at DESC, id DESC) AS position
                    FROM chat_messages WHERE sender_id = \(bind: userId) OR recipient_id = \(bind: userId)
                ) latest WHERE position = 1 ORDER BY created_at DESC LIMIT \(bind: limit)
                """).all()
            guard !rows.isEmpty else { return [] }
            let partners = try rows.map { try $0.value("partner_id", as: UUID.self) }
            var unread: [UUID: Int] = [:]
            for row in try await sql.raw("""
                SELECT sender_id, COUNT(*) AS n FROM chat_messages WHERE recipient_id = \(bind: userId) AND status <> 'read'
                AND sender_id IN (\(binds: partners)) GROUP BY sender_id
                """).all() {
                unread[try row.value("sender_id", as: UUID.self)] = try row.value("n", as: Int.self)
            }
            let people = try await SQLAppointmentRepository.people(Set(partners), in: sql)
            return try rows.compactMap { row in
                let partner = try row.value("partner_id", as: UUID.self)
                guard let card = people[partner] else { return nil }
                return Conversation(partner: card.person, lastMessage: try row.value("content"), lastMessageAt: try row.value("created_at"),
                                    unreadCount: unread[partner] ?? 0)
            }
        }
    }

    public func related(to userId: UUID) async throws -> Set<UUID> {
        try await self.database.read { sql in
            let rows = try await sql.raw("""
                SELECT doctor_id AS other FROM appointments WHERE patient_id = \(bind: userId) AND status <> 'cancelled'
                UNION SELECT patient_id AS other FROM appointments WHERE doctor_id = \(bind: userId) AND status <> 'cancelled'
                UNION SELECT doctor_id AS other FROM secretary_doctors WHERE secretary_id = \(bind: userId)
                UNION SELECT secretary_id AS other FROM secretary_doctors WHERE doctor_id = \(bind: userId)
                """).all()
            return Set(try rows.map { try $0.value("other", as: UUID.self) })
        }
    }

    public func haveAppointment(_ a: UUID, _ b: UUID) async throws -> Bool {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT 1 AS found FROM appointments WHERE status <> 'cancelled'
                AND ((patient_id = \(bind: a) AND doctor_id = \(bind: b)) OR (patient_id = \(bind: b) AND doctor_id = \(bind: a))) LIMIT 1
                """).first() != nil
        }
    }

    static func message(from row: any SQLRow) throws -> ChatMessage {
        ChatMessage(
            id: try row.value("id"), senderId: try row.value("sender_id"), recipientId: try row.value("recipient_id"), content: try row.value("content"),
            clientMessageId: try row.optional("client_msg_id"), status: ChatMessageStatus(rawValue: try row.value("status")) ?? .sent,
            createdAt: try row.value("created_at"), deliveredAt: try row.optional("delivered_at"), readAt: try row.optional("read_at")
        )
    }
}

/// `VideoRepository` over SQLKit.
public struct SQLVideoRepository: VideoRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func find(appointmentId: UUID) async throws -> VideoConsultation? {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT id, appointment_id, patient_id, doctor_id, room_sid, status, started_at, ended_at, created_at, updated_at
                FROM video_consultations WHERE appointment_id = \(bind: appointmentId)
                """).first().map { row in
                VideoConsultation(
                    id: try row.value("id"), appointmentId: try row.value("appointment_id"), patientId: try row.value("patient_id"),
                    doctorId: try row.value("doctor_id"), roomSid: try row.value("room_sid"),
                    status: ConsultationStatus(rawValue: try row.value("status")) ?? .cancelled, startedAt: try row.optional("started_at"),
                    endedAt: try row.optional("ended_at"), createdAt: try row.value("created_at"), updatedAt: try row.value("updated_at")
                )
            }
        }
    }

    public func save(_ consultation: VideoConsultation) async throws {
        try await self.database.write { sql in
            try await sql.raw("""
                INSERT INTO video_consultations (id, appointment_id, patient_id, doctor_id, room_sid, status, started_at, ended_at, created_at, updated_at)
                VALUES (\(bind: consultation.id), \(bind: consultation.appointmentId), \(bind: consultation.patientId), \(bind: consultation.doctorId),
                    \(bind: consultation.roomSid), \(bind: consultation.status.rawValue), \(bind: consultation.startedAt), \(bind: consultation.endedAt),
                    \(bind: consultation.createdAt), \(bind: consultation.updatedAt))
                ON CONFLICT (appointment_id) DO UPDATE SET status = excluded.status, started_at = excluded.started_at,
                    ended_at = excluded.ended_at, updated_at = excluded.updated_at
                """).run()
        }
    }
}
