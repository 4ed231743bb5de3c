import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import SOSDomain

/// Bounds on every wait for the database, so that a lost PostgreSQL turns into a prompt 503 instead of a hang.
public struct DatabaseTimeouts: Sendable, Equatable {
    /// Longest wait for a pooled connection (`SOS_DB_ACQUIRE_TIMEOUT_MS`).
    public var acquire: Duration = .seconds(2)
    /// Longest a statement may run, on the server (`statement_timeout`) and on the client (`SOS_DB_STATEMENT_TIMEOUT_MS`).
    public var statement: Duration = .seconds(10)
    /// How often an unreachable database is probed while requests are refused.
    public var probeInterval: Duration = .milliseconds(500)

    public init() {}

    public init(acquire: Duration, statement: Duration) {
        self.acquire = acquire
        self.statement = statement
    }

    /// The `Retry-After` given to clients while the database is unreachable.
    var retryAfterSeconds: Int { max(1, Int(self.probeInterval.components.seconds) + 1) }
}

extension Duration {
    /// Whole milliseconds (rounded down).
    var milliseconds: Int64 {
        self.components.seconds * 1000 + self.components.attoseconds / 1_000_000_000_000_000
    }
}

/// What operators watch about the pool (`/metrics`).
public struct DatabasePoolStatistics: Sendable, Equatable {
    public var inUse = 0
    public var waiting = 0
    public var failedAcquisitions = 0
    public var available = true
    /// Times a new pool replaced one that had lost the server.
    public var reconnects = 0
}

/// A `PostgresClient` with bounded waits and a circuit: when the server is unreachable, requests fail at once with
/// `DomainError(.unavailable)` (503 and `Retry-After`), a probe checks it every `probeInterval`, and when it answers
/// again a fresh pool replaces the one that lost it (whose reconnect back-off can grow to a minute), so service returns
/// within a probe interval of the server's return.
final class PostgresPool: Sendable {
    private struct State {
        var generation: Generation
        var available = true
        var probing = false
        var statistics = DatabasePoolStatistics()
    }

    /// One `PostgresClient` and the signal that retires it.
    final class Generation: Sendable {
        let client: PostgresClient
        let retired: AsyncStream<Void>
        let retire: AsyncStream<Void>.Continuation

        init(_ configuration: PostgresClient.Configuration, logger: Logger) {
            self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
            (self.retired, self.retire) = AsyncStream<Void>.makeStream()
        }
    }

    private let configuration: PostgresClient.Configuration
    private let probeConfiguration: PostgresConnection.Configuration
    let timeouts: DatabaseTimeouts
    private let logger: Logger
    private let state: NIOLockedValueBox<State>
    /// New generations for `run()` to run.
    private let started: AsyncStream<Generation>
    private let start: AsyncStream<Generation>.Continuation

    init(endpoint: PostgresURL.Endpoint, timeouts: DatabaseTimeouts, logger: Logger) throws {
        var endpoint = endpoint
        endpoint.client.options.additionalStartupParameters.append(("statement_timeout", String(timeouts.statement.milliseconds)))
        endpoint.client.options.connectTimeout = min(endpoint.client.options.connectTimeout, timeouts.acquire)
        let configuration = endpoint.client
        self.configuration = configuration
        var probe = try endpoint.probe()
        probe.options.connectTimeout = TimeAmount.milliseconds(Int64(timeouts.acquire.milliseconds))
        self.probeConfiguration = probe
        self.timeouts = timeouts
        self.logger = logger
        let first = Generation(configuration, logger: logger)
        self.state = NIOLockedValueBox(State(generation: first))
        (self.started, self.start) = AsyncStream<Generation>.makeStream()
        self.start.yield(first)
    }

    var statistics: DatabasePoolStatistics {
        self.state.withLockedValue { state in
            var statistics = state.statistics
            statistics.available = state.available
            return statistics
        }
    }

    var isAvailable: Bool {
        self.state.withLockedValue { $0.available }
    }

    /// Runs every generation until it is retired, until the task is cancelled.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await generation in self.started {
                group.addTask {
                    await withDiscardingTaskGroup { inner in
                        inner.addTask { await generation.client.run() }
                        for await _ in generation.retired {}
                        inner.cancelAll()
                    }
                }
            }
            group.cancelAll()
        }
    }

    /// Runs `body` on a pooled connection within the pool's bounds.
    ///
    /// Throws `DomainError(.unavailable)` at once while the server is known to be unreachable, after `acquire` when no
    /// connection comes, and when the connection fails or a statement outlives `statement` (the connection is closed).
    /// `long` (the broker's LISTEN connection, migrations) lifts the statement bound.
    func withConnection<T: Sendable>(long: Bool = false, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let generation = try self.state.withLockedValue { state -> Generation in
            guard state.available else {
                state.statistics.failedAcquisitions += 1
                throw self.unavailableError()
            }
            state.statistics.waiting += 1
            return state.generation
        }
        // the connection and when it was handed out: the statement bound runs from there
        let leased = NIOLockedValueBox<(PostgresConnection, ContinuousClock.Instant)?>(nil)
        defer {
            let acquired = leased.withLockedValue { $0 != nil }
            self.state.withLockedValue { state in
                if acquired { state.statistics.inUse -= 1 } else { state.statistics.waiting -= 1 }
            }
        }
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await generation.client.withConnection { connection in
                        leased.withLockedValue { $0 = (connection, .now) }
                        self.state.withLockedValue { state in
                            state.statistics.waiting -= 1
                            state.statistics.inUse += 1
                        }
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: self.timeouts.acquire)
                    guard let (connection, since) = leased.withLockedValue({ $0 }) else { throw Deadline.acquire }
                    if long { try await Task.sleep(for: .seconds(86_400 * 365)) }
                    try await Task.sleep(until: since + self.timeouts.statement + .seconds(1), clock: .continuous)
                    self.logger.warning("A database call outlived the statement bound; closing its connection",
                                        metadata: ["bound_ms": "\(self.timeouts.statement.milliseconds)"])
                    try? await connection.close()
                    throw Deadline.statement
                }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let value = result { return value }
                }
                throw Deadline.acquire
            }
        } catch {
            switch Self.classify(error) {
            case nil:
                throw error
            case .busy:
                throw self.unavailableError(busy: true)
            case .closing:
                throw self.unavailableError()
            case .lost(let reason):
                self.logger.debug("Database call failed", metadata: ["error": "\(String(reflecting: error))"])
                self.state.withLockedValue { $0.statistics.failedAcquisitions += 1 }
                self.suspect(reason)
                throw self.unavailableError()
            }
        }
    }

    enum Failure: Equatable {
        /// The server may be gone: probe it.
        case lost(String)
        /// The server is there but a statement ran out of time (statement_timeout): 503 for this request only.
        case busy
        /// This pool is shutting down (the server stops, or an old pool after a reconnect): 503, nothing to probe.
        case closing
    }

    /// What a failure says about the server: nil for a failed statement (a constraint, a bad query…).
    static func classify(_ error: any Error) -> Failure? {
        switch error {
        case let deadline as Deadline:
            return deadline == .acquire ? .lost("no connection within the acquire timeout") : .lost("a statement outlived the statement timeout")
        case _ where String(describing: type(of: error)) == "ConnectionPoolError":
            // the pool's own errors; their module is not public. A cancelled request or a pool shutting down says
            // nothing about the server; a tripped circuit breaker does.
            let text = String(describing: error)
            if text.contains("requestCancelled") { return nil }
            if text.contains("poolShutdown") { return .closing }
            return .lost("the pool could not connect")
        case is ChannelError, is NIOConnectionError, is IOError:
            return .lost("connection error")
        case let error as PSQLError:
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
                return .lost("connection lost (\(error.code))")
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                if state == "57014" { return .busy }
                // 08: connection exception; 57P01-03: admin shutdown, crash shutdown, cannot connect now; 53300: too many connections
                if state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300" { return .lost("server refused (\(state))") }
                return nil
            default:
                return nil
            }
        default:
            return nil
        }
    }

    private func unavailableError(busy: Bool = false) -> DomainError {
        let seconds = self.timeouts.retryAfterSeconds
        let what = busy ? "The database is overloaded (a statement ran out of time)." : "The database is not reachable right now."
        return DomainError(
            .unavailable, message: "Service unavailable",
            details: "\(what) Retry in \(seconds) s; a POST retried with the same Idempotency-Key (or client_msg_id) is not applied twice.",
            retryAfter: seconds
        )
    }

    /// Starts the probe (once) after a failure that may mean the server is gone.
    private func suspect(_ reason: String) {
        let startProbe = self.state.withLockedValue { state -> Bool in
            guard !state.probing else { return false }
            state.probing = true
            return true
        }
        guard startProbe else { return }
        self.logger.warning("Database connection failed; probing it", metadata: ["reason": "\(reason)"])
        Task { await self.probe() }
    }

    /// Checks the server on a connection of its own every `probeInterval`. While it fails requests are refused at once;
    /// when it answers after having failed, a new pool replaces the old one and requests are served again.
    private func probe() async {
        var failures = 0
        while !Task.isCancelled {
            if await self.answers() {
                let (old, fresh) = self.state.withLockedValue { state -> (Generation, Generation?) in
                    let old = state.generation
                    var fresh: Generation? = nil
                    if failures > 0 {
                        fresh = Generation(self.configuration, logger: self.logger)
                        state.generation = fresh!
                        state.statistics.reconnects += 1
                    }
                    state.available = true
                    state.probing = false
                    return (old, fresh)
                }
                if let fresh {
                    self.start.yield(fresh)
                    self.logger.notice("Database reachable again; serving requests", metadata: ["after_failed_probes": "\(failures)"])
                    // leases already handed out by the old pool get the statement bound to finish
                    Task {
                        try? await Task.sleep(for: self.timeouts.statement + .seconds(1))
                        old.retire.finish()
                    }
                }
                return
            }
            failures += 1
            if failures == 1 {
                self.state.withLockedValue { $0.available = false }
                self.logger.error("Database unreachable; answering 503 until it returns")
            }
            try? await Task.sleep(for: self.timeouts.probeInterval)
        }
    }

    /// True when a fresh connection (outside the pool) runs `SELECT 1` within the acquire timeout.
    private func answers() async -> Bool {
        let configuration = self.probeConfiguration
        let logger = self.logger
        let timeout = self.timeouts.acquire
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
                    let answered = (try? await connection.query("SELECT 1", logger: logger).collect()) != nil
                    try? await connection.close()
                    return answered
                } catch {
                    return false
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Stops every generation (graceful shutdown).
    func shutdown() {
        self.start.finish()
    }

    enum Deadline: Error, Equatable {
        case acquire
        case statement
    }
}
