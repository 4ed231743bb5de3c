import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import SOSDomain
import SOSStorage
import Testing

@testable import SOSServer

/// The JWT secret of every test application, so tests can forge tokens with it.
let testJWTSecret = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"

/// Which database the suite runs on: PostgreSQL when `SOS_TEST_DATABASE_URL` is set, else SQLite.
enum TestDatabase {
    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["SOS_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Creates a fresh PostgreSQL schema and returns its name.
    static func createSchema(url: String) async throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        try await Self.execute(url: url, "CREATE SCHEMA \(name)")
        return String(name)
    }

    static func dropSchema(url: String, name: String) async {
        try? await Self.execute(url: url, "DROP SCHEMA IF EXISTS \(name) CASCADE")
    }

    private static func execute(url: String, _ statement: String) async throws {
        let parsed = URLComponents(string: url)!
        let configuration = PostgresConnection.Configuration(
            host: parsed.host ?? "127.0.0.1", port: parsed.port ?? 5432, username: parsed.user ?? "postgres",
            password: parsed.password, database: String(parsed.path.dropFirst()), tls: .disable
        )
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: Logger(label: "test-admin"))
        defer { Task { try? await connection.close() } }
        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: Logger(label: "test-admin"))
    }
}

/// A temporary data directory (SQLite file, JWT secret, uploads), removed after the test.
struct TemporaryDirectory {
    let path: String

    init() throws {
        self.path = NSTemporaryDirectory() + "sos-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}

/// The package root, for reading `protocol/`.
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.path
}()

/// A test configuration: fresh storage, cheap bcrypt, generous rate limits unless a test tightens them.
func testConfiguration(dataDirectory: String, schema: String?) -> ServerConfiguration {
    var configuration = ServerConfiguration()
    configuration.mode = .development
    configuration.dataDirectory = dataDirectory
    configuration.databaseURL = TestDatabase.postgresURL
    configuration.databaseSchema = schema
    configuration.databaseMaxConnections = 4
    // many suites share the machine and one PostgreSQL: a connection may take a while, which is not an outage here
    // (DatabaseOutageTests sets its own bounds)
    configuration.databaseTimeouts.acquire = .seconds(30)
    // and a transaction may take many seconds of wall-clock time while twenty suites share two cores
    configuration.databaseTimeouts.statement = .seconds(60)
    // the request-head timeout is also the keep-alive idle time: a live test's HTTP client may sit idle for longer than
    // the 15 s default while its WebSockets work on a loaded machine, and would find its connection closed
    // (the timeouts themselves are tested against a server process by Tests/e2e/trust/resources.py)
    configuration.connections.requestHeadTimeout = 300
    configuration.jwtSecret = testJWTSecret
    configuration.bcryptCost = 4
    configuration.loginAttemptsPerMinute = 100_000
    configuration.loginFailuresPerAccount = 100_000
    configuration.registrationsPerHour = 100_000
    configuration.booking.maxUnpaidPerPatient = 1000
    // SOS waves and timeouts run when a test calls `advanceDue`, not every 2 s in every test's application
    configuration.dispatchSweepInterval = .seconds(3600)
    configuration.assetsDirectory = packageRoot
    configuration.port = 0
    configuration.logLevel = ProcessInfo.processInfo.environment["SOS_TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
    return configuration
}

/// Production mode as a test can run it: production refuses development settings such as a bcrypt cost below 10.
func useProductionMode(_ configuration: inout ServerConfiguration) {
    configuration.mode = .production
    configuration.bcryptCost = 10
}

/// Storage for one test: a data directory and, on PostgreSQL, a schema; both removed afterwards.
struct TestStorage {
    let directory: TemporaryDirectory
    let schema: String?

    static func make() async throws -> TestStorage {
        var schema: String?
        if let url = TestDatabase.postgresURL { schema = try await TestDatabase.createSchema(url: url) }
        return TestStorage(directory: try TemporaryDirectory(), schema: schema)
    }

    func cleanUp() async {
        if let schema, let url = TestDatabase.postgresURL { await TestDatabase.dropSchema(url: url, name: schema) }
        self.directory.remove()
    }

    var configuration: ServerConfiguration { testConfiguration(dataDirectory: self.directory.path, schema: self.schema) }
}

/// Builds a fresh application (its own database), runs `test` against its router, then cleans up.
func withApp<T: Sendable>(
    _ setup: TestingSetup = .router,
    events: any EventPublisher = NoEventPublisher(),
    configure: @Sendable (inout ServerConfiguration) -> Void = { _ in },
    _ test: @Sendable (any TestClientProtocol, AppServices) async throws -> T
) async throws -> T {
    let storage = try await TestStorage.make()
    defer { Task { await storage.cleanUp() } }
    var configuration = storage.configuration
    configure(&configuration)
    return try await runApp(configuration, setup, events: events, test)
}

/// Runs an application on an existing configuration (restart tests reuse one data directory).
func runApp<T: Sendable>(
    _ configuration: ServerConfiguration,
    _ setup: TestingSetup = .router,
    events: any EventPublisher = NoEventPublisher(),
    presence: (any PresenceDirectory)? = nil,
    _ test: @Sendable (any TestClientProtocol, AppServices) async throws -> T
) async throws -> T {
    var logger = Logger(label: "sos-test")
    logger.logLevel = configuration.logLevel
    let services = try await AppServices.build(configuration, logger: logger, events: events, presence: presence)
    let app = try buildApplication(services)
    return try await app.test(setup) { client in
        try await test(client, services)
    }
}
