import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import Prometheus
import SOSDomain
import SOSRealtime
import SOSStorage

/// Request counts and latency histograms by method, route and status, exposed at `GET /metrics`.
final class PrometheusMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private struct Key: Hashable {
        let method: String
        let route: String
        let status: Int
    }
    private struct Instruments {
        let counter: Counter
        let histogram: DurationHistogram
    }
    private let instruments = NIOLockedValueBox<[Key: Instruments]>([:])
    static let buckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
    ]

    func record(method: String, route: String, status: Int, duration: Duration) {
        let key = Key(method: method, route: route, status: status)
        let instruments = self.instruments.withLockedValue { cache in
            if let found = cache[key] { return found }
            let labels = [("method", method), ("route", route), ("status", String(status))]
            let made = Instruments(
                counter: self.registry.makeCounter(
                    descriptor: MetricNameDescriptor(namespace: "sos", metricName: "http_requests", unitName: "total", helpText: "HTTP requests answered"),
                    labels: labels
                ),
                histogram: self.registry.makeDurationHistogram(
                    descriptor: MetricNameDescriptor(namespace: "sos", metricName: "http_request_duration", unitName: "seconds", helpText: "Time to answer HTTP requests"),
                    labels: labels, buckets: Self.buckets
                )
            )
            cache[key] = made
            return made
        }
        instruments.counter.increment()
        instruments.histogram.record(duration)
    }

    private let jobFailures = NIOLockedValueBox<[String: Counter]>([:])

    /// A background job's round failed (`sos_background_job_failures_total{job}`).
    func jobFailed(_ job: String) {
        let counter = self.jobFailures.withLockedValue { cache in
            if let found = cache[job] { return found }
            let made = self.registry.makeCounter(
                descriptor: MetricNameDescriptor(namespace: "sos", metricName: "background_job_failures", unitName: "total", helpText: "Failed rounds of a background job"),
                labels: [("job", job)]
            )
            cache[job] = made
            return made
        }
        counter.increment()
    }

    /// Prometheus text exposition format.
    func render() -> String {
        self.registry.emitToString()
    }
}

/// The numbers an operator watches during faults, read when `/metrics` is scraped: the hub's sockets and messages, the
/// database pool, the outbox backlog. Each is labelled with the node, since several nodes share a dashboard.
struct OperationalGauges: Sendable {
    let hub: Hub
    let database: Database
    let outbox: any OutboxRepository

    func render(now: Date = Date()) async -> String {
        var text = ""
        let node = [("node", self.hub.nodeId)]
        func add(_ name: String, _ type: String, _ help: String, _ value: Double, _ labels: [(String, String)]) {
            let rendered = labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",")
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name){\(rendered)} \(value)\n"
        }
        let hub = self.hub.statistics
        add("sos_hub_connections", "gauge", "Authenticated WebSocket connections", Double(hub.connections), node)
        add("sos_hub_pending_authentication", "gauge", "WebSockets waiting to authenticate", Double(hub.pendingAuthentication), node)
        add("sos_hub_messages_in_total", "counter", "Text messages received from clients", Double(hub.messagesIn), node)
        add("sos_hub_messages_out_total", "counter", "Frames written to clients", Double(hub.messagesOut), node)
        add("sos_hub_slow_consumers_closed_total", "counter", "Sockets closed with 4008 (their queue filled)", Double(hub.slowConsumersClosed), node)
        add("sos_hub_resume_gaps_total", "counter", "resume answered with resume_gap (the client refetches)", Double(hub.resumeGaps), node)
        add("sos_hub_broker_gaps_total", "counter", "broker listener lost and back: sockets were sent resume_gap to refetch", Double(hub.brokerGaps), node)
        if let pool = self.database.poolStatistics {
            add("sos_db_pool_in_use", "gauge", "Pooled PostgreSQL connections in use", Double(pool.inUse), node)
            add("sos_db_pool_waiting", "gauge", "Calls waiting for a pooled connection", Double(pool.waiting), node)
            add("sos_db_pool_failed_acquisitions_total", "counter", "Calls refused or failed for want of a connection", Double(pool.failedAcquisitions), node)
            add("sos_db_available", "gauge", "1 while the database answers, 0 while requests are refused with 503", pool.available ? 1 : 0, node)
            add("sos_db_reconnects_total", "counter", "Fresh pools started after the database came back", Double(pool.reconnects), node)
        }
        if let backlog = try? await self.outbox.backlog() {
            add("sos_outbox_pending", "gauge", "Outbox messages waiting to be sent", Double(backlog.pending), node)
            let age = backlog.oldestCreatedAt.map { max(0, now.timeIntervalSince($0)) } ?? 0
            add("sos_outbox_oldest_pending_age_seconds", "gauge", "Age of the oldest message waiting to be sent", age, node)
        }
        return text
    }
}

/// Records every answered request, errors included (it sits outside `ErrorMiddleware`).
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let metrics: PrometheusMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let route = context.endpointPath ?? "unmatched"
        self.metrics.record(method: request.method.rawValue, route: route, status: Int(response.status.code), duration: ContinuousClock.now - start)
        return response
    }
}
