import Foundation
import Ingest
public import Prometheus

/// The service's Prometheus metrics, in its own registry (a library never bootstraps the global
/// metrics system; `intake serve` bootstraps swift-metrics with this registry, so Hummingbird's
/// and any other library's metrics land in the same `/metrics`).
public struct IntakeMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(120),
    ]

    /// Metric names with their help text (a descriptor is not Sendable, so each is made on use).
    private enum Names {
        static var requests: MetricNameDescriptor { MetricNameDescriptor(namespace: "intake", metricName: "requests", unitName: "total", helpText: "HTTP requests answered, by method and status.") }
        static var requestDuration: MetricNameDescriptor {
            MetricNameDescriptor(namespace: "intake", metricName: "request_duration", unitName: "seconds", helpText: "Time from request head to response, by method.")
        }
        static var uploads: MetricNameDescriptor { MetricNameDescriptor(namespace: "intake", metricName: "uploads", unitName: "total", helpText: "POST /uploads outcomes: created or refused.") }
        static var uploadBytes: MetricNameDescriptor { MetricNameDescriptor(namespace: "intake", metricName: "upload_bytes", unitName: "total", helpText: "File bytes of created uploads.") }
        static var documents: MetricNameDescriptor { MetricNameDescriptor(namespace: "intake", metricName: "documents", unitName: "total", helpText: "Documents created.") }
        static var ingestDuration: MetricNameDescriptor {
            MetricNameDescriptor(namespace: "intake", metricName: "ingest_duration", unitName: "seconds", helpText: "Time to stream, store and record one upload.")
        }
        static var errors: MetricNameDescriptor { MetricNameDescriptor(namespace: "intake", metricName: "errors", unitName: "total", helpText: "Refused uploads, by error code.") }
        static var queueDepth: MetricNameDescriptor { MetricNameDescriptor(namespace: "intake", metricName: "queue_depth", unitName: "", helpText: "Documents in each queue state.") }
    }

    /// One answered request.
    func request(method: String, status: Int, duration: Duration) {
        registry.makeCounter(descriptor: Names.requests, labels: [("method", method), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: Names.requestDuration, labels: [("method", method)], buckets: Self.durationBuckets)
            .record(duration)
    }

    /// One upload recorded.
    func uploadCreated(bytes: Int, documents: Int, duration: Duration) {
        registry.makeCounter(descriptor: Names.uploads, labels: [("outcome", "created")]).increment()
        registry.makeCounter(descriptor: Names.uploadBytes).increment(by: Int64(bytes))
        registry.makeCounter(descriptor: Names.documents).increment(by: Int64(documents))
        registry.makeDurationHistogram(descriptor: Names.ingestDuration, buckets: Self.durationBuckets).record(duration)
    }

    /// One upload refused, by error code.
    func uploadFailed(code: String) {
        registry.makeCounter(descriptor: Names.uploads, labels: [("outcome", "refused")]).increment()
        registry.makeCounter(descriptor: Names.errors, labels: [("code", code)]).increment()
    }

    /// The registry's text, after the queue depth by state is read from the catalog.
    func exposition(database: any Catalog) async throws -> [UInt8] {
        let depths = try await database.statusCounts()
        for status in DocumentStatus.allCases {
            registry.makeGauge(descriptor: Names.queueDepth, labels: [("state", status.rawValue)]).set(Int64(depths[status] ?? 0))
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
