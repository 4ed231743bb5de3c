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
    let prepared: StartupGate

    func run() async throws {
        guard await self.prepared.wait() else { return }
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

/// Background job: every `interval`, delivers the outbox messages that are due (codes, reminders), with retries
/// and backoff on provider failures. With several nodes each claims its own messages in the database.
struct OutboxService: Service {
    let dispatcher: OutboxDispatcher
    let logger: Logger
    let interval: Duration
    let prepared: StartupGate

    func run() async throws {
        guard await self.prepared.wait() else { return }
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            } catch {
                return
            }
            do {
                // step: drain what is due (up to 50 per round), then wait again
                while try await self.dispatcher.deliverDue(logger: self.logger) == 50 {}
            } catch {
                self.logger.warning("Outbox run failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}

/// A one-way flag the background jobs wait on until start-up (migrations, seeding) is done.
final class StartupGate: @unchecked Sendable {
    private let lock = NSLock()
    private var isOpen = false

    func open() { self.lock.withLock { self.isOpen = true } }

    /// True once open; false when graceful shutdown or cancellation comes first.
    func wait() async -> Bool {
        while !self.lock.withLock({ self.isOpen }) {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(20)) }
            } catch {
                return false
            }
        }
        return true
    }
}
