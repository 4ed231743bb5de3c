import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import Prometheus

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

    /// Prometheus text exposition format.
    func render() -> String {
        self.registry.emitToString()
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
