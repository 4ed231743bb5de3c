import Foundation
import SOSDomain
import SQLKit

/// `NotificationRepository` over SQLKit: notifications, preferences, reminders sent and the message outbox.
public struct SQLNotificationRepository: NotificationRepository, OutboxRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = "id, user_id, type, title, body, data, read_at, created_at"

    public func create(_ notifications: [AppNotification]) async throws {
        guard !notifications.isEmpty else { return }
        try await self.database.transaction { sql in
            for notification in notifications { try await Self.insert(notification, in: sql) }
        }
    }

    public func list(userId: UUID, page: PageRequest, unreadOnly: Bool) async throws -> Page<AppNotification> {
        try await self.database.read { sql in
            var filter: SQLQueryString = "WHERE user_id = \(bind: userId)"
            if unreadOnly { filter += " AND read_at IS NULL" }
            let total = try await sql.raw("SELECT COUNT(*) AS total FROM notifications \(filter)").first()?.value("total", as: Int.self) ?? 0
            let rows = try await sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM notifications \(filter) ORDER BY created_at DESC, id DESC
                LIMIT \(bind: page.limit) OFFSET \(bind: page.offset)
                """).all()
            return Page(items: try rows.map(Self.notification(from:)), total: total, request: page)
        }
    }

    public func markRead(id: UUID, userId: UUID, at: Date) async throws -> AppNotification? {
        try await self.database.write { sql in
            try await sql.raw("UPDATE notifications SET read_at = \(bind: at) WHERE id = \(bind: id) AND user_id = \(bind: userId) AND read_at IS NULL").run()
            return try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM notifications WHERE id = \(bind: id) AND user_id = \(bind: userId)")
                .first().map(Self.notification(from:))
        }
    }

    public func preferences(userId: UUID) async throws -> NotificationPreferences {
        try await self.preferences(userIds: [userId])[userId] ?? .defaults
    }

    public func preferences(userIds: [UUID]) async throws -> [UUID: NotificationPreferences] {
        guard !userIds.isEmpty else { return [:] }
        return try await self.database.read { sql in
            let rows = try await sql.raw("""
                SELECT user_id, email, sms, push, appointment_reminders, appointment_confirmations, payment_notifications, reminder_time, updated_at
                FROM notification_preferences WHERE user_id IN (\(binds: userIds))
                """).all()
            var result: [UUID: NotificationPreferences] = [:]
            for row in rows {
                result[try row.value("user_id", as: UUID.self)] = NotificationPreferences(
                    email: try row.value("email"), sms: try row.value("sms"), push: try row.value("push"),
                    appointmentReminders: try row.value("appointment_reminders"), appointmentConfirmations: try row.value("appointment_confirmations"),
                    paymentNotifications: try row.value("payment_notifications"), reminderTime: try row.value("reminder_time"),
                    updatedAt: try row.value("updated_at")
                )
            }
            return result
        }
    }

    public func savePreferences(_ preferences: NotificationPreferences, userId: UUID) async throws {
        try await self.database.write { sql in
            try await sql.raw("""
                INSERT INTO notification_preferences (user_id, email, sms, push, appointment_reminders, appointment_confirmations,
                    payment_notifications, reminder_time, updated_at)
                VALUES (\(bind: userId), \(bind: preferences.email), \(bind: preferences.sms), \(bind: preferences.push),
                    \(bind: preferences.appointmentReminders), \(bind: preferences.appointmentConfirmations), \(bind: preferences.paymentNotifications),
                    \(bind: preferences.reminderTime), \(bind: preferences.updatedAt ?? Date()))
                ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, sms = excluded.sms, push = excluded.push,
                    appointment_reminders = excluded.appointment_reminders, appointment_confirmations = excluded.appointment_confirmations,
                    payment_notifications = excluded.payment_notifications, reminder_time = excluded.reminder_time, updated_at = excluded.updated_at
                """).run()
        }
    }

    public func deliverReminder(appointmentId: UUID, userId: UUID, startsAt: Date, notification: AppNotification, messages: [OutboxMessage]) async throws -> Bool {
        try await self.database.transaction { sql in
            let claimed = try await sql.raw("""
                INSERT INTO reminders_sent (appointment_id, user_id, starts_at, sent_at)
                VALUES (\(bind: appointmentId), \(bind: userId), \(bind: startsAt), \(bind: notification.createdAt))
                ON CONFLICT (appointment_id, user_id, starts_at) DO NOTHING RETURNING appointment_id
                """).first()
            guard claimed != nil else { return false }
            try await Self.insert(notification, in: sql)
            for message in messages { try await Self.insert(message, in: sql) }
            return true
        }
    }

    public func enqueue(_ messages: [OutboxMessage]) async throws {
        guard !messages.isEmpty else { return }
        try await self.database.transaction { sql in
            for message in messages { try await Self.insert(message, in: sql) }
        }
    }

    public func outbox(limit: Int) async throws -> [OutboxMessage] {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT id, channel, recipient, subject, body, status, attempts, last_error, created_at, sent_at, expires_at FROM outbox_messages
                ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)
                """).all().map(Self.outboxMessage(from:))
        }
    }

    // MARK: - Outbox delivery

    public func backlog() async throws -> OutboxBacklog {
        try await self.database.read { sql in
            let row = try await sql.raw("SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM outbox_messages WHERE status = 'pending'").first()
            return OutboxBacklog(pending: try row?.value("pending", as: Int.self) ?? 0, oldestCreatedAt: try row?.optional("oldest", as: Date.self))
        }
    }

    public func claimDue(now: Date, leaseUntil: Date, limit: Int) async throws -> [OutboxMessage] {
        try await self.database.transaction { sql in
            // step: push the due ones' next attempt past the lease, so another node does not send them too
            let skipLocked = self.database.kind == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
            let ids = try await sql.raw("""
                SELECT id FROM outbox_messages WHERE status = 'pending' AND next_attempt_at <= \(bind: now)
                ORDER BY next_attempt_at, created_at LIMIT \(bind: limit)\(unsafeRaw: skipLocked)
                """).all().map { try $0.value("id", as: UUID.self) }
            guard !ids.isEmpty else { return [] }
            return try await sql.raw("""
                UPDATE outbox_messages SET next_attempt_at = \(bind: leaseUntil) WHERE id IN (\(binds: ids))
                RETURNING id, channel, recipient, subject, body, status, attempts, last_error, created_at, sent_at, expires_at
                """).all().map(Self.outboxMessage(from:)).sorted { $0.createdAt < $1.createdAt }
        }
    }

    // Both marks apply only to a pending message: a late answer for a message that another node has meanwhile
    // sent (after the lease ran out) never sets it back to pending. `redact` blanks the body once it is no longer
    // needed, so codes and appointment details do not stay in the database.
    public func markSent(id: UUID, at: Date, redact: Bool) async throws {
        try await self.database.write { sql in
            try await sql.raw("""
                UPDATE outbox_messages SET status = 'sent', sent_at = \(bind: at), attempts = attempts + 1, last_error = NULL,
                    body = CASE WHEN \(bind: redact) THEN '' ELSE body END
                WHERE id = \(bind: id) AND status = 'pending'
                """).run()
        }
    }

    public func markAttemptFailed(id: UUID, attempts: Int, error: String, nextAttemptAt: Date?, redact: Bool) async throws {
        try await self.database.write { sql in
            try await sql.raw("""
                UPDATE outbox_messages SET attempts = \(bind: attempts), last_error = \(bind: error),
                    status = \(bind: nextAttemptAt == nil ? "failed" : "pending"), next_attempt_at = COALESCE(\(bind: nextAttemptAt), next_attempt_at),
                    body = CASE WHEN \(bind: redact && nextAttemptAt == nil) THEN '' ELSE body END
                WHERE id = \(bind: id) AND status = 'pending'
                """).run()
        }
    }

    static func outboxMessage(from row: any SQLRow) throws -> OutboxMessage {
        OutboxMessage(
            id: try row.value("id"), channel: OutboxMessage.Channel(rawValue: try row.value("channel")) ?? .email,
            recipient: try row.value("recipient"), subject: try row.optional("subject"), body: try row.value("body"),
            status: OutboxMessage.Status(rawValue: try row.value("status")) ?? .pending, attempts: try row.value("attempts"),
            lastError: try row.optional("last_error"), createdAt: try row.value("created_at"), sentAt: try row.optional("sent_at"),
            expiresAt: try row.optional("expires_at")
        )
    }

    static func insert(_ notification: AppNotification, in sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO notifications (id, user_id, type, title, body, data, read_at, created_at)
            VALUES (\(bind: notification.id), \(bind: notification.userId), \(bind: notification.type), \(bind: notification.title),
                \(bind: notification.body), \(bind: notification.data?.text), \(bind: notification.readAt), \(bind: notification.createdAt))
            """).run()
    }

    static func insert(_ message: OutboxMessage, in sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO outbox_messages (id, channel, recipient, subject, body, status, attempts, next_attempt_at, last_error, created_at, sent_at,
                expires_at)
            VALUES (\(bind: message.id), \(bind: message.channel.rawValue), \(bind: message.recipient), \(bind: message.subject), \(bind: message.body),
                \(bind: message.status.rawValue), \(bind: message.attempts), \(bind: message.createdAt), \(bind: message.lastError),
                \(bind: message.createdAt), \(bind: message.sentAt), \(bind: message.expiresAt))
            """).run()
    }

    static func notification(from row: any SQLRow) throws -> AppNotification {
        AppNotification(
            id: try row.value("id"), userId: try row.value("user_id"), type: try row.value("type"), title: try row.value("title"),
            body: try row.value("body"), data: try row.json("data"), readAt: try row.optional("read_at"), createdAt: try row.value("created_at")
        )
    }
}
