import ArgumentParser
import Foundation
import SOSServer

/// `sos-server`: the SOS Tourist Doctor server and its maintenance commands.
@main
struct SOSServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sos-server",
        abstract: "SOS Tourist Doctor: REST API and real-time hub in one process.",
        subcommands: [Serve.self, Migrate.self, CreateAdmin.self, SeedDemo.self],
        defaultSubcommand: Serve.self
    )
}

/// Flags for every environment variable; a flag wins over the variable.
struct ConfigOptions: ParsableArguments {
    @Option(help: "development or production (SOS_ENV).") var env: String?
    @Option(help: "Address to listen on (SOS_HOST).") var host: String?
    @Option(help: "Port to listen on (SOS_PORT).") var port: String?
    @Option(name: .customLong("database-url"), help: "postgres://… ; unset means embedded SQLite (DATABASE_URL).") var databaseURL: String?
    @Option(name: .customLong("db-schema"), help: "PostgreSQL schema (SOS_DB_SCHEMA).") var dbSchema: String?
    @Option(name: .customLong("data-dir"), help: "Directory for SQLite, secrets and uploads (SOS_DATA_DIR).") var dataDir: String?
    @Option(name: .customLong("jwt-secret"), help: "HS256 secret, at least 32 bytes (JWT_SECRET).") var jwtSecret: String?
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain; enables HTTPS/WSS (SOS_TLS_CERT).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key (SOS_TLS_KEY).") var tlsKey: String?
    @Option(name: .customLong("cors-origins"), help: "Comma-separated allowed origins, or * (CORS_ORIGINS).") var corsOrigins: String?
    @Option(name: .customLong("assets-dir"), help: "Directory holding protocol/ and web-demo/ (SOS_ASSETS_DIR).") var assetsDir: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (LOG_LEVEL).") var logLevel: String?

    /// The environment overlaid with the flags that were given.
    func configuration() throws -> ServerConfiguration {
        var values = ProcessInfo.processInfo.environment
        let flags: [(String, String?)] = [
            ("SOS_ENV", self.env), ("SOS_HOST", self.host), ("SOS_PORT", self.port), ("DATABASE_URL", self.databaseURL),
            ("SOS_DB_SCHEMA", self.dbSchema), ("SOS_DATA_DIR", self.dataDir), ("JWT_SECRET", self.jwtSecret),
            ("SOS_TLS_CERT", self.tlsCert), ("SOS_TLS_KEY", self.tlsKey), ("CORS_ORIGINS", self.corsOrigins),
            ("SOS_ASSETS_DIR", self.assetsDir), ("LOG_LEVEL", self.logLevel),
        ]
        for (key, value) in flags {
            if let value { values[key] = value }
        }
        let configuration = try ServerConfiguration.fromEnvironment(values)
        try configuration.validate()
        return configuration
    }
}

/// Fails with the configuration message and exit code 2 instead of a stack trace.
func withConfiguration(_ options: ConfigOptions, _ body: (ServerConfiguration) async throws -> Void) async throws {
    let configuration: ServerConfiguration
    do {
        configuration = try options.configuration()
    } catch let error as ConfigurationError {
        throw ValidationError(error.description)
    }
    try await body(configuration)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (the default command).")
    @OptionGroup var options: ConfigOptions

    func run() async throws {
        try await withConfiguration(self.options) { try await ServerCommands.serve($0) }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")
    @OptionGroup var options: ConfigOptions

    func run() async throws {
        try await withConfiguration(self.options) { try await ServerCommands.migrate($0) }
    }
}

struct CreateAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create-admin", abstract: "Create an administrator (or reset one's password).")
    @OptionGroup var options: ConfigOptions
    @Option(help: "Admin email.") var email: String
    @Option(help: "Admin password (at least 8 characters).") var password: String
    @Option(help: "Admin display name.") var name: String = "Administrator"

    func run() async throws {
        try await withConfiguration(self.options) {
            try await ServerCommands.createAdmin($0, email: self.email, password: self.password, name: self.name)
        }
    }
}

struct SeedDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "seed-demo", abstract: "Fill the database with demo data.")
    @OptionGroup var options: ConfigOptions
    @Option(help: "Multiplier for the amount of data (1 = a handful of accounts).") var scale: Int = 1

    func run() async throws {
        guard self.scale >= 1 else { throw ValidationError("--scale must be at least 1.") }
        try await withConfiguration(self.options) { try await ServerCommands.seedDemo($0, scale: self.scale) }
    }
}
