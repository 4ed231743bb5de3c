import Foundation

/// An in-app notification for one user.
public struct AppNotification: Sendable, Equatable {
    public var id: UUID
    public var userId: UUID
    public var type: String
    public var title: String
    public var body: String
    public var data: JSON?
    public var readAt: Date?
    public var createdAt: Date

    public init(id: UUID = UUID(), userId: UUID, type: String, title: String, body: String, data: JSON? = nil, readAt: Date? = nil, createdAt: Date) {
        self.id = id
        self.userId = userId
        self.type = type
        self.title = title
        self.body = body
        self.data = data
        self.readAt = readAt
        self.createdAt = createdAt
    }
}

/// A user's notification settings (the seed's `preferences` object).
public struct NotificationPreferences: Sendable, Equatable {
    public var email: Bool
    public var sms: Bool
    public var push: Bool
    public var appointmentReminders: Bool
    public var appointmentConfirmations: Bool
    public var paymentNotifications: Bool
    /// Minutes before an appointment that the reminder goes out.
    public var reminderTime: Int
    public var updatedAt: Date?

    public init(email: Bool = true, sms: Bool = false, push: Bool = true, appointmentReminders: Bool = true, appointmentConfirmations: Bool = true,
                paymentNotifications: Bool = true, reminderTime: Int = 60, updatedAt: Date? = nil) {
        self.email = email
        self.sms = sms
        self.push = push
        self.appointmentReminders = appointmentReminders
        self.appointmentConfirmations = appointmentConfirmations
        self.paymentNotifications = paymentNotifications
        self.reminderTime = reminderTime
        self.updatedAt = updatedAt
    }

    public static let defaults = NotificationPreferences()
}

/// A message for an outside channel, written to the durable outbox and delivered by a sender.
public struct OutboxMessage: Sendable, Equatable {
    public enum Channel: String, DomainEnum {
        case email
        case sms
        case whatsapp
    }

    public enum Status: String, DomainEnum {
        case pending
        case sent
        case failed
    }

    public var id: UUID
    public var channel: Channel
    public var recipient: String
    public var subject: String?
    public var body: String
    public var status: Status
    public var attempts: Int
    public var lastError: String?
    public var createdAt: Date
    public var sentAt: Date?
    /// After this the message is useless (a sign-in code that has expired) and is dropped instead of sent.
    public var expiresAt: Date?

    public init(id: UUID = UUID(), channel: Channel, recipient: String, subject: String? = nil, body: String, status: Status = .pending,
                attempts: Int = 0, lastError: String? = nil, createdAt: Date, sentAt: Date? = nil, expiresAt: Date? = nil) {
        self.id = id
        self.channel = channel
        self.recipient = recipient
        self.subject = subject
        self.body = body
        self.status = status
        self.attempts = attempts
        self.lastError = lastError
        self.createdAt = createdAt
        self.sentAt = sentAt
        self.expiresAt = expiresAt
    }
}
