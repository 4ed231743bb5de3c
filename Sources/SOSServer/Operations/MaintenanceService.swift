import Foundation
import Logging
import SOSDomain
import SOSStorage
import ServiceLifecycle

/// Periodic housekeeping: drops expired refresh tokens and revocations, and old broker overflow rows, once an hour.
struct MaintenanceService: Service {
    let tokens: any TokenStore
    let broker: PostgresBroker?
    let logger: Logger
    var interval: Duration = .seconds(3600)

    func run() async throws {
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            } catch {
                return
            }
            do {
                try await self.tokens.purgeExpired(now: Date())
                try await self.broker?.purge()
            } catch {
                self.logger.warning("Token purge failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}
