import Foundation
import Hummingbird
import SOSDomain

/// `/api/v1/notifications`: in-app notifications and preferences.
struct NotificationController {
    let notifications: NotificationService

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get(use: self.list)
        group.get("preferences", use: self.preferences)
        group.put("preferences", use: self.updatePreferences)
        group.put(":id/read", use: self.markRead)
    }

    struct PreferencesBody: Decodable {
        struct Preferences: Decodable {
            let email, sms, push, appointmentReminders, appointmentConfirmations, paymentNotifications: Bool?
            let reminderTime: Int?
        }

        let preferences: Preferences
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> NotificationListPayload {
        let query = QueryParameters(request)
        let page = try await self.notifications.list(context.principal, page: try query.page(), unreadOnly: try query.bool("unread") ?? false)
        return NotificationListPayload(notifications: page.items.map(NotificationPayload.init), pagination: PaginationPayload(page))
    }

    @Sendable func preferences(_ request: Request, context: AuthenticatedContext) async throws -> PreferencesEnvelope {
        let preferences = try await self.notifications.preferences(context.principal)
        return PreferencesEnvelope(userId: context.principal.id.apiString, preferences: PreferencesPayload(preferences))
    }

    @Sendable func updatePreferences(_ request: Request, context: AuthenticatedContext) async throws -> PreferencesUpdatedEnvelope {
        let body = try await request.decode(as: PreferencesBody.self, context: context).preferences
        let saved = try await self.notifications.updatePreferences(context.principal, NotificationService.PreferenceChanges(
            email: body.email, sms: body.sms, push: body.push, appointmentReminders: body.appointmentReminders,
            appointmentConfirmations: body.appointmentConfirmations, paymentNotifications: body.paymentNotifications, reminderTime: body.reminderTime
        ))
        return PreferencesUpdatedEnvelope(userId: context.principal.id.apiString, preferences: PreferencesPayload(saved), updatedAt: saved.updatedAt ?? Date())
    }

    @Sendable func markRead(_ request: Request, context: AuthenticatedContext) async throws -> NotificationEnvelope {
        let notification = try await self.notifications.markRead(context.principal, id: try context.uuid("id"))
        return NotificationEnvelope(message: "Notification marked as read", notification: NotificationPayload(notification))
    }
}
