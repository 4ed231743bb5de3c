import Foundation
import Logging

/// In-app notifications, preferences, and reminders sent `reminderTime` minutes before appointments.
public struct NotificationService: Sendable {
    let notifications: any NotificationRepository
    let users: any UserRepository
    let appointments: any AppointmentRepository
    let doctors: any DoctorRepository
    let events: any EventPublisher
    let now: @Sendable () -> Date

    public init(
        notifications: any NotificationRepository, users: any UserRepository, appointments: any AppointmentRepository,
        doctors: any DoctorRepository, events: any EventPublisher, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.notifications = notifications
        self.users = users
        self.appointments = appointments
        self.doctors = doctors
        self.events = events
        self.now = now
    }

    // MARK: - Preferences

    public func preferences(_ principal: Principal) async throws -> NotificationPreferences {
        try await self.notifications.preferences(userId: principal.id)
    }

    /// Changes of the preferences; nil leaves a setting as it is.
    public struct PreferenceChanges: Sendable {
        public var email, sms, push, appointmentReminders, appointmentConfirmations, paymentNotifications: Bool?
        public var reminderTime: Int?

        public init(email: Bool? = nil, sms: Bool? = nil, push: Bool? = nil, appointmentReminders: Bool? = nil,
                    appointmentConfirmations: Bool? = nil, paymentNotifications: Bool? = nil, reminderTime: Int? = nil) {
            self.email = email
            self.sms = sms
            self.push = push
            self.appointmentReminders = appointmentReminders
            self.appointmentConfirmations = appointmentConfirmations
            self.paymentNotifications = paymentNotifications
            self.reminderTime = reminderTime
        }
    }

    /// Reminders go out between 0 minutes and one week before an appointment.
    public static let reminderRange = 0...10_080

    public func updatePreferences(_ principal: Principal, _ changes: PreferenceChanges) async throws -> NotificationPreferences {
        if let minutes = changes.reminderTime, !Self.reminderRange.contains(minutes) {
            throw DomainError.invalid("'reminderTime' must be minutes before the appointment, from 0 to \(Self.reminderRange.upperBound) (got \(minutes)).")
        }
        var preferences = try await self.notifications.preferences(userId: principal.id)
        if let value = changes.email { preferences.email = value }
        if let value = changes.sms { preferences.sms = value }
        if let value = changes.push { preferences.push = value }
        if let value = changes.appointmentReminders { preferences.appointmentReminders = value }
        if let value = changes.appointmentConfirmations { preferences.appointmentConfirmations = value }
        if let value = changes.paymentNotifications { preferences.paymentNotifications = value }
        if let value = changes.reminderTime { preferences.reminderTime = value }
        preferences.updatedAt = self.now()
        try await self.notifications.savePreferences(preferences, userId: principal.id)
        return preferences
    }

    // MARK: - In-app notifications

    public func list(_ principal: Principal, page: PageRequest, unreadOnly: Bool) async throws -> Page<AppNotification> {
        try await self.notifications.list(userId: principal.id, page: page, unreadOnly: unreadOnly)
    }

    /// Marks one of the caller's notifications read; someone else's is 404.
    public func markRead(_ principal: Principal, id: UUID) async throws -> AppNotification {
        guard let notification = try await self.notifications.markRead(id: id, userId: principal.id, at: self.now()) else {
            throw DomainError.notFound("No notification with id \(id.uuidString.lowercased()).")
        }
        return notification
    }

    /// Creates an in-app notification for each user and pushes it live.
    public func notify(_ userIds: Set<UUID>, type: String, title: String, body: String, data: JSON? = nil) async throws {
        guard !userIds.isEmpty else { return }
        let now = self.now()
        let created = userIds.sorted { $0.uuidString < $1.uuidString }.map {
            AppNotification(userId: $0, type: type, title: title, body: body, data: data, createdAt: now)
        }
        try await self.notifications.create(created)
        for notification in created {
            await self.events.publish(
                DomainEvent(type: "notification.created", userIds: [notification.userId], includeAdmins: false, subject: .notification(notification), occurredAt: now)
            )
        }
    }

    // MARK: - Reminders

    /// Sends every reminder that is due: once per appointment start and user, through the user's channels.
    /// Returns how many reminders went out. Safe to run on several nodes and after restarts.
    @discardableResult
    public func sendDueReminders(logger: Logger) async throws -> Int {
        let now = self.now()
        let upcoming = try await self.appointments.starting(
            from: now, to: now.addingTimeInterval(TimeInterval(Self.reminderRange.upperBound * 60)),
            statuses: [.paymentCompleted, .confirmed]
        )
        guard !upcoming.isEmpty else { return 0 }
        let participants = Set(upcoming.flatMap { [$0.patientId, $0.doctorId] })
        let preferences = try await self.notifications.preferences(userIds: Array(participants))
        let people = try await self.users.find(ids: Array(participants))
        let languages = try await self.users.languages(ids: Array(participants))
        let doctors = try await self.doctors.find(ids: Array(Set(upcoming.map(\.doctorId))))
        var sent = 0
        for appointment in upcoming {
            for userId in [appointment.patientId, appointment.doctorId] {
                let settings = preferences[userId] ?? .defaults
                guard settings.appointmentReminders,
                      appointment.startsAt.timeIntervalSince(now) <= TimeInterval(settings.reminderTime * 60),
                      let user = people[userId]
                else { continue }
                let doctorName = doctors[appointment.doctorId]?.user.name ?? "your doctor"
                let patientName = people[appointment.patientId]?.name ?? "your patient"
                let with = userId == appointment.patientId ? doctorName : patientName
                let language = Language(preferred: languages[userId])
                let text = MessageTemplates.reminderBody(
                    type: appointment.consultationType.rawValue, with: with, date: "\(appointment.date)", time: "\(appointment.startTime)", language
                )
                let notification = AppNotification(
                    userId: userId, type: "appointment.reminder", title: MessageTemplates.reminderSubject(language), body: text,
                    data: .object(["appointment_id": .string(appointment.id.uuidString.lowercased())]), createdAt: now
                )
                // step: a reminder that could not go out before the appointment starts is dropped, not sent late
                var messages: [OutboxMessage] = []
                if settings.email, let email = user.email {
                    messages.append(OutboxMessage(
                        channel: .email, recipient: email, subject: MessageTemplates.reminderSubject(language), body: text, createdAt: now,
                        expiresAt: appointment.startsAt
                    ))
                }
                if settings.sms, let phone = user.phone {
                    messages.append(OutboxMessage(channel: .sms, recipient: phone, body: text, createdAt: now, expiresAt: appointment.startsAt))
                }
                guard try await self.notifications.deliverReminder(
                    appointmentId: appointment.id, userId: userId, startsAt: appointment.startsAt, notification: notification, messages: messages
                ) else { continue }
                await self.events.publish(
                    DomainEvent(type: "notification.created", userIds: [userId], includeAdmins: false, subject: .notification(notification), occurredAt: now)
                )
                sent += 1
                logger.debug("Reminder sent", metadata: ["appointment": "\(appointment.id)", "user": "\(userId)"])
            }
        }
        return sent
    }
}
