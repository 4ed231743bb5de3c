import Foundation
import Hummingbird
import Logging
import SOSDomain
import SOSStorage

/// What the `sos-server` subcommands do; the executable only parses arguments and calls these.
public enum ServerCommands {
    static func logger(_ configuration: ServerConfiguration) -> Logger {
        var logger = Logger(label: "sos-server")
        logger.logLevel = configuration.logLevel
        return logger
    }

    /// Runs the HTTP server until SIGTERM or SIGINT; in-flight requests finish first.
    public static func serve(_ configuration: ServerConfiguration) async throws {
        var logger = Logger(label: "sos-server")
        logger.logLevel = configuration.logLevel
        let services = try await AppServices.build(configuration, logger: logger)
        let app = try buildApplication(services)
        try await serviceGroup(app, services).run()
    }

    /// Applies pending migrations and exits.
    public static func migrate(_ configuration: ServerConfiguration) async throws {
        try await Self.withServices(configuration) { services in
            let applied = try await Migrator(database: services.database, logger: services.logger).migrate()
            let versions = try await Migrator(database: services.database, logger: services.logger).appliedVersions()
            print("Applied \(applied.count) migration(s); schema is at version \(versions.last ?? 0).")
        }
    }

    /// Creates an administrator, or makes an existing account an active admin with the given password.
    public static func createAdmin(_ configuration: ServerConfiguration, email: String, password: String, name: String) async throws {
        try await Self.withServices(configuration) { services in
            try await Migrator(database: services.database, logger: services.logger).migrate()
            let user = try await services.userService.ensureAdmin(email: email, password: password, name: name)
            print("Admin \(user.email ?? email) is ready (id \(user.id.apiString)).")
        }
    }

    /// Fills the database with demo accounts (and, once the clinical domain exists, their data).
    public static func seedDemo(_ configuration: ServerConfiguration, scale: Int, doctors: Int? = nil, patients: Int? = nil,
                                appointmentsPerDoctor: Int? = nil) async throws {
        try await Self.withServices(configuration) { services in
            try await services.prepare()
            let amount = DemoSeeder.Amount(scale: scale, doctors: doctors, patients: patients, appointmentsPerDoctor: appointmentsPerDoctor)
            let summary = try await DemoSeeder(services: services).seed(amount)
            print(summary)
        }
    }

    /// Builds the services, runs `body` with the database service running, then shuts it down.
    static func withServices(_ configuration: ServerConfiguration, _ body: @Sendable @escaping (AppServices) async throws -> Void) async throws {
        let services = try await AppServices.build(configuration, logger: Self.logger(configuration))
        try await withThrowingTaskGroup(of: Void.self) { group in
            // step: the database runs as in the server; cancelling it closes the connection or pool
            group.addTask { try await services.database.run() }
            do {
                try await body(services)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }
}
