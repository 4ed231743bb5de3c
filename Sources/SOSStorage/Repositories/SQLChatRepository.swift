import Foundation
import SOSDomain
import SQLKit

/// `ChatRepository` and `RelationshipRepository` over SQLKit.
public struct SQLChatRepository: ChatRepository, RelationshipRepository {
    let database: Database
    let batcher: ChatInsertBatcher

    public init(database: Database) {
        self.database = database
        self.batcher = ChatInsertBatcher(database: database)
    }

    static let columns = "id, sender_id, recipient_id, content, client_msg_id, status, created_at, delivered_at, read_at"

    /// Stores a message through the group-commit batcher: concurrent sends share one INSERT and one commit;
    /// each caller returns only after that commit.
    public func insert(_ message: ChatMessage) async throws -> (message: ChatMessage, created: Bool) {
        try await self.batcher.insert(message)
    }

    /// Stores messages in one statement; a message whose `(sender, client_msg_id)` is already stored is not
    /// inserted and the stored one is returned instead (`created` false). Results are in input order.
    static func insertMany(_ messages: [ChatMessage], in database: Database) async throws -> [(message: ChatMessage, created: Bool)] {
        let inserted = try await database.write { sql in
            var values: [SQLQueryString] = []
            for message in messages {
                values.append("""
                    (\(bind: message.id), \(bind: message.senderId), \(bind: message.recipientId), \(bind: message.content), \(bind: message.clientMessageId),
                     \(bind: message.status.rawValue), \(bind: message.createdAt), \(bind: message.deliveredAt), \(bind: message.readAt))
                    """)
            }
            return Set(try await sql.raw("""
                INSERT INTO chat_messages (\(unsafeRaw: Self.columns)) VALUES \(values.joined(separator: ", "))
                ON CONFLICT (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL DO NOTHING RETURNING id
                """).all().map { try $0.value("id", as: UUID.self) })
        }
        var results: [(message: ChatMessage, created: Bool)] = []
        for message in messages {
            if inserted.contains(message.id) {
                results.append((message, true))
                continue
            }
            // step: a retry (or two sends of one key in the same batch): answer with the stored message
            guard let key = message.clientMessageId, let existing = try await database.read({ sql in
                try await sql.raw("""
                    SELECT \(unsafeRaw: Self.columns) FROM chat_messages WHERE sender_id = \(bind: message.senderId) AND client_msg_id = \(bind: key)
                    """).first().map(Self.message(from:))
            }) else {
                throw StorageError("Message \(message.id) was neither inserted nor found by its client_msg_id.")
            }
            results.append((existing, false))
        }
        return results
    }

    public func find(id: UUID) async throws -> ChatMessage? {
        try await self.database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM chat_messages WHERE id = \(bind: id)").first().map(Self.message(from:))
        }
    }

    public func messages(between a: UUID, and b: UUID, before: HistoryCursor?, limit: Int) async throws -> [ChatMessage] {
        try await self.database.read { sql in
            var filter: SQLQueryString = """
                WHERE ((sender_id = \(bind: a) AND recipient_id = \(bind: b)) OR (sender_id = \(bind: b) AND recipient_id = \(bind: a)))
                """
            switch before {
            case .none:
                break
            case .before(let date):
                filter += " AND created_at < \(bind: date)"
            case .olderThan(let id):
                // step: compare with the stored (created_at, id) of the cursor's message itself, so no rounding of a
                // timestamp sent over the wire can skip or repeat messages of the same millisecond
                filter += """
                     AND (created_at < (SELECT c.created_at FROM chat_messages c WHERE c.id = \(bind: id))
                     OR (created_at = (SELECT c.created_at FROM chat_messages c WHERE c.id = \(bind: id)) AND id < \(bind: id)))
                    """
            }
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

    /// Who is related to the user (`AccessPolicy.Related`): appointment partners and secretary associations.
    public func related(to userId: UUID) async throws -> Set<UUID> {
        let ended = AccessPolicy.Related.ended.rawValue
        return try await self.database.read { sql in
            let rows = try await sql.raw("""
                SELECT doctor_id AS other FROM appointments WHERE patient_id = \(bind: userId) AND status <> \(bind: ended)
                UNION SELECT patient_id AS other FROM appointments WHERE doctor_id = \(bind: userId) AND status <> \(bind: ended)
                UNION SELECT doctor_id AS other FROM secretary_doctors WHERE secretary_id = \(bind: userId)
                UNION SELECT secretary_id AS other FROM secretary_doctors WHERE doctor_id = \(bind: userId)
                """).all()
            return Set(try rows.map { try $0.value("other", as: UUID.self) })
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

/// Group commit for chat messages. A send waits while a batch is being written; when that commit returns, every
/// send that arrived meanwhile goes out as the next batch (one multi-row INSERT, one commit). Under load that turns
/// thousands of round trips and fsyncs into a few dozen, without delaying a lone message (it is written at once).
/// A batch that fails is retried message by message, so one bad row fails only its own sender.
final class ChatInsertBatcher: @unchecked Sendable {
    // @unchecked: `pending` and `writers` are only touched while holding `lock`.
    typealias Result = (message: ChatMessage, created: Bool)
    private let lock = NSLock()
    private var pending: [(ChatMessage, CheckedContinuation<Result, any Error>)] = []
    private var writers = 0
    let database: Database
    /// Rows per INSERT (9 parameters each; SQLite allows 32,766 per statement, PostgreSQL 65,535).
    let maxBatch = 500
    /// Batches in flight at once: one is being committed while the next is sent.
    let maxWriters = 2

    init(database: Database) {
        self.database = database
    }

    func insert(_ message: ChatMessage) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let startWriter = self.lock.withLock {
                self.pending.append((message, continuation))
                guard self.writers < self.maxWriters else { return false }
                self.writers += 1
                return true
            }
            if startWriter { Task { await self.write() } }
        }
    }

    private func write() async {
        while true {
            let batch: [(ChatMessage, CheckedContinuation<Result, any Error>)] = self.lock.withLock {
                guard !self.pending.isEmpty else {
                    self.writers -= 1
                    return []
                }
                let count = min(self.maxBatch, self.pending.count)
                defer { self.pending.removeFirst(count) }
                return Array(self.pending.prefix(count))
            }
            guard !batch.isEmpty else { return }
            do {
                let results = try await SQLChatRepository.insertMany(batch.map(\.0), in: self.database)
                for (item, result) in zip(batch, results) { item.1.resume(returning: result) }
            } catch {
                for item in batch {
                    do {
                        item.1.resume(returning: try await SQLChatRepository.insertMany([item.0], in: self.database)[0])
                    } catch {
                        item.1.resume(throwing: error)
                    }
                }
            }
        }
    }
}
