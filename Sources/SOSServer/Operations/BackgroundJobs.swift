import Foundation
import Logging
import SOSDomain
import SOSStorage
import ServiceLifecycle

/// A background job: once start-up is done, waits `interval`, runs `work`, and again, until graceful shutdown.
/// A failed round is logged and the next one runs as planned.
struct PeriodicJob: Service {
    let name: String
    let interval: Duration
    let prepared: StartupGate
    let logger: Logger
    let metrics: PrometheusMetrics
    let work: @Sendable () async throws -> Void

    func run() async throws {
        guard await self.prepared.wait() else { return }
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            } catch {
                return
            }
            do {
                try await self.work()
            } catch {
                self.metrics.jobFailed(self.name)
                self.logger.warning("\(self.name) failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}

extension AppServices {
    /// The background jobs of one node. Each claims its rows in the database, so several nodes can run them.
    func backgroundJobs() -> [PeriodicJob] {
        let configuration = self.configuration
        let logger = self.logger
        return [
            // appointment reminders that are due, once each even across restarts and nodes
            PeriodicJob(name: "Reminder run", interval: configuration.reminderInterval, prepared: self.prepared, logger: logger, metrics: self.metrics) { [notifications] in
                let sent = try await notifications.sendDueReminders(logger: logger)
                if sent > 0 { logger.info("Sent appointment reminders", metadata: ["count": "\(sent)"]) }
            },
            // outbox messages (codes, reminders) that are due, with retries and backoff on provider failures;
            // batch after batch until fewer than a batch are due
            PeriodicJob(name: "Outbox run", interval: configuration.outboxInterval, prepared: self.prepared, logger: logger, metrics: self.metrics) { [outbox] in
                while try await outbox.deliverDue(logger: logger) == OutboxDispatcher.batchSize {}
            },
            // unpaid bookings whose hold ended give their slot back (BookingRules); compare-and-set, so a racing payment wins
            PeriodicJob(name: "Booking hold run", interval: configuration.holdSweepInterval, prepared: self.prepared, logger: logger, metrics: self.metrics) { [payments] in
                let released = try await payments.releaseEndedHolds()
                if released > 0 { logger.info("Released unpaid bookings whose hold ended", metadata: ["count": "\(released)"]) }
            },
            // SOS waves, the video fallback and "no doctor" timeouts that are due; compare-and-set, so nodes never repeat a step
            PeriodicJob(name: "SOS dispatch run", interval: configuration.dispatchSweepInterval, prepared: self.prepared, logger: logger, metrics: self.metrics) { [sos] in
                try await sos.advanceDue()
            },
            // housekeeping: expired refresh tokens and revocations, old broker overflow rows, idempotency keys past retention
            PeriodicJob(name: "Token purge", interval: .seconds(3600), prepared: self.prepared, logger: logger, metrics: self.metrics) { [tokens, postgresBroker, database] in
                try await tokens.purgeExpired(now: Date())
                try await postgresBroker?.purge()
                _ = try await SQLIdempotencyKeys.purge(before: Date().addingTimeInterval(-IdempotencyKey.retention), database: database)
            },
        ]
    }
}

/// A one-way flag the background jobs wait on until start-up (migrations, seeding) is done.
final class StartupGate: @unchecked Sendable {
    // @unchecked: `isOpen` is only touched under `lock`.
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
