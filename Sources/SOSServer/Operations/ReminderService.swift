import Foundation
import Logging
import SOSDomain
import ServiceLifecycle

/// Background job: every `interval`, sends the appointment reminders that are due (once each, even across
/// restarts and nodes — `NotificationService.sendDueReminders` claims each one in the database).
struct ReminderService: Service {
    let notifications: NotificationService
    let logger: Logger
    let interval: Duration

    func run() async throws {
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            } catch {
                return
            }
            do {
                let sent = try await self.notifications.sendDueReminders(logger: self.logger)
                if sent > 0 { self.logger.info("Sent appointment reminders", metadata: ["count": "\(sent)"]) }
            } catch {
                self.logger.warning("Reminder run failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}
