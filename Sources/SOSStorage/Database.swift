import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PostgresKit
import PostgresNIO
import SQLKit
import SQLiteKit
import ServiceLifecycle
import Synchronization

/// Which SQL engine backs the server; the few statements that differ switch on it.
public enum DatabaseKind: String, Sendable {
    case sqlite
    case postgres
}

/// The server's database: embedded SQLite (one writer connection, taken in turn, and a few readers beside it) or a
/// PostgreSQL pool.
///
/// Repositories reach SQL only through `read`, `write` and `transaction`, so the same SQLKit code runs on both.
/// Run it as a `Service`: PostgreSQL's pool needs `run()`, and both close on graceful shutdown.
public final class Database: Service, Sendable {
    enum Backend: Sendable {
        /// The writer takes every write and transaction in turn; in WAL mode the readers see the last commit meanwhile.
        /// `fastReaders` keep their prepared statements, for the hottest reads (`rows(_:)`).
        case sqlite(writer: AsyncLease<SQLiteConnection>, readers: AsyncLease<SQLiteConnection>, fastReaders: AsyncLease<SQLiteReader>)
        case postgres(PostgresPool)
    }

    public let kind: DatabaseKind
    let backend: Backend
    let logger: Logger
    private let writeCount = Atomic<UInt64>(0)

    /// How many writes and transactions this process has finished (or failed) so far: a read kept from before the
    /// count moved may be stale (`RecentReads`).
    var writes: UInt64 { self.writeCount.load(ordering: .acquiring) }

    init(kind: DatabaseKind, backend: Backend, logger: Logger) {
        self.kind = kind
        self.backend = backend
        self.logger = logger
    }

    /// Opens (creating if needed) an SQLite file, in WAL mode with foreign keys on and full fsync on commit: one writer
    /// connection and `readers` read-only ones (`PRAGMA query_only`, so a write sent to `read` fails instead of racing).
    public static func sqlite(path: String, readers: Int = 4, logger: Logger) async throws -> Database {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        // step: the writer first, which switches the file to WAL before any reader opens it
        let writer = try await Self.openSQLite(path: path, pragmas: ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL"], logger: logger)
        var readConnections: [SQLiteConnection] = []
        for _ in 0..<max(1, readers) {
            readConnections.append(try await Self.openSQLite(path: path, pragmas: ["PRAGMA query_only = ON"], logger: logger))
        }
        let fastReaders = try (0..<2).map { _ in try SQLiteReader(path: path) }
        return Database(
            kind: .sqlite, backend: .sqlite(writer: AsyncLease([writer]), readers: AsyncLease(readConnections), fastReaders: AsyncLease(fastReaders)),
            logger: logger
        )
    }

    private static func openSQLite(path: String, pragmas: [String], logger: Logger) async throws -> SQLiteConnection {
        let connection = try await SQLiteConnection.open(
            storage: .file(path: path),
            threadPool: NIOThreadPool.singleton,
            logger: logger,
            on: MultiThreadedEventLoopGroup.singleton.any()
        ).get()
        let sql = connection.sql(queryLogLevel: .trace)
        for pragma in pragmas + ["PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 5000"] {
            try await sql.raw(SQLQueryString(pragma)).run()
        }
        return connection
    }

    /// Connects to PostgreSQL from a `postgres://user:password@host:port/database?sslmode=…` URL.
    ///
    /// `searchPath` selects a schema for every connection (tests use one schema each).
    /// Every wait is bounded by `timeouts`: while the server is unreachable operations throw `DomainError(.unavailable)`.
    public static func postgres(
        url: String, searchPath: String? = nil, maximumConnections: Int = 20, timeouts: DatabaseTimeouts = DatabaseTimeouts(), logger: Logger
    ) throws -> Database {
        var endpoint = try PostgresURL.endpoint(url)
        endpoint.client.options.maximumConnections = maximumConnections
        endpoint.client.options.connectionIdleTimeout = .seconds(60)
        if let searchPath {
            endpoint.client.options.additionalStartupParameters.append(("search_path", searchPath))
        }
        let pool = try PostgresPool(endpoint: endpoint, timeouts: timeouts, logger: logger)
        return Database(kind: .postgres, backend: .postgres(pool), logger: logger)
    }

    /// The pool's counters (PostgreSQL); nil on SQLite.
    public var poolStatistics: DatabasePoolStatistics? {
        guard case .postgres(let pool) = self.backend else { return nil }
        return pool.statistics
    }

    /// Keeps the PostgreSQL pool running until shutdown; closes the SQLite connections on shutdown.
    public func run() async throws {
        switch self.backend {
        case .postgres(let pool):
            await cancelWhenGracefulShutdown {
                await pool.run()
            }
        case .sqlite(let writer, let readers, _):
            try? await gracefulShutdown()
            for lease in [readers, writer] {
                // step: each connection is closed once it is back, so no statement still running is cut
                for connection in await lease.drain() {
                    try? await connection.close().get()
                }
            }
        }
    }

    /// Runs read-only work on a connection (on SQLite a read-only one: it sees what was committed before it began).
    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch self.backend {
        case .sqlite(_, let readers, _):
            return try await readers.with { try await body($0.sql(queryLogLevel: .trace)) }
        case .postgres(let pool):
            return try await pool.withConnection { connection in
                try await body(connection.sql(queryLogLevel: .trace))
            }
        }
    }

    /// Runs a statement the hot paths keep prepared and reads each row by position: PostgreSQL prepares it once per
    /// pooled connection, an SQLite reader keeps it by its text and runs it on the calling thread.
    func rows<Statement: KeptStatement>(_ statement: Statement) async throws -> [Statement.Value] {
        switch self.backend {
        case .sqlite(_, _, let fastReaders):
            return try await fastReaders.with { reader in
                var values: [Statement.Value] = []
                try reader.query(Statement.sql, statement.sqliteBinds) { values.append(try Statement.value(from: $0)) }
                return values
            }
        case .postgres(let pool):
            let rows = try await pool.withConnection { [logger = self.logger] connection in
                var rows: [PostgresRow] = []
                for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
                return rows
            }
            return try rows.map { try Statement.value(from: PostgresColumns($0)) }
        }
    }

    /// Runs a single statement (or several that need not be atomic).
    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        defer { self.writeCount.wrappingAdd(1, ordering: .releasing) }
        if case .sqlite(let writer, _, _) = self.backend {
            return try await writer.with { try await body($0.sql(queryLogLevel: .trace)) }
        }
        return try await self.read(body)
    }

    /// Runs `body` in one transaction: everything it wrote is kept, or (when it throws) nothing is.
    ///
    /// `unbounded` (migrations, which may wait for another node's and build indexes) lifts the statement timeout.
    public func transaction<T: Sendable>(
        unbounded: Bool = false, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        defer { self.writeCount.wrappingAdd(1, ordering: .releasing) }
        switch self.backend {
        case .sqlite(let writer, _, _):
            return try await writer.with { connection in
                let sql = connection.sql(queryLogLevel: .trace)
                try await sql.raw("BEGIN IMMEDIATE").run()
                do {
                    let value = try await body(sql)
                    try await sql.raw("COMMIT").run()
                    return value
                } catch {
                    try? await sql.raw("ROLLBACK").run()
                    throw error
                }
            }
        case .postgres(let pool):
            return try await pool.withConnection(long: unbounded) { connection in
                let sql = connection.sql(queryLogLevel: .trace)
                try await sql.raw("BEGIN").run()
                if unbounded { try await sql.raw("SET LOCAL statement_timeout = 0").run() }
                do {
                    let value = try await body(sql)
                    try await sql.raw("COMMIT").run()
                    return value
                } catch {
                    try? await sql.raw("ROLLBACK").run()
                    throw error
                }
            }
        }
    }

    /// Holds a PostgreSQL connection listening on `channel` and hands each notification payload to `consume`
    /// until it returns or the connection fails. SQLite has no notifications: throws.
    /// Listens on `channel` until the connection fails, or until `isDeaf` (asked every `check`) says that the
    /// connection no longer delivers notifications: it is then closed and `DeafListener` thrown, so that the caller
    /// listens again on a fresh connection (a connection can stay open and silent, e.g. behind a broken middlebox).
    public func listen(
        channel: String, check: Duration = .seconds(5), isDeaf: @escaping @Sendable () -> Bool = { false },
        consume: @escaping @Sendable (String) async -> Void, onListening: @escaping @Sendable () -> Void
    ) async throws {
        guard case .postgres(let pool) = self.backend else {
            throw DatabaseSetupError("LISTEN/NOTIFY needs PostgreSQL.")
        }
        let deaf = NIOLockedValueBox(false)
        do {
            try await pool.withConnection(long: true) { connection in
                try await connection.listen(on: channel) { notifications in
                    onListening()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            while !Task.isCancelled {
                                try await Task.sleep(for: check)
                                guard isDeaf() else { continue }
                                deaf.withLockedValue { $0 = true }
                                try? await connection.close()
                                return
                            }
                        }
                        for try await notification in notifications {
                            await consume(notification.payload)
                        }
                        group.cancelAll()
                    }
                }
            }
        } catch where deaf.withLockedValue({ $0 }) {
            throw DeafListener()
        }
        if deaf.withLockedValue({ $0 }) { throw DeafListener() }
    }

    /// True when a trivial query succeeds (`GET /ready`).
    public func ping() async -> Bool {
        if case .postgres(let pool) = self.backend, !pool.isAvailable { return false }
        do {
            return try await self.read { sql in
                try await sql.raw("SELECT 1 AS ok").first() != nil
            }
        } catch {
            self.logger.warning("Database ping failed", metadata: ["error": "\(String(reflecting: error))"])
            return false
        }
    }
}

/// A LISTEN connection that stayed open but stopped delivering notifications; it was closed.
public struct DeafListener: Error, CustomStringConvertible {
    public var description: String { "the listening connection delivered nothing since a message was published; it was closed" }
}

/// Parses PostgreSQL connection URLs into the pool's configuration and the probe's (one connection outside the pool).
enum PostgresURL {
    static func parse(_ url: String) throws -> PostgresClient.Configuration {
        try self.endpoint(url).client
    }

    struct Endpoint {
        var client: PostgresClient.Configuration
        let host: String
        let port: Int
        let username: String
        let password: String?
        let database: String?
        let tls: TLSConfiguration?
        let tlsRequired: Bool

        /// A single-connection configuration with the same server, credentials, TLS and startup parameters.
        func probe() throws -> PostgresConnection.Configuration {
            let mode: PostgresConnection.Configuration.TLS
            if let tls {
                let context = try NIOSSLContext(configuration: tls)
                mode = self.tlsRequired ? .require(context) : .prefer(context)
            } else {
                mode = .disable
            }
            var configuration = PostgresConnection.Configuration(
                host: self.host, port: self.port, username: self.username, password: self.password, database: self.database, tls: mode
            )
            configuration.options.additionalStartupParameters = self.client.options.additionalStartupParameters
            return configuration
        }
    }

    static func endpoint(_ url: String) throws -> Endpoint {
        guard let components = URLComponents(string: url),
              let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql",
              let host = components.host, !host.isEmpty
        else {
            throw DatabaseSetupError("DATABASE_URL must look like postgres://user:password@host:5432/database (got a value that does not parse).")
        }
        let username = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = components.password.flatMap { $0.removingPercentEncoding }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let database = path.isEmpty ? nil : path
        let port = components.port ?? 5432
        let sslmode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch sslmode {
        case "disable": tls = .disable
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: tls = .prefer(.makeClientConfiguration())
        }
        return Endpoint(
            client: PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls),
            host: host, port: port, username: username, password: password, database: database,
            tls: sslmode == "disable" ? nil : .makeClientConfiguration(),
            tlsRequired: ["require", "verify-ca", "verify-full"].contains(sslmode)
        )
    }
}

/// A configuration or start-up problem with the database, with a message for the operator.
public struct DatabaseSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
